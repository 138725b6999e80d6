// measure_read_bandwidth() and ReadProbe: the STREAM-style read rate the decode roofline divides
// by. One buffer far larger than the caches, each thread sums its slice with the active ISA's
// vector loads, in two loops taken in turn (plain, and with multiply-adds between the loads:
// detail.hpp, read_sum_busy); the rate is the best run of either.
#include "llmhost/kernels/bandwidth.hpp"
#include "detail.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace llmhost::kernels {
namespace {

double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

int checked_threads(int threads) {
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    return std::min(threads, 1024);
}

std::size_t checked_slice(int threads, std::size_t buffer_bytes) {
    if (buffer_bytes < 4096)
        throw std::invalid_argument("measure_read_bandwidth: buffer_bytes must be >= 4096");
    // Each thread's slice: a multiple of 256 bytes (the vector loops' step), 64-byte aligned.
    const std::size_t slice = buffer_bytes / std::size_t(threads) / 256 * 256;
    if (slice == 0) throw std::invalid_argument("measure_read_bandwidth: buffer too small");
    return slice;
}

// The loop timed run r reads with (r = 0: the untimed first run): the busy one when r is even,
// so runs = 1 is the plain loop alone and runs >= 2 takes both in turn; steady: the busy one
// every run (measure_steady).
using ReadFn = double (*)(const void *p, std::size_t n);
ReadFn read_loop(int r, bool steady = false) {
    const detail::IsaKernels &k = detail::active_kernels();
    return steady || (r > 0 && r % 2 == 0) ? k.read_sum_busy : k.read_sum;
}

} // namespace

ReadProbe::ReadProbe(int threads, std::size_t buffer_bytes)
    : threads_(checked_threads(threads)), slice_(checked_slice(threads_, buffer_bytes)),
      // Allocated as the packed weights are (huge pages where the system has them): the bound
      // must be what a program streaming its weights can reach, and on 4 KiB pages this VM's
      // reads were 25-40 % slower (weight_arena.hpp).
      buf_(
          static_cast<unsigned char *>(detail::allocate_streamed(slice_ * std::size_t(threads_)).p),
          std::free) {
    // First touch of each slice by a thread of its own, as the readers will (NUMA placement).
    std::vector<std::thread> touch;
    try {
        for (int t = 1; t < threads_; ++t)
            touch.emplace_back(
                [this, t] { std::memset(buf_.get() + std::size_t(t) * slice_, t + 1, slice_); });
    } catch (...) { // no thread to be had: join those that started, then fail as told
        for (auto &t : touch) t.join();
        throw;
    }
    std::memset(buf_.get(), 1, slice_);
    for (auto &t : touch) t.join();
}

ReadProbe::~ReadProbe() = default;

Bandwidth ReadProbe::measure(int runs) { return measure_loops(runs, false); }

Bandwidth ReadProbe::measure_steady(int passes) {
    if (passes <= 0) throw std::invalid_argument("ReadProbe::measure_steady: passes must be > 0");
    return measure_loops(passes, true);
}

Bandwidth ReadProbe::measure_loops(int runs, bool steady) {
    if (runs <= 0) throw std::invalid_argument("measure_read_bandwidth: runs must be > 0");
    const int threads = threads_;
    const std::size_t slice = slice_, total = buffer_bytes();
    unsigned char *bytes = buf_.get();

    // threads - 1 helpers plus the calling thread, which reads slice 0: a timing thread that only
    // waited would compete with the readers for the cores.
    std::atomic<int> go{0}, done{0};
    std::atomic<bool> quit{false};
    std::vector<double> sink(std::size_t(threads) * 8, 0.0); // one cache line per thread
    std::vector<double> cpu(std::size_t(threads) * 8, 0.0);  // CPU seconds of the last read
    auto timed_read = [&](int t, const unsigned char *p, int r) {
        double c0 = thread_cpu_s();
        sink[std::size_t(t) * 8] += read_loop(r, steady)(p, slice);
        cpu[std::size_t(t) * 8] = thread_cpu_s() - c0;
    };
    std::vector<std::thread> pool;
    pool.reserve(std::size_t(threads));
    try {
        for (int t = 1; t < threads; ++t) {
            pool.emplace_back([&, t] {
                const unsigned char *p = bytes + std::size_t(t) * slice;
                done.fetch_add(1);
                for (int seen = 0;;) {
                    while (go.load(std::memory_order_acquire) == seen && !quit.load()) {}
                    if (quit.load()) return;
                    seen = go.load(std::memory_order_acquire);
                    timed_read(t, p, seen - 1);
                    done.fetch_add(1, std::memory_order_acq_rel);
                }
            });
        }
    } catch (...) { // no thread to be had: stop and join those that started, then fail as told
        quit.store(true);
        for (auto &t : pool) t.join();
        throw;
    }
    while (done.load() < threads - 1) std::this_thread::yield();
    double best = 0.0, best_cpu = 0.0;
    // Run 0 is not timed: right after the first touch, what the memset left in the caches would
    // flatter it (a buffer a few times the L3 read ~50 % faster right after its memset than read
    // after read); later, it starts the readers together.
    for (int r = 0; r <= runs; ++r) {
        done.store(0);
        auto t0 = std::chrono::steady_clock::now();
        go.store(r + 1, std::memory_order_release); // the workers wait for a new value
        timed_read(0, bytes, r);
        while (done.load(std::memory_order_acquire) < threads - 1) {}
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r == 0) continue;
        best = std::max(best, double(total) / s);
        double c = 0;
        for (int t = 0; t < threads; ++t) c = std::max(c, cpu[std::size_t(t) * 8]);
        if (c > 0) best_cpu = std::max(best_cpu, double(total) / c);
    }
    quit.store(true);
    for (auto &t : pool) t.join();
    double check = 0;
    for (int t = 0; t < threads; ++t) check += sink[std::size_t(t) * 8];
    volatile double keep = check; // keeps the sums alive (the busy loop's may be negative)
    (void)keep;
    return {best, threads, total, runs, best_cpu};
}

Bandwidth ReadProbe::measure_segments(const std::vector<std::size_t> &segments,
                                      const ParallelFor &pf, int runs) {
    if (runs <= 0) throw std::invalid_argument("ReadProbe::measure_segments: runs must be > 0");
    if (segments.empty() || !pf)
        throw std::invalid_argument("ReadProbe::measure_segments: no segments, or no loop");
    // Each segment starts on a 256-byte boundary (the loops' aligned vector loads; the weights'
    // matrices are aligned too).
    auto step = [](std::size_t s) { return (s + 255) / 256 * 256; };
    std::size_t total = 0;
    for (std::size_t s : segments) total += step(s);
    if (total > buffer_bytes())
        throw std::invalid_argument("ReadProbe::measure_segments: the segments add up to " +
                                    std::to_string(total) + " bytes, more than the buffer's " +
                                    std::to_string(buffer_bytes()));
    constexpr std::size_t kUnit = 4096, kGrain = 16; // 64 KiB chunks, as linear()'s grain
    std::atomic<double> sink{0}; // the loops' sums (doubles: a uint64 conversion could overflow)
    std::size_t read = 0;
    auto pass = [&](int r) {
        const auto loop = read_loop(r);
        const unsigned char *p = buf_.get();
        read = 0;
        for (std::size_t s : segments) {
            const std::size_t n = s / 256 * 256, units = (n + kUnit - 1) / kUnit;
            if (units > 0)
                pf(int64_t(units), int64_t(kGrain), [&](int64_t b, int64_t e) {
                    if (b < 0 || b >= e || e > int64_t(units))
                        return; // a buggy loop: no stray read
                    const std::size_t lo = std::size_t(b) * kUnit;
                    const std::size_t hi = std::min(n, std::size_t(e) * kUnit);
                    sink.fetch_add(loop(p + lo, hi - lo), std::memory_order_relaxed);
                });
            p += step(s);
            read += n;
        }
    };
    double best = 0;
    for (int r = 0; r <= runs; ++r) { // run 0 untimed, as measure()
        const auto t0 = std::chrono::steady_clock::now();
        pass(r);
        const double sec =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r > 0 && sec > 0) best = std::max(best, double(read) / sec);
    }
    volatile double keep = sink.load(); // keeps the sums alive
    (void)keep;
    return {best, threads_, read, runs, 0.0};
}

Bandwidth measure_read_bandwidth(int threads, std::size_t buffer_bytes, int runs) {
    if (runs <= 0) throw std::invalid_argument("measure_read_bandwidth: runs must be > 0");
    return ReadProbe(threads, buffer_bytes).measure(runs);
}

} // namespace llmhost::kernels
