// The per-key limits of the keys file (rpm, tpm): a one-minute sliding window per key, kept in
// 60 one-second buckets so a key costs the same memory at rpm=10 and rpm=1,000,000.
// Per process: every replica of a scaled-out deployment counts its own (docs/deployment.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace llmhost::server {

// Counts in the last 60 seconds, at one-second resolution.
class MinuteWindow {
public:
    using Clock = std::chrono::steady_clock;
    void add(uint64_t n, Clock::time_point now);
    uint64_t total(Clock::time_point now);
    // Seconds from `now` until the total is below `limit` (0: it is already).
    double wait_below(uint64_t limit, Clock::time_point now);

private:
    void expire(int64_t now_s);
    std::deque<std::pair<int64_t, uint64_t>> buckets_; // (second, count), oldest first
    uint64_t total_ = 0;
};

class KeyLimits {
public:
    using Clock = MinuteWindow::Clock;
    // Admits one request of key `name` and counts it, or returns the seconds until it could be
    // admitted (> 0, nothing counted). tpm 0: no token limit.
    double admit(const std::string &name, uint32_t rpm, uint64_t tpm,
                 Clock::time_point now = Clock::now());
    // The tokens of a finished request (ignored for a name never admitted).
    void add_tokens(const std::string &name, uint64_t tokens, Clock::time_point now = Clock::now());
    // After a reload: the windows of names no longer in the file go; kept names keep theirs.
    void retain(const std::set<std::string> &names);

private:
    struct Windows {
        MinuteWindow requests, tokens;
    };
    std::mutex mu_;
    std::map<std::string, Windows> keys_;
};

} // namespace llmhost::server
