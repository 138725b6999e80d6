// ThreadPool (thread_pool.hpp): a generation counter publishes each loop; workers poll it with a
// pause for spin_us, then sleep on a condition variable until it moves.
#include "llmhost/kernels/thread_pool.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define LLMHOST_CPU_RELAX() _mm_pause()
#else
#define LLMHOST_CPU_RELAX() std::this_thread::yield()
#endif

namespace llmhost::kernels {

namespace {
thread_local int tl_thread = 0;
thread_local const ThreadPool *tl_inside = nullptr; // the pool whose chunk this thread runs
using Clock = std::chrono::steady_clock;
} // namespace

ThreadPool::ThreadPool(int threads, int spin_us) : threads_(threads), spin_us_(spin_us) {
    if (threads < 1)
        throw std::invalid_argument("ThreadPool: threads must be >= 1, got " +
                                    std::to_string(threads));
    if (spin_us < 0)
        throw std::invalid_argument("ThreadPool: spin_us must be >= 0, got " +
                                    std::to_string(spin_us));
    workers_.reserve(std::size_t(threads - 1));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    {
        std::lock_guard lk(sleep_mu_);
        sleep_cv_.notify_all();
    }
    for (auto &t : workers_) t.join();
}

int ThreadPool::thread_index() { return tl_thread; }

// Runs this member's chunk; the exception it throws, if any, is kept.
void ThreadPool::work(int64_t index, std::exception_ptr &error) {
    const int64_t begin = index * chunk_, end = begin + chunk_ < n_ ? begin + chunk_ : n_;
    if (begin >= end) return;
    try {
        (*body_)(begin, end);
    } catch (...) {
        error = std::current_exception();
    }
}

void ThreadPool::run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body) {
    if (n <= 0) return;
    grain = grain < 1 ? 1 : grain;
    const int64_t want = (n + grain - 1) / grain;
    const int team = int(want < threads_ ? want : threads_);
    std::unique_lock lock(busy_, std::try_to_lock);
    if (team <= 1 || tl_inside == this || !lock.owns_lock()) {
        body(0, n);
        return;
    }
    body_ = &body;
    n_ = n;
    // One equal chunk per member, at::parallel_for's split. (Four smaller chunks per thread,
    // claimed from a counter, measured slower end to end: 2026-11-26, bench_generate --threads 2,
    // bf16 192-193 vs 197-198 tok/s, int4 478-483 vs 518-544.)
    chunk_ = (n + team - 1) / team;
    team_ = team;
    error_ = nullptr;
    // Every worker acknowledges every loop, needed or not: none may still be reading this loop's
    // fields when the next one overwrites them.
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    // seq_cst with the load of sleeping_ (and the workers' side): a worker that is about to sleep
    // either sees this generation or is seen sleeping and notified.
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) > 0) {
        std::lock_guard lk(sleep_mu_); // a worker between its check and its wait holds it
        sleep_cv_.notify_all();
    }
    tl_inside = this;
    std::exception_ptr mine;
    work(0, mine);
    tl_inside = nullptr;
    // The workers' chunks are as long as ours: poll, yielding now and then in case one of them
    // is not running (an oversubscribed machine).
    for (unsigned spins = 0; pending_.load(std::memory_order_acquire) > 0; ++spins) {
        LLMHOST_CPU_RELAX();
        if ((spins & 1023) == 1023) std::this_thread::yield();
    }
    body_ = nullptr;
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
}

void ThreadPool::worker(int index) {
    // The generation when the pool was made, not now: a loop may have been published before this
    // thread got to run, and it must still take its chunk.
    uint64_t seen = 0;
    for (;;) {
        // Poll for the next loop for spin_us, then sleep until the generation moves. After the
        // first 50 µs each poll also yields the core: a loop that follows at once (inside a
        // step) is caught by pause alone, and a longer gap leaves the core to whoever else is
        // runnable (OpenBLAS's threads in an fp32 model's matmul) instead of burning it.
        const auto start = Clock::now();
        const auto until = start + std::chrono::microseconds(spin_us_);
        const auto polite = start + std::chrono::microseconds(spin_us_ < 50 ? spin_us_ : 50);
        bool yielding = false;
        uint64_t now;
        for (unsigned spins = 0; (now = generation_.load(std::memory_order_acquire)) == seen;
             ++spins) {
            if (yielding) {
                std::this_thread::yield();
            } else {
                LLMHOST_CPU_RELAX();
                if ((spins & 63) != 63) continue; // the clock every 64 polls
            }
            const auto t = Clock::now();
            yielding = t >= polite;
            if (t < until) continue;
            std::unique_lock lk(sleep_mu_);
            sleeping_.fetch_add(1, std::memory_order_seq_cst);
            // Checked after announcing the sleep: the caller reads sleeping_ after publishing
            // (both seq_cst), so either this sees the new loop or the caller notifies, under the
            // mutex this thread holds until it waits.
            sleep_cv_.wait(lk, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
            sleeping_.fetch_sub(1, std::memory_order_relaxed);
        }
        seen = now;
        if (stop_.load()) return;
        if (index < team_) {
            tl_thread = index;
            tl_inside = this;
            std::exception_ptr mine;
            work(index, mine);
            if (mine) {
                std::lock_guard g(error_mu_);
                if (!error_) error_ = mine;
            }
            tl_inside = nullptr;
            tl_thread = 0;
        }
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

} // namespace llmhost::kernels
