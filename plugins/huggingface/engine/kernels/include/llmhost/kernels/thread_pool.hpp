// A fork/join pool for the decode step's many short parallel loops (about 50 a token: the
// projections, attention, the lm head), where what matters is the cost of waking the workers and
// of waiting for the slowest one.
//
// Why not libtorch's OpenMP pool: libgomp gives every thread that opens a parallel region its own
// team, and once the process has more libgomp threads than CPUs (the model loaded on one thread,
// run on another) it spins only ~100 iterations before sleeping in the kernel, so each of those
// loops pays a futex wake-up (a hypervisor call on a VM). Here the workers spin for a bounded time
// (`spin_us`; the engine passes 1 ms) after each loop, which spans the gaps inside a decode step
// and between tokens, then sleep until the next one (a condition variable), so an idle engine
// costs no CPU.
//
// Balancing: each member owns an equal, contiguous region of the range and runs it front to back
// in `pieces` claims, the last of them halving (a guided tail); a member whose region is done
// takes pieces from the back of the others'.
// Why: two cores streaming weights from one memory controller are not equally fast from moment
// to moment, and a worker starts ~0.7 µs after the caller; with one fixed chunk each, the faster
// one waited, ~18 % of each thread's time in a 2-thread int8 decode (perf, 2026-11-26). The owner
// still reads its region as one ascending stream, the thief reads from the other end.
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
    // before sleeping; pieces: claims per member region (1: each region is one piece, taken
    // whole by another member only when its own has not started it). Throws std::invalid_argument
    // for threads < 1, spin_us < 0 or pieces < 1.
    explicit ThreadPool(int threads, int spin_us = 200, int pieces = kDefaultPieces);
    static constexpr int kDefaultPieces = 8;
    ~ThreadPool(); // wakes and joins the workers
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool &operator=(const ThreadPool &) = delete;

    int threads() const { return threads_; }

    // body(begin, end) over [0, n), each index exactly once, by a team of min(threads,
    // ceil(n / grain)) members (the caller is member 0): member i's region is the i-th of `team`
    // equal parts, run as pieces of >= grain indices until less than two are left, then as
    // halves of what is left (down to single indices), and pieces of other regions once its own
    // is done (see Balancing above). A member may run
    // no piece at all when the others took its region first. Returns when all are done; rethrows
    // the first exception a piece threw (the remaining pieces still run). From inside a piece, or
    // while another thread holds the pool, it runs body(0, n) on the calling thread instead
    // (never waits).
    void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body);

    // The pool thread the caller is: 1..threads-1 inside a worker's chunk, else 0 (the thread
    // that called run(), or no loop).
    static int thread_index();

private:
    void worker(int index);
    void work(int index, std::exception_ptr &error);

    // A member's remaining region [lo, hi), packed lo | hi << 32 in one word so that the owner
    // (taking from the front) and a thief (from the back) claim with one compare-exchange.
    struct alignas(64) Region {
        std::atomic<uint64_t> range{0};
    };
    bool claim(Region &r, bool front, int64_t &begin, int64_t &end) const;

    const int threads_;
    const int spin_us_;
    const int pieces_;
    std::unique_ptr<Region[]> regions_; // threads_ of them; the first team_ are this loop's
    std::vector<std::thread> workers_;
    std::mutex busy_; // one loop at a time; a second caller runs serially
    // The current loop, published by a release increment of generation_.
    const std::function<void(int64_t, int64_t)> *body_ = nullptr;
    int64_t piece_ = 0, grain_ = 1;
    int team_ = 0;
    std::atomic<uint64_t> generation_{0};
    std::atomic<uint64_t> open_{0}; // the generation workers may still enter; 0 once closed
    std::atomic<int> active_{0};    // workers inside a loop (or checking whether it is open)
    std::atomic<int> sleeping_{0}; // workers asleep or about to be (the caller notifies only then)
    std::mutex sleep_mu_;
    std::condition_variable sleep_cv_;
    std::atomic<bool> stop_{false};
    std::exception_ptr error_;
    std::mutex error_mu_;
};

} // namespace llmhost::kernels
