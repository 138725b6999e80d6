// ThreadPool (thread_pool.hpp): a generation counter publishes each loop; workers poll it with a
// pause for spin_us, then sleep on a condition variable until it moves. Each member runs its own
// region's pieces, then takes pieces from the back of the others' regions; the caller waits only
// for the workers that entered the loop before it closed.
#include "llmhost/kernels/thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
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

ThreadPool::ThreadPool(int threads, int spin_us, int pieces)
    : threads_(threads), spin_us_(spin_us), pieces_(pieces) {
    if (threads < 1)
        throw std::invalid_argument("ThreadPool: threads must be >= 1, got " +
                                    std::to_string(threads));
    if (spin_us < 0)
        throw std::invalid_argument("ThreadPool: spin_us must be >= 0, got " +
                                    std::to_string(spin_us));
    if (pieces < 1)
        throw std::invalid_argument("ThreadPool: pieces must be >= 1, got " +
                                    std::to_string(pieces));
    regions_ = std::make_unique<Region[]>(std::size_t(threads));
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

namespace {
constexpr uint64_t pack(int64_t lo, int64_t hi) { return uint64_t(lo) | uint64_t(hi) << 32; }
} // namespace

// Takes one piece of r: from the front (its owner) or the back (a thief). The piece is
// piece_ indices while two or more pieces are left, then half of what is left (a guided tail),
// so that members running at different speeds finish within a small piece of each other instead
// of one waiting out the other's whole last piece. Measured with a synthetic loop (80 indices of
// 400 ns, one member 30 % slower, 2026-11-27): 3.6 -> 1.0 us over the ideal per loop; a decode
// step runs ~51 such loops. With one piece a region (pieces_ == 1) a region is taken whole.
bool ThreadPool::claim(Region &r, bool front, int64_t &begin, int64_t &end) const {
    uint64_t v = r.range.load(std::memory_order_acquire);
    for (;;) {
        const int64_t lo = int64_t(v & 0xffffffffu), hi = int64_t(v >> 32), left = hi - lo;
        if (left <= 0) return false;
        int64_t take = std::min(piece_, left);
        if (pieces_ == 1 || left >= 2 * piece_) {
            if (left - take < grain_) take = left;
        } else {
            take = (left + 1) / 2;
        }
        const uint64_t next = front ? pack(lo + take, hi) : pack(lo, hi - take);
        if (r.range.compare_exchange_weak(v, next, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
            begin = front ? lo : hi - take;
            end = front ? lo + take : hi;
            return true;
        }
    }
}

// Runs member `index`'s region front to back, then the others' from the back; the first
// exception a piece throws is kept (the member goes on with the other pieces: every index runs).
void ThreadPool::work(int index, std::exception_ptr &error) {
    auto run_piece = [&](int64_t b, int64_t e) {
        try {
            (*body_)(b, e);
        } catch (...) {
            if (!error) error = std::current_exception();
        }
    };
    int64_t b = 0, e = 0;
    while (claim(regions_[std::size_t(index)], true, b, e)) run_piece(b, e);
    for (int k = 1; k < team_; ++k) {
        Region &r = regions_[std::size_t((index + k) % team_)];
        while (claim(r, false, b, e)) run_piece(b, e);
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
    // Regions pack their bounds in 32 bits each; a longer range (never a decode step's) is run
    // in slices of at most 2^31 - 1.
    constexpr int64_t kMaxRange = std::numeric_limits<int32_t>::max();
    if (n > kMaxRange) {
        lock.unlock();
        for (int64_t s = 0; s < n; s += kMaxRange) {
            const int64_t len = std::min(kMaxRange, n - s);
            run(len, grain, [&](int64_t b, int64_t e) { body(s + b, s + e); });
        }
        return;
    }
    body_ = &body;
    grain_ = grain;
    // Equal regions, at::parallel_for's split, each run in pieces_ claims. (Four pieces per
    // thread claimed from one shared counter, interleaving the threads' streams, measured slower
    // than one fixed chunk each: 2026-11-26, bench_generate --threads 2, bf16 192-193 vs 197-198
    // tok/s, int4 478-483 vs 518-544. Here each member's own pieces are one ascending stream.)
    const int64_t region = (n + team - 1) / team;
    piece_ = std::max(grain, (region + pieces_ - 1) / pieces_);
    for (int i = 0; i < team; ++i)
        regions_[std::size_t(i)].range.store(
            pack(std::min(n, i * region), std::min(n, (i + 1) * region)),
            std::memory_order_relaxed);
    team_ = team;
    error_ = nullptr;
    // Open the loop, then publish it: the generation's increment releases every field above.
    const uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
    open_.store(gen, std::memory_order_relaxed);
    // seq_cst with the load of sleeping_ (and the workers' side): a worker that is about to sleep
    // either sees this generation or is seen sleeping and notified.
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) > 0) {
        std::lock_guard lk(sleep_mu_); // a worker between its check and its wait holds it
        sleep_cv_.notify_all();
    }
    tl_inside = this;
    std::exception_ptr mine;
    work(0, mine); // every region is empty when this returns (it takes the others' pieces)
    tl_inside = nullptr;
    // Close the loop and wait only for the workers inside it. A worker that has not entered yet
    // (asleep, descheduled, still spinning up) never will: with a fixed chunk each, the caller
    // waited a whole time slice for it when another process had the core (2 threads on a busy
    // 2-core machine ran slower than one). seq_cst pairs with the worker's entry (worker()
    // below): either it is counted here, or it sees the loop closed.
    open_.store(0, std::memory_order_seq_cst);
    for (unsigned spins = 0; active_.load(std::memory_order_seq_cst) > 0; ++spins) {
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
        // Enter the loop if it is still open (the caller closes it once every region is taken).
        active_.fetch_add(1, std::memory_order_seq_cst);
        if (open_.load(std::memory_order_seq_cst) == now && index < team_) {
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
        active_.fetch_sub(1, std::memory_order_release);
    }
}

} // namespace llmhost::kernels
