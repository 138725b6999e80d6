// Fault rules for tests: which request gets which fault. The server applies them (server.cpp).
#include <llmhost/mirror/server.hpp>

#include <fnmatch.h>

#include <cstdio>
#include <stdexcept>

namespace llmhost::mirror {
namespace {
bool matches(const std::string &glob, std::string_view path) {
    std::string p(path);
    return fnmatch(glob.c_str(), p.c_str(), 0) == 0;  // no FNM_PATHNAME: '*' crosses '/'
}
} // namespace

void FaultInjector::add(Rule rule) {
    if (rule.glob.empty()) throw std::invalid_argument("fault glob is empty: use \"*\" to match every path");
    std::lock_guard lock(mutex_);
    rules_.push_back(std::move(rule));
}

void FaultInjector::drop_after_bytes(std::string glob, std::uint64_t bytes, int times) {
    add({Kind::drop, std::move(glob), bytes, times});
}
void FaultInjector::truncate_body(std::string glob, std::uint64_t bytes, int times) {
    add({Kind::truncate, std::move(glob), bytes, times});
}
void FaultInjector::error_burst(std::string glob, int count, unsigned status) {
    if (status < 500 || status > 599) throw std::invalid_argument("error_burst status must be a 5xx code");
    add({Kind::status, std::move(glob), status, count});
}
void FaultInjector::rate_limit(std::string glob, int count, unsigned retry_after_seconds) {
    add({Kind::rate_limit, std::move(glob), retry_after_seconds, count});
}
void FaultInjector::slow_body(std::string glob, std::uint64_t bytes_per_second, int times) {
    if (bytes_per_second == 0) throw std::invalid_argument("slow_body needs bytes_per_second > 0");
    add({Kind::slow, std::move(glob), bytes_per_second, times});
}
void FaultInjector::wrong_sha(std::string glob, int times) { add({Kind::corrupt, std::move(glob), 0, times}); }

void FaultInjector::clear() {
    std::lock_guard lock(mutex_);
    rules_.clear();
}

FaultPlan FaultInjector::take_status_fault(std::string_view path) {
    std::lock_guard lock(mutex_);
    FaultPlan plan;
    for (Rule &rule : rules_) {
        if ((rule.kind != Kind::status && rule.kind != Kind::rate_limit) || rule.remaining == 0 ||
            !matches(rule.glob, path))
            continue;
        if (rule.remaining > 0) --rule.remaining;
        plan.status = rule.kind == Kind::status ? static_cast<unsigned>(rule.amount) : 429;
        if (rule.kind == Kind::rate_limit) plan.retry_after_seconds = static_cast<unsigned>(rule.amount);
        break;
    }
    return plan;
}

FaultPlan FaultInjector::take_body_faults(std::string_view path) {
    std::lock_guard lock(mutex_);
    FaultPlan plan;
    bool seen[6] = {};
    for (Rule &rule : rules_) {
        auto k = static_cast<int>(rule.kind);
        if (rule.kind == Kind::status || rule.kind == Kind::rate_limit || seen[k] || rule.remaining == 0 ||
            !matches(rule.glob, path))
            continue;
        seen[k] = true;  // the first matching rule of each kind applies
        if (rule.remaining > 0) --rule.remaining;
        switch (rule.kind) {
        case Kind::drop: plan.drop_after = rule.amount; break;
        case Kind::truncate: plan.truncate_to = rule.amount; break;
        case Kind::slow: plan.bytes_per_second = rule.amount; break;
        case Kind::corrupt: plan.corrupt = true; break;
        default: break;
        }
    }
    return plan;
}

std::string format_request_log_line(const RequestRecord &r) {
    char timing[64];
    std::snprintf(timing, sizeof timing, "%.1f ms", r.milliseconds);
    std::string line = r.method + " " + r.target + " " + std::to_string(r.status) + " " +
                       std::to_string(r.body_bytes) + " B " + timing;
    if (r.dropped) line += " [dropped by fault]";
    if (!r.token_name.empty()) line += " [token " + r.token_name + "]";
    else if (r.had_authorization) line += " [invalid token]";
    return line;
}

} // namespace llmhost::mirror
