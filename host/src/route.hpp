// A live route: picks a target for each request by its strategy, moves on to the next target
// when one fails before any output reached the caller, and keeps the per-target state that
// decides (cooldowns, limits, in-flight counts, time-to-first-token EWMA). The host keeps one
// Route per route provider; a swap or reload makes a new one, and requests running on the old
// one finish there (they hold it by shared_ptr).
//
// The route never names a plugin: it hands each attempt to a Runner (Host: the target provider's
// instance), so its policy is tested with in-process fakes.
#pragma once

#include "route_config.hpp"

#include <llmhost/host.hpp>

#include <chrono>
#include <deque>
#include <mutex>

namespace llmhost::detail {

// What a failure means for the route.
enum class RouteDisposition {
    next,             // the target's trouble (rate limit, network, timeout, 5xx, OOM): try another
    context_overflow, // the prompt does not fit this target: try one with a larger context
    give_up           // the caller's to fix (bad request, auth, unsupported...): returned at once
};
RouteDisposition route_disposition(const HostError &e);

class Route {
public:
    using Clock = std::chrono::steady_clock;
    using Runner = std::function<GenerateResult(
        const RouteTarget &target, const GenerateRequest &request, const TokenCallback &on_token)>;

    Route(std::string name, RouteConfig config);

    // Runs the request on the targets in strategy order. Throws the error of the target that
    // failed after output reached the caller, a give_up error at once, the last error when every
    // target failed, or rate_limited (429, Retry-After = the soonest target free again) when
    // some target was skipped for its cooldown or limits.
    GenerateResult generate(const GenerateRequest &request, const TokenCallback &on_token,
                            const Runner &run);

    std::vector<RouteTargetStatus> status() const;
    const std::string &name() const { return name_; }
    const RouteConfig &config() const { return config_; }

private:
    struct TargetState {
        uint32_t in_flight = 0;
        uint64_t started = 0;                   // admitted requests (least_busy's tie breaker)
        std::deque<Clock::time_point> failures; // within the cooldown window
        Clock::time_point cooldown_until{};
        std::deque<Clock::time_point> starts;                      // rpm: last minute
        std::deque<std::pair<Clock::time_point, uint64_t>> tokens; // tpm: last minute
        uint64_t tokens_in_window = 0;
        double ewma_ms = -1;
        uint64_t ok = 0, failed = 0, skipped_cooldown = 0, skipped_limit = 0;
    };

    std::vector<size_t> order();
    // Admits one request on target i, or says how long until it could (seconds > 0).
    double admit(size_t i, Clock::time_point now);
    void finish(size_t i, Clock::time_point now, const GenerateResult *ok, double ttft_ms,
                const HostError *failure, bool counts_for_cooldown);

    std::string name_;
    RouteConfig config_;
    mutable std::mutex mu_;
    std::vector<TargetState> state_;
    uint64_t turn_ = 0; // round_robin position; tie breaker of the other strategies
};

} // namespace llmhost::detail
