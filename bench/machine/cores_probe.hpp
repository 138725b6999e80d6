// Whether the CPUs a bench runs on are cores: a loop that never touches memory (8 independent
// vpdpbusd chains, enough for one thread to fill its core) on `threads` threads at once, against
// the same loop on one. ~threads x when the threads have a core each; ~1x when a cloud VM has put
// its vCPUs on one core's SMT siblings or time-slices them on one. Used by bench_machine (sampled
// over and over) and bench_generate's interleaved roofline (next to each round), header-only so
// that neither links the other. x86-64 with AVX-512 VNNI only; elsewhere NaN.
#pragma once

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace bench {

#if defined(__x86_64__)
// The sum of the 8 lanes. Not _mm512_reduce_add_epi64: GCC 12 warns inside it (a false
// -Wuninitialized on its own temporary) wherever it is inlined.
__attribute__((target("avx512f"))) inline long long lanes_sum(__m512i v) {
    alignas(64) long long l[8];
    _mm512_store_si512(l, v);
    long long s = 0;
    for (long long x : l) s += x;
    return s;
}

// Register-only: 8 chains of `iters` products, no memory operand in the loop.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) inline long long vnni_spin(long iters) {
    __m512i a[8];
    for (int j = 0; j < 8; ++j) a[j] = _mm512_set1_epi32(j);
    const __m512i u = _mm512_set1_epi32(0x01020304), x = _mm512_set1_epi32(0x01010101);
    for (long i = 0; i < iters; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
            a[j] = _mm512_dpbusd_epi32(a[j], u, x);
            __asm__ volatile("" : "+v"(a[j])); // keeps each product in the loop
        }
    for (int j = 1; j < 8; ++j) a[0] = _mm512_add_epi32(a[0], a[j]);
    return lanes_sum(a[0]);
}
#endif

// Runs body(t) on `threads` threads at once (the caller is thread 0); wall seconds until all end.
// The bodies' results are summed into `sink` (keeps them alive).
template <class Body>
double run_together(int threads, Body body, long long &sink) {
    std::vector<long long> out(std::size_t(threads) * 8, 0); // one cache line per thread
    std::vector<std::thread> pool;
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 1; t < threads; ++t)
        pool.emplace_back([&, t] { out[std::size_t(t) * 8] = body(t); });
    out[0] = body(0);
    for (auto &th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int t = 0; t < threads; ++t) sink += out[std::size_t(t) * 8];
    return s;
}

inline bool has_vnni() {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni");
#else
    return false;
#endif
}

// One sample: products per second on `threads` threads over one thread's (~iters / 1e6 ms each).
inline double compute_scaling(int threads, long iters = 1 << 20) {
#if defined(__x86_64__)
    if (!has_vnni() || threads < 1) return std::nan("");
    long long sink = 0;
    const double one = run_together(
        1, [&](int) { return vnni_spin(iters); }, sink);
    const double all = run_together(
        threads, [&](int) { return vnni_spin(iters); }, sink);
    if (sink == 42) std::this_thread::yield(); // uses the sums
    return one * threads / all;
#else
    (void)threads;
    (void)iters;
    return std::nan("");
#endif
}

} // namespace bench
