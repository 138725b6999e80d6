#include "route.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace llmhost::detail {

namespace {

using Clock = Route::Clock;
constexpr auto kMinute = std::chrono::seconds(60);
// A Retry-After beyond this is not obeyed longer: a hostile or broken upstream must not take a
// target out for days.
constexpr double kMaxRetryAfterS = 3600;
// Weight of the newest time-to-first-token sample: a few requests move the estimate.
constexpr double kEwmaAlpha = 0.3;

double seconds_until(Clock::time_point t, Clock::time_point now) {
    return std::chrono::duration<double>(t - now).count();
}

Clock::time_point after(Clock::time_point now, double seconds) {
    return now +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

bool is_output(llmh_event_type t) {
    return t == LLMH_EVENT_TEXT || t == LLMH_EVENT_REASONING || t == LLMH_EVENT_TOOL_CALL_START ||
           t == LLMH_EVENT_TOOL_CALL_ARGS;
}

} // namespace

RouteDisposition route_disposition(const HostError &e) {
    switch (e.code()) {
    case LLMH_ERR_INVALID_ARGUMENT:
    case LLMH_ERR_AUTH_REQUIRED:
    case LLMH_ERR_AUTH_INVALID:
    case LLMH_ERR_GATED:
    case LLMH_ERR_NOT_FOUND:
    case LLMH_ERR_UNSUPPORTED:
    case LLMH_ERR_CANCELLED:
        // The same codes from a provider that cannot be created are its configuration's fault,
        // marked 5xx by the host (provider_instance.cpp): that target is broken, try another.
        return e.http_status() >= 500 && e.code() != LLMH_ERR_CANCELLED ? RouteDisposition::next
                                                                        : RouteDisposition::give_up;
    case LLMH_ERR_CONTEXT_OVERFLOW:
        return e.http_status() >= 500 ? RouteDisposition::next : RouteDisposition::context_overflow;
    default:
        // rate_limited, network (5xx, dropped connections), timeout, out_of_memory, internal,
        // abi_mismatch, and the host's plugin / no_provider (a target that cannot be loaded).
        return RouteDisposition::next;
    }
}

Route::Route(std::string name, RouteConfig config)
    : name_(std::move(name)), config_(std::move(config)), state_(config_.targets.size()) {}

std::vector<size_t> Route::order() {
    const size_t n = config_.targets.size();
    std::vector<size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    if (config_.strategy == RouteStrategy::fallback) return idx;
    // Every other strategy starts its scan at a rotating position, so equal targets share the
    // load instead of the first one taking every tie.
    std::rotate(idx.begin(), idx.begin() + static_cast<long>(turn_++ % n), idx.end());
    if (config_.strategy == RouteStrategy::least_busy)
        std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
            // A tie goes to the target that has started fewer requests: rotation alone gave
            // the first-listed target ~58 % of a 16-client load in tests/server.
            if (state_[a].in_flight != state_[b].in_flight)
                return state_[a].in_flight < state_[b].in_flight;
            return state_[a].started < state_[b].started;
        });
    else if (config_.strategy == RouteStrategy::latency)
        std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
            // An untried target first (its latency is unknown), then the lowest estimate; an
            // untried target whose first request is still running comes last, so a burst does
            // not pile onto a target before anything is known about it.
            auto group = [&](size_t i) {
                if (state_[i].ewma_ms >= 0) return 1;
                return state_[i].in_flight == 0 ? 0 : 2;
            };
            const int ga = group(a), gb = group(b);
            if (ga != gb) return ga < gb;
            return ga == 1 && state_[a].ewma_ms < state_[b].ewma_ms;
        });
    return idx;
}

double Route::admit(size_t i, Clock::time_point now) {
    TargetState &s = state_[i];
    const RouteTarget &t = config_.targets[i];
    if (s.cooldown_until > now) {
        ++s.skipped_cooldown;
        return seconds_until(s.cooldown_until, now);
    }
    while (!s.starts.empty() && s.starts.front() + kMinute <= now) s.starts.pop_front();
    while (!s.tokens.empty() && s.tokens.front().first + kMinute <= now) {
        s.tokens_in_window -= s.tokens.front().second;
        s.tokens.pop_front();
    }
    double wait = 0;
    if (t.max_concurrent && s.in_flight >= t.max_concurrent) wait = 1; // a request ends soon
    if (t.rpm && s.starts.size() >= t.rpm)
        wait = std::max(wait, seconds_until(s.starts.front() + kMinute, now));
    if (t.tpm && s.tokens_in_window >= t.tpm)
        wait = std::max(wait, seconds_until(s.tokens.front().first + kMinute, now));
    if (wait > 0) {
        ++s.skipped_limit;
        return wait;
    }
    ++s.in_flight;
    ++s.started;
    if (t.rpm) s.starts.push_back(now);
    return 0;
}

void Route::finish(size_t i, Clock::time_point now, const GenerateResult *ok, double ttft_ms,
                   const HostError *failure, bool counts_for_cooldown) {
    std::lock_guard lock(mu_);
    TargetState &s = state_[i];
    const RouteTarget &t = config_.targets[i];
    --s.in_flight;
    if (ok) {
        ++s.ok;
        if (t.tpm) {
            const uint64_t n = uint64_t(ok->prompt_tokens) + ok->completion_tokens;
            s.tokens.emplace_back(now, n);
            s.tokens_in_window += n;
        }
        if (ttft_ms >= 0)
            s.ewma_ms =
                s.ewma_ms < 0 ? ttft_ms : kEwmaAlpha * ttft_ms + (1 - kEwmaAlpha) * s.ewma_ms;
        return;
    }
    ++s.failed;
    if (!failure || !counts_for_cooldown) return;
    const auto &cd = config_.cooldown;
    while (!s.failures.empty() && seconds_until(now, s.failures.front()) > cd.window_s)
        s.failures.pop_front();
    s.failures.push_back(now);
    if (s.failures.size() >= cd.failures) {
        s.cooldown_until = std::max(s.cooldown_until, after(now, cd.seconds));
        s.failures.clear();
    }
    if (failure->retry_after_s() > 0) // the upstream said when: at least that long
        s.cooldown_until = std::max(
            s.cooldown_until, after(now, std::min(failure->retry_after_s(), kMaxRetryAfterS)));
}

GenerateResult Route::generate(const GenerateRequest &request, const TokenCallback &on_token,
                               const Runner &run) {
    // The order and the first admission are taken under one lock, so concurrent requests see
    // each other's choice (least_busy would otherwise send a burst to the same target).
    std::unique_lock lock(mu_);
    const std::vector<size_t> candidates = order();
    std::optional<HostError> last;
    double soonest_free = std::numeric_limits<double>::infinity();
    bool overflowed = false;
    bool attempted = false;
    uint64_t refused_context = 0; // the largest declared context that was too small

    for (size_t i : candidates) {
        const RouteTarget &t = config_.targets[i];
        // After a context_overflow only a target that may be larger is worth a try: one with a
        // declared context above every refusing one, or one whose context is not declared.
        if (overflowed && t.context && t.context <= refused_context) continue;
        // Between attempts the caller may have gone away (the provider checks it during one).
        if (attempted && request.should_cancel && request.should_cancel()) {
            GenerateResult cancelled;
            cancelled.provider = name_;
            cancelled.finish_reason = LLMH_FINISH_CANCELLED;
            return cancelled;
        }
        const auto start = Clock::now();
        if (!lock.owns_lock()) lock.lock();
        const double wait = admit(i, start);
        lock.unlock();
        if (wait > 0) {
            soonest_free = std::min(soonest_free, wait);
            continue;
        }
        attempted = true;
        // Whether anything reached the caller: from then on a failure is reported, never hidden
        // behind another target's answer. Nothing is buffered.
        bool delivered = false;
        double first_ms = -1;
        auto mark = [&] {
            if (delivered) return;
            delivered = true;
            first_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        };
        GenerateRequest attempt = request;
        if (!t.model.empty()) attempt.model = t.model;
        attempt.on_target = nullptr; // announced here, once per attempt
        attempt.on_event = [&](const Event &e) {
            if (is_output(e.type)) mark();
            return request.on_event ? request.on_event(e) : true;
        };
        if (request.on_logprob)
            attempt.on_logprob = [&](const TokenLogprob &c, const std::vector<TokenLogprob> &top) {
                mark(); // a token's logprob goes out before its text
                return request.on_logprob(c, top);
            };
        TokenCallback tokens;
        if (on_token)
            tokens = [&](std::string_view piece, uint32_t n) {
                mark();
                return on_token(piece, n);
            };
        try {
            if (request.on_target) request.on_target(t.label());
            GenerateResult r = run(t, attempt, tokens);
            const double ttft = first_ms >= 0 ? first_ms : r.total_ms;
            finish(i, Clock::now(), &r, ttft, nullptr, false);
            r.provider = name_;
            r.served_by = t.label();
            return r;
        } catch (const HostError &e) {
            const RouteDisposition d = route_disposition(e);
            finish(i, Clock::now(), nullptr, -1, &e, d == RouteDisposition::next);
            if (delivered || d == RouteDisposition::give_up) throw;
            if (d == RouteDisposition::context_overflow) {
                overflowed = true;
                refused_context = std::max(refused_context, t.context);
            }
            last = e;
        } catch (...) {
            finish(i, Clock::now(), nullptr, -1, nullptr, false);
            throw;
        }
    }
    if (std::isfinite(soonest_free)) {
        // Some target was skipped for its cooldown or limits: the caller may retry when the
        // first of them is free again, whatever the others answered.
        std::string msg =
            "route '" + name_ + "': every target is cooling down, at its limits, or failed";
        if (last) msg += std::string("; last error: ") + last->what();
        throw HostError(LLMH_ERR_RATE_LIMITED, msg,
                        "retry after the time given; the route's targets, limits and cooldown are "
                        "in the configuration (docs/configuration.md, Routes)",
                        std::nullopt, std::max(soonest_free, 0.001), 429);
    }
    if (last) throw *last;
    // Only reachable after a context_overflow left no larger target.
    throw HostError(LLMH_ERR_CONTEXT_OVERFLOW,
                    "route '" + name_ + "': no target has a context large enough",
                    "shorten the prompt or lower max_tokens");
}

std::vector<RouteTargetStatus> Route::status() const {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    std::vector<RouteTargetStatus> out;
    for (size_t i = 0; i < state_.size(); ++i) {
        const TargetState &s = state_[i];
        RouteTargetStatus r;
        r.route = name_;
        r.target = config_.targets[i].label();
        r.ok = s.ok;
        r.failed = s.failed;
        r.skipped_cooldown = s.skipped_cooldown;
        r.skipped_limit = s.skipped_limit;
        r.cooling_down = s.cooldown_until > now;
        r.cooldown_remaining_s = r.cooling_down ? seconds_until(s.cooldown_until, now) : 0;
        r.in_flight = s.in_flight;
        r.ttft_ewma_ms = s.ewma_ms;
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace llmhost::detail
