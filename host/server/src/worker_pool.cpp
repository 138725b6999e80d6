#include "worker_pool.hpp"

namespace llmhost::server {

WorkerPool::WorkerPool(std::size_t threads, std::size_t queue_capacity)
    : capacity_(queue_capacity) {
    if (threads == 0) threads = 1;
    thread_count_ = threads;
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

void WorkerPool::stop() {
    std::deque<std::function<void()>> dropped;
    {
        std::lock_guard lk(m_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
        dropped.swap(queue_);
    }
    cv_.notify_all();
    for (auto &t : threads_) t.join();
    threads_.clear();
    // `dropped` is destroyed here, outside the lock: jobs may own sessions whose destructors lock.
}

bool WorkerPool::try_submit(std::function<void()> job) {
    {
        std::lock_guard lk(m_);
        if (stopping_) return false;
        // Jobs not yet picked up by an idle worker sit in queue_ too, so count everything
        // outstanding against threads + capacity.
        if (running_ + queue_.size() >= thread_count_ + capacity_) return false;
        queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
}

std::size_t WorkerPool::running() const {
    std::lock_guard lk(m_);
    return running_;
}

std::size_t WorkerPool::queued() const {
    std::lock_guard lk(m_);
    return queue_.size();
}

void WorkerPool::work() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lk(m_);
            cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
            ++running_;
        }
        job(); // jobs catch their own exceptions
        job = nullptr;
        std::lock_guard lk(m_);
        --running_;
    }
}

} // namespace llmhost::server
