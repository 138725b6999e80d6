// A fork/join pool for the decode step's many short parallel loops (about 50 a token: the
// projections, attention, the lm head), where what matters is the cost of waking the workers.
//
// Why not libtorch's OpenMP pool: libgomp gives every thread that opens a parallel region its own
// team, and once the process has more libgomp threads than CPUs (the model loaded on one thread,
// run on another) it spins only ~100 iterations before sleeping in the kernel, so each of those
// loops pays a futex wake-up (a hypervisor call on a VM). Here the workers spin for a bounded time
// (`spin_us`; the engine passes 1 ms) after each loop, which spans the gaps inside a decode step
// and between tokens, then sleep until the next one (a condition variable), so an idle engine
// costs no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace llmhost::kernels {

class ThreadPool {
public:
    // threads >= 1 (the caller plus threads - 1 workers); spin_us: how long an idle worker polls
    // before sleeping. Throws std::invalid_argument for threads < 1 or spin_us < 0.
    explicit ThreadPool(int threads, int spin_us = 200);
    ~ThreadPool(); // wakes and joins the workers
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool &operator=(const ThreadPool &) = delete;

    int threads() const { return threads_; }

    // body(begin, end) over [0, n) in min(threads, ceil(n / grain)) equal chunks, one per
    // thread, the caller running the first (at::parallel_for's split). Returns when all are done;
    // rethrows the first exception a chunk threw (the other chunks still run). From inside a chunk,
    // or while another thread holds the pool, it runs body(0, n) on the calling thread instead
    // (never waits).
    void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body);

    // The pool thread the caller is: 1..threads-1 inside a worker's chunk, else 0 (the thread
    // that called run(), or no loop).
    static int thread_index();

private:
    void worker(int index);
    void work(int64_t index, std::exception_ptr &error);

    const int threads_;
    const int spin_us_;
    std::vector<std::thread> workers_;
    std::mutex busy_; // one loop at a time; a second caller runs serially
    // The current loop, published by a release increment of generation_.
    const std::function<void(int64_t, int64_t)> *body_ = nullptr;
    int64_t n_ = 0, chunk_ = 0;
    int team_ = 0;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};  // workers that have not finished (or skipped) this loop
    std::atomic<int> sleeping_{0}; // workers asleep or about to be (the caller notifies only then)
    std::mutex sleep_mu_;
    std::condition_variable sleep_cv_;
    std::atomic<bool> stop_{false};
    std::exception_ptr error_;
    std::mutex error_mu_;
};

} // namespace llmhost::kernels
