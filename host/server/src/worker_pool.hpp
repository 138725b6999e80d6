// A fixed set of threads that run blocking jobs (provider calls), with a bounded wait queue:
// the concurrency limit of `llmhost serve` is the number of threads, the queue its --queue.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llmhost::server {

class WorkerPool {
public:
    WorkerPool(std::size_t threads, std::size_t queue_capacity);
    ~WorkerPool() { stop(); }
    // Stops: jobs still queued are dropped (destroyed, not run); running ones end first. Idempotent.
    void stop();

    // Runs `job` on a worker now, or when one frees up. False when `threads` jobs run and
    // `queue_capacity` already wait: the caller answers 429.
    bool try_submit(std::function<void()> job);

    std::size_t running() const;
    std::size_t queued() const;

private:
    void work();

    mutable std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    std::size_t running_ = 0;
    std::size_t capacity_;
    std::size_t thread_count_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace llmhost::server
