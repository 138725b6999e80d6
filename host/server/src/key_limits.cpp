#include "key_limits.hpp"

#include <algorithm>

namespace llmhost::server {

namespace {

int64_t second_of(MinuteWindow::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

constexpr int64_t kWindowS = 60;

} // namespace

void MinuteWindow::expire(int64_t now_s) {
    while (!buckets_.empty() && buckets_.front().first + kWindowS <= now_s) {
        total_ -= buckets_.front().second;
        buckets_.pop_front();
    }
}

void MinuteWindow::add(uint64_t n, Clock::time_point now) {
    const int64_t s = second_of(now);
    expire(s);
    if (!buckets_.empty() && buckets_.back().first == s)
        buckets_.back().second += n;
    else
        buckets_.emplace_back(s, n);
    total_ += n;
}

uint64_t MinuteWindow::total(Clock::time_point now) {
    expire(second_of(now));
    return total_;
}

double MinuteWindow::wait_below(uint64_t limit, Clock::time_point now) {
    if (total(now) < limit) return 0;
    // The buckets leave oldest first: find the one whose leaving brings the total under the limit.
    uint64_t left = total_;
    for (const auto &[s, n] : buckets_) {
        left -= n;
        if (left < limit) {
            auto frees = Clock::time_point(std::chrono::seconds(s + kWindowS));
            return std::max(0.001, std::chrono::duration<double>(frees - now).count());
        }
    }
    return static_cast<double>(kWindowS); // not reached: an empty window is below any limit >= 1
}

double KeyLimits::admit(const std::string &name, uint32_t rpm, uint64_t tpm,
                        Clock::time_point now) {
    std::lock_guard lk(mu_);
    auto &w = keys_[name];
    double wait = w.requests.wait_below(rpm, now);
    if (tpm) wait = std::max(wait, w.tokens.wait_below(tpm, now));
    if (wait > 0) return wait;
    w.requests.add(1, now);
    return 0;
}

void KeyLimits::add_tokens(const std::string &name, uint64_t tokens, Clock::time_point now) {
    if (!tokens) return;
    std::lock_guard lk(mu_);
    auto it = keys_.find(name);
    if (it != keys_.end()) it->second.tokens.add(tokens, now);
}

void KeyLimits::retain(const std::set<std::string> &names) {
    std::lock_guard lk(mu_);
    for (auto it = keys_.begin(); it != keys_.end();)
        it = names.count(it->first) ? std::next(it) : keys_.erase(it);
}

} // namespace llmhost::server
