// bench_machine: two properties of the CPU under the decode kernels that bench_kernels and
// bench_generate cannot show on their own, measured with AVX-512 VNNI (vpdpbusd, the int8/int4
// kernels' product) and nothing of llmhost's:
//
// 1. Compute next to a stream. A vectorized read of a buffer far beyond the L3 with k = 0..4
//    vpdpbusd per 64-byte line, at 1 thread and at all CPUs, next to the same loop on a buffer
//    that fits the L2 (its compute ceiling). When the core overlaps the two, the DRAM rate stays
//    at k = 0's until the ceiling comes near it; when it does not, time = memory + compute. The
//    int8 kernel does ~3.25 vector ops a line (2 products, its loads, a group's scaling).
// 2. Whether the CPUs are cores. A loop that never touches memory (8 independent vpdpbusd
//    chains: one thread saturates its core), on all CPUs at once against 1, sampled over and over.
//    Two real cores give ~2x; two vCPUs placed on one core's SMT siblings, or time-sliced on one,
//    give ~1x. A cloud VM may move between the two: the samples show how often.
//
//   bench_machine [--samples 40] [--mib 512]
#include "cores_probe.hpp"
#include "stats.hpp" // bench/common

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#endif

namespace {

using Clock = std::chrono::steady_clock;

#if defined(__x86_64__)
// Sum of `lines` 64-byte lines with K products each (K = 0: a plain vector add, the read peer).
// 8 accumulators: no chain is latency-bound.
template <int K>
VNNI long long stream(const unsigned char *p, std::size_t lines) {
    alignas(64) static const int8_t x[64] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    __m512i a[8];
    for (auto &v : a) v = _mm512_setzero_si512();
    const auto *v = reinterpret_cast<const __m512i *>(p);
    // Unrolled by pragmas: at -O2 GCC 12 kept the k loop and the accumulators
    // on the stack (a store and a load per product), which measured the stack, not the core.
    for (std::size_t i = 0; i + 8 <= lines; i += 8)
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
            const __m512i w = _mm512_load_si512(v + i + j);
            if constexpr (K == 0) a[j] = _mm512_add_epi32(a[j], w);
#pragma GCC unroll 4
            for (int k = 0; k < K; ++k)
                __asm__("vpdpbusd %2%{1to16%}, %1, %0"
                        : "+v"(a[j])
                        : "v"(w), "m"(*reinterpret_cast<const int *>(x + 4 * ((j + k) & 15))));
        }
    for (int j = 1; j < 8; ++j) a[0] = _mm512_add_epi32(a[0], a[j]);
    return bench::lanes_sum(a[0]);
}

using StreamFn = long long (*)(const unsigned char *, std::size_t);
constexpr StreamFn kStreams[] = {stream<0>, stream<1>, stream<2>, stream<3>, stream<4>};

long long g_sink = 0;

template <class Body>
double together(int threads, Body body) {
    return bench::run_together(threads, body, g_sink);
}

unsigned char *huge_buffer(std::size_t bytes) {
    constexpr std::size_t kHuge = std::size_t{2} << 20; // aligned_alloc: a multiple of it
    void *p = std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge);
    if (!p) {
        std::fprintf(stderr, "bench_machine: cannot allocate %zu MiB\n", bytes >> 20);
        std::exit(1);
    }
    madvise(p, bytes, MADV_HUGEPAGE); // as the packed weights are (kernels/weight_arena.cpp)
    std::memset(p, 1, bytes);
    return static_cast<unsigned char *>(p);
}

// GB/s of kStreams[k] over `bytes` split across `threads`, best of `runs` after one untimed.
double stream_rate(const unsigned char *buf, std::size_t bytes, int threads, int k, int runs) {
    const std::size_t lines = bytes / 64 / std::size_t(threads) / 8 * 8;
    double best = 0;
    for (int r = 0; r <= runs; ++r) {
        const double s = together(
            threads, [&](int t) { return kStreams[k](buf + std::size_t(t) * lines * 64, lines); });
        if (r > 0) best = std::max(best, double(lines * 64 * std::size_t(threads)) / s / 1e9);
    }
    return best;
}

void compute_next_to_stream(std::size_t dram_bytes, int cpus) {
    std::printf("### Compute next to a stream: GB/s of a vectorized read with k vpdpbusd per "
                "64-byte line (best of 5)\n\n");
    std::printf("| threads | k | DRAM (%zu MiB) | ratio to k = 0 | L2-resident (256 KiB a "
                "thread): the ceiling |\n|---|---|---|---|---|\n",
                dram_bytes >> 20);
    unsigned char *big = huge_buffer(dram_bytes);
    std::vector<int> counts{1};
    if (cpus > 1) counts.push_back(cpus);
    for (int threads : counts) {
        unsigned char *small = huge_buffer(std::size_t(threads) << 18);
        double k0 = 0;
        for (int k = 0; k <= 4; ++k) {
            const double dram = stream_rate(big, dram_bytes, threads, k, 5);
            // Many passes over the small buffer per timing: one pass is a few microseconds.
            double l2 = 0;
            for (int pass = 0; pass < 3; ++pass) {
                const std::size_t lines = (std::size_t{1} << 18) / 64;
                const int rounds = 400;
                const double s = together(threads, [&](int t) {
                    long long acc = 0;
                    for (int r = 0; r < rounds; ++r)
                        acc += kStreams[k](small + (std::size_t(t) << 18), lines);
                    return acc;
                });
                l2 = std::max(l2, double(rounds) * double(std::size_t(threads) << 18) / s / 1e9);
            }
            if (k == 0) k0 = dram;
            std::printf("| %d | %d | %.1f | %.2f | %.1f |\n", threads, k, dram, dram / k0, l2);
            std::fflush(stdout);
        }
        std::free(small);
    }
    std::free(big);
}

void cores_or_not(int samples, int cpus) {
    if (cpus < 2) {
        std::printf("\n### Are the CPUs cores? one CPU: nothing to compare\n");
        return;
    }
    std::vector<double> scale;
    for (int i = 0; i < samples; ++i) scale.push_back(bench::compute_scaling(cpus));
    const auto below =
        std::count_if(scale.begin(), scale.end(), [cpus](double s) { return s < 0.65 * cpus; });
    std::printf("\n### Are the CPUs cores? a register-only vpdpbusd loop on %d CPUs at once over "
                "1 CPU, %d samples of a few ms\n\n",
                cpus, samples);
    std::printf("scaling: median %.2fx, min %.2fx, max %.2fx (%d CPUs as cores: ~%dx); "
                "%d of %d samples below %.1fx\nsamples:",
                bench::median(scale), bench::quantile(scale, 0), bench::quantile(scale, 1), cpus,
                cpus, int(below), samples, 0.65 * cpus);
    for (double s : scale) std::printf(" %.2f", s);
    std::printf("\n");
}
#endif

} // namespace

int main(int argc, char **argv) {
    int samples = 40;
    double mib = 512;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--samples" && i + 1 < argc)
            samples = std::atoi(argv[++i]);
        else if (a == "--mib" && i + 1 < argc)
            mib = std::atof(argv[++i]);
        else {
            std::fprintf(stderr, "usage: bench_machine [--samples 40] [--mib 512]\n");
            return a == "--help" ? 0 : 2;
        }
    }
    if (samples < 1 || samples > 100000 || !(mib >= 64 && mib <= 65536)) {
        std::fprintf(stderr, "bench_machine: --samples wants 1..100000, --mib 64..65536\n");
        return 2;
    }
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vnni")) {
        std::printf("bench_machine: this CPU has no AVX-512 VNNI; nothing measured\n");
        return 0;
    }
    const int cpus = int(std::max(1u, std::thread::hardware_concurrency()));
    std::printf("## bench_machine: %d CPUs\n\n", cpus);
    compute_next_to_stream(std::size_t(mib * 1048576.0) / 4096 * 4096, cpus);
    cores_or_not(samples, cpus);
    if (g_sink == 42) std::printf(" "); // keeps the sums alive
#else
    std::printf("bench_machine: x86-64 only; nothing measured\n");
#endif
    return 0;
}
