// bench_kernels: how close the decode kernels (llmhost::kernels::linear, M = 1 unless --m) come
// to the memory-bandwidth bound. For each ISA, thread count (1 and all cores), format and model
// shape, it streams a set of copies of the matrix larger than any L3 (--mib, default 256) the way
// a decode step reads every layer once, and prints GB/s and the ratio to measure_read_bandwidth()
// of the same thread count, measured in the same run. Also: per-call overhead, the engine
// thread pool's balancing overhead (one region each against pieces with a guided tail), one
// token's weights of the 100M bench model streamed in model order (model_order_table), and the
// quantization error of each format on Gaussian weights (with an int4-with-min variant, the
// layout this library did not take, for comparison).
//
//   bench_kernels [--isa all|avx512|avx2|scalar] [--mib 256] [--m 1] [--seconds 0.6] [--threads N]
//                 [--shape NxK] [--model-order 0|1|only] [--calls R]
// --calls R: only the table of calls by size (call_size_table.cpp), R rounds at each thread
// count (--threads: that one).
// --mib below the L2 (e.g. --mib 0.3 --shape 128x2048: two copies of 0.28 MB in int8) gives the
// cache-resident rate: the kernel's compute ceiling, to compare inner loops without DRAM noise.
#include "args.hpp"          // bench/common
#include "bound_reading.hpp" // bench/generate
#include "call_size_table.hpp"
#include "llmhost/kernels/attention.hpp"
#include "llmhost/kernels/bandwidth.hpp"
#include "llmhost/kernels/linear.hpp"
#include "llmhost/kernels/thread_pool.hpp"
#include "llmhost/kernels/weight_arena.hpp"
#include "stats.hpp" // bench/common

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace llmhost::kernels;

namespace {

using Clock = std::chrono::steady_clock;

double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// CPU seconds each worker spent inside the kernel's chunks (index: OpenMP thread number), for
// the CPU-time rate: on the shared development machine wall time mostly measures the others.
double g_chunk_cpu[64];

// at::parallel_for's policy: one OpenMP team of min(threads, ceil(n / grain)), equal chunks.
ParallelFor omp_for(int threads) {
    return [threads](int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body) {
        int64_t teams = std::min<int64_t>(threads, (n + grain - 1) / grain);
        if (teams <= 1) {
            double c0 = thread_cpu_s();
            body(0, n);
            g_chunk_cpu[0] += thread_cpu_s() - c0;
            return;
        }
#pragma omp parallel num_threads(int(teams))
        {
            int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
            int64_t step = (n + nt - 1) / nt, b = t * step;
            double c0 = thread_cpu_s();
            if (b < n) body(b, std::min(n, b + step));
            g_chunk_cpu[t & 63] += thread_cpu_s() - c0;
        }
    };
}

struct Shape {
    int64_t n, k;
    const char *what;
};

const Shape kShapes[] = {{768, 768, "attn q/k/v/o"},
                         {256, 768, "k/v (GQA)"},
                         {2048, 768, "mlp up/gate"},
                         {768, 2048, "mlp down"},
                         {32000, 768, "lm head"}};

std::vector<float> gaussian(std::size_t n, float sigma, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, sigma);
    std::vector<float> v(n);
    for (auto &x : v) x = d(rng);
    return v;
}

struct Rate {
    double wall = 0, cpu = 0; // bytes/s, best pass
};

// Streams every copy once per pass; the best bytes/s over passes within `seconds`, by wall clock
// and by CPU time (one thread: the caller's; several: the busiest worker's time in chunks).
Rate stream_rate(const std::vector<PackedMatrix> &ws, int64_t M, const ParallelFor &pf, int threads,
                 double seconds) {
    const int64_t K = ws[0].cols(), N = ws[0].rows();
    auto x = gaussian(std::size_t(M * K), 1.0f, 7);
    std::vector<float> y(std::size_t(M * N));
    std::size_t bytes = 0;
    for (auto &w : ws) bytes += w.bytes();
    auto pass = [&] {
        for (auto &w : ws) linear(w, x.data(), Act::F32, K, M, y.data(), Act::F32, N, nullptr, pf);
    };
    pass(); // warm: pages, thread team
    Rate best;
    auto end = Clock::now() + std::chrono::duration<double>(seconds);
    int passes = 0;
    while (passes < 3 || Clock::now() < end) {
        std::fill(std::begin(g_chunk_cpu), std::end(g_chunk_cpu), 0.0);
        auto t0 = Clock::now();
        double c0 = thread_cpu_s();
        pass();
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        double c = threads > 1 ? *std::max_element(std::begin(g_chunk_cpu), std::end(g_chunk_cpu))
                               : thread_cpu_s() - c0;
        best.wall = std::max(best.wall, double(bytes) / s);
        if (c > 0) best.cpu = std::max(best.cpu, double(bytes) / c);
        if (++passes > 1000) break;
    }
    return best;
}

// Microseconds per call on a matrix small enough to stay in L1 (4 x 768 bf16): what a call costs
// beyond streaming (x conversion, dispatch, the parallel loop).
double call_overhead_us(const ParallelFor &pf) {
    auto src = gaussian(4 * 768, 0.05f, 3);
    auto w = PackedMatrix::from_f32(src.data(), 4, 768, Format::BF16);
    auto x = gaussian(768, 1.0f, 4);
    float y[4];
    for (int i = 0; i < 1000; ++i)
        linear(w, x.data(), Act::F32, 768, 1, y, Act::F32, 4, nullptr, pf);
    auto t0 = Clock::now();
    const int n = 20000;
    for (int i = 0; i < n; ++i) linear(w, x.data(), Act::F32, 768, 1, y, Act::F32, 4, nullptr, pf);
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
}

// Relative RMS error of each format on Gaussian weights, and of int4 with a per-group minimum
// (Q4_1-like: scale and min, 0.625 bytes/weight) for comparison.
void quant_error() {
    const int64_t N = 256, K = 768;
    auto w = gaussian(std::size_t(N * K), 0.02f, 11);
    double sw = 0;
    for (float v : w) sw += double(v) * v;
    std::printf("\n### Quantization error, Gaussian weights [%lld x %lld]\n\n", (long long)N,
                (long long)K);
    std::printf("| format | bytes/weight | relative RMS error |\n|---|---|---|\n");
    for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
        auto p = PackedMatrix::from_f32(w.data(), N, K, f);
        std::vector<float> d(w.size());
        p.dequantize(0, N, d.data());
        double se = 0;
        for (std::size_t i = 0; i < w.size(); ++i) se += double(w[i] - d[i]) * (w[i] - d[i]);
        std::printf("| %s | %.4f | %.5f |\n", format_name(f), double(p.bytes()) / double(N * K),
                    std::sqrt(se / sw));
    }
    double se = 0;
    for (std::size_t g = 0; g < w.size(); g += 32) {
        float lo = *std::min_element(&w[g], &w[g] + 32), hi = *std::max_element(&w[g], &w[g] + 32);
        float s = (hi - lo) / 15;
        for (std::size_t i = g; i < g + 32; ++i) {
            float q = std::clamp(std::nearbyint((w[i] - lo) / s), 0.0f, 15.0f);
            se += double(w[i] - (q * s + lo)) * (w[i] - (q * s + lo));
        }
    }
    std::printf("| int4 with min (not used) | 0.6250 | %.5f |\n", std::sqrt(se / sw));
}

// Decode attention at one thread: attend() over copies of one KV head's bf16 cache (GQA 3 query
// heads, hd 64: the bench model's shape) totalling `mib`, as GB/s of K and V read, paired with
// measure_read_bandwidth like the linear rows.
void attention_table(const std::vector<Isa> &isas, double mib, double seconds) {
    std::printf("\n### Decode attention, 1 thread: kernels::attend, bf16 cache, 3 query heads "
                "per KV head, hd 64\n\n| isa | positions | us/call | wall GB/s attend / read | "
                "ratio |\n|---|---|---|---|---|\n");
    const int64_t G = 3, hd = 64;
    for (Isa isa : isas)
        for (int64_t S : {int64_t{128}, int64_t{2048}}) {
            const std::size_t one = std::size_t(S * hd); // elements of K (or V) per head
            const std::size_t copies =
                std::max<std::size_t>(2, std::size_t(mib * 1048576.0 / double(4 * one)));
            std::vector<uint16_t> k(one * copies), v(one * copies);
            auto src = gaussian(one, 1.0f, 21);
            for (std::size_t i = 0; i < k.size(); ++i) {
                uint32_t u;
                std::memcpy(&u, &src[i % one], 4);
                k[i] = v[i] = uint16_t(u >> 16);
            }
            auto q = gaussian(std::size_t(G * hd), 1.0f, 22);
            std::vector<float> out(std::size_t(G * hd));
            auto pass = [&] {
                for (std::size_t c = 0; c < copies; ++c)
                    attend(q.data(), Act::F32, G, hd, k.data() + c * one, v.data() + c * one,
                           Act::BF16, hd, S, nullptr, 0.125f, out.data(), Act::F32);
            };
            double best = 0, peer = 0;
            for (int rep = 0; rep < 2; ++rep) {
                force_isa(best_isa());
                peer = std::max(
                    peer, measure_read_bandwidth(1, std::size_t(mib * 1048576.0), 2).bytes_per_s);
                force_isa(isa);
                pass();
                auto end = Clock::now() + std::chrono::duration<double>(seconds / 2);
                for (int n = 0; n < 3 || Clock::now() < end; ++n) {
                    auto t0 = Clock::now();
                    pass();
                    double s = std::chrono::duration<double>(Clock::now() - t0).count();
                    best = std::max(best, double(4 * one * copies) / s);
                    if (n > 1000) break;
                }
            }
            std::printf("| %s | %lld | %.2f | %.2f / %.2f | %.2f |\n", isa_name(isa), (long long)S,
                        double(4 * one) / best * 1e6, best / 1e9, peer / 1e9, best / peer);
            std::fflush(stdout);
        }
}

// One token's weights of bench_generate's ~100M Llama in the order a decode step reads them (10
// layers of q, k, v, o, gate, up, down, then the lm head), side by side in one arena as the engine
// keeps them, streamed by the kernels alone in the engine's 41 calls: nothing of the step between
// the matrices. At 1 thread and all cores (the engine's pool), alternating with readings of
// 512 MiB, of a buffer of the same bytes and of it in the 41 calls' pattern (bound_reading.hpp;
// best of 3 each, the highest), 6 rounds of best-of-5 passes: what the model's decode could
// reach if the rest of its step took no time (bench_generate's rows measure the rest too).
void model_order_table() {
    struct Mat {
        int64_t n, k;
    };
    std::vector<Mat> order;
    for (int layer = 0; layer < 10; ++layer)
        for (Mat m : {Mat{768, 768}, Mat{256, 768}, Mat{256, 768}, Mat{768, 768}, Mat{2048, 768},
                      Mat{2048, 768}, Mat{768, 2048}})
            order.push_back(m);
    order.push_back({32000, 768});
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    std::printf("\n### One token's weights in model order (the 100M Llama, %zu matrices in the "
                "engine's 41 calls, one arena), kernels alone: GB/s over 6 rounds, against the "
                "higher of two readings around each\n\n| format | threads | MB | kernel GB/s | "
                "read GB/s | ratio median "
                "(min-max) |\n|---|---|---|---|---|---|\n",
                order.size());
    for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
        auto arena = std::make_shared<WeightArena>();
        std::vector<PackedMatrix> ws;
        std::size_t bytes = 0;
        uint32_t seed = 20;
        for (Mat m : order) {
            auto src = gaussian(std::size_t(m.n * m.k), 0.02f, seed++);
            ws.push_back(PackedMatrix::from_f32(src.data(), m.n, m.k, f, arena));
            bytes += ws.back().bytes();
        }
        auto x = gaussian(2048, 1.0f, 7);
        std::vector<float> y(32000 + 4096);
        for (int threads : cores > 1 ? std::vector<int>{1, cores} : std::vector<int>{1}) {
            ThreadPool pool(threads);
            const ParallelFor pf = pool_for(pool);
            // The engine's calls (models/linear.hpp, FusedLinear): q/k/v in one linear_concat,
            // o, gate/up in one, down; 41 calls a token. As 71 separate calls, int8 at 2 threads
            // measured ~10 % less (a scratch A/B, 2026-11-27): each call pays the pool's start
            // and end.
            auto pass = [&] {
                for (std::size_t l = 0; l + 7 <= ws.size(); l += 7) {
                    const PackedMatrix *qkv[3] = {&ws[l], &ws[l + 1], &ws[l + 2]};
                    linear_concat(qkv, 3, x.data(), Act::F32, 768, 1, y.data(), Act::F32, 1280,
                                  nullptr, pf);
                    linear(ws[l + 3], x.data(), Act::F32, 768, 1, y.data(), Act::F32, 768, nullptr,
                           pf);
                    const PackedMatrix *gate_up[2] = {&ws[l + 4], &ws[l + 5]};
                    linear_concat(gate_up, 2, x.data(), Act::F32, 768, 1, y.data(), Act::F32, 4096,
                                  nullptr, pf);
                    linear(ws[l + 6], x.data(), Act::F32, 2048, 1, y.data(), Act::F32, 768, nullptr,
                           pf);
                }
                const PackedMatrix &head = ws.back();
                linear(head, x.data(), Act::F32, 768, 1, y.data(), Act::F32, 32000, nullptr, pf);
            };
            std::vector<std::size_t> segments; // the 41 calls' bytes, as pass() makes them
            for (std::size_t l = 0; l + 7 <= ws.size(); l += 7) {
                segments.push_back(ws[l].bytes() + ws[l + 1].bytes() + ws[l + 2].bytes());
                segments.push_back(ws[l + 3].bytes());
                segments.push_back(ws[l + 4].bytes() + ws[l + 5].bytes());
                segments.push_back(ws[l + 6].bytes());
            }
            segments.push_back(ws.back().bytes());
            bench::BoundReading reading(threads, double(bytes), segments);
            pass();
            std::vector<double> ratios;
            double klo = 1e30, khi = 0, rlo = 1e30, rhi = 0;
            double before = reading(3);
            for (int round = 0; round < 6; ++round) {
                double best = 0;
                for (int r = 0; r < 5; ++r) {
                    const auto t0 = Clock::now();
                    pass();
                    best = std::max(best,
                                    double(bytes) /
                                        std::chrono::duration<double>(Clock::now() - t0).count());
                }
                const double after = reading(3);
                ratios.push_back(best / std::max(before, after));
                klo = std::min(klo, best), khi = std::max(khi, best);
                rlo = std::min({rlo, before, after}), rhi = std::max({rhi, before, after});
                before = after;
            }
            std::printf("| %s | %d | %.1f | %.1f-%.1f | %.1f-%.1f | %.2f (%.2f-%.2f) |\n",
                        format_name(f), threads, double(bytes) / 1e6, klo / 1e9, khi / 1e9,
                        rlo / 1e9, rhi / 1e9, bench::median(ratios), bench::quantile(ratios, 0),
                        bench::quantile(ratios, 1));
            std::fflush(stdout);
        }
    }
}

// The engine's pool (kernels/thread_pool.hpp) on loops shaped like a decode step's projections:
// 80 indices (16-row blocks) of 400 ns each, one member's pieces `slower` times as long (two cores
// streaming from one memory controller are not equally fast), a 3 us serial gap between loops.
// Prints the mean time per loop over the ideal (every member busy until the end), for one fixed
// region each (pieces 1) and the default pieces with their guided tail.
void pool_table() {
    const int threads = int(std::max(1u, std::thread::hardware_concurrency()));
    if (threads < 2) return;
    auto spin_ns = [](double ns) {
        const auto t0 = std::chrono::steady_clock::now();
        while (std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0)
                   .count() < ns) {}
    };
    std::printf("\n### Thread pool, %d threads: 80 pieces of 400 ns per loop, us per loop over the "
                "ideal (mean of 2000)\n\n| member 1 slower by | pieces 1 | pieces %d (guided "
                "tail) | ratio |\n|---|---|---|---|\n",
                threads, ThreadPool::kDefaultPieces);
    for (double slower : {1.0, 1.3}) {
        double over[2];
        const int pieces[2] = {1, ThreadPool::kDefaultPieces};
        for (int c = 0; c < 2; ++c) {
            ThreadPool pool(threads, 1000, pieces[c]);
            const int n = 80, reps = 2000;
            const double per = 400;
            // The ideal: the members' rates summed (member i > 0 runs at 1 / slower).
            const double ideal_us = n * per / (1.0 + (threads - 1) / slower) / 1e3;
            double sum = 0;
            for (int r = 0; r < reps; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                pool.run(n, 6, [&](int64_t b, int64_t e) {
                    spin_ns(per * double(e - b) * (ThreadPool::thread_index() ? slower : 1.0));
                });
                sum +=
                    std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                        .count();
                spin_ns(3000);
            }
            over[c] = sum / reps - ideal_us;
        }
        std::printf("| %.0f %% | %.2f | %.2f | %.2f |\n", (slower - 1) * 100, over[0], over[1],
                    over[1] / over[0]);
    }
}

} // namespace

int main(int argc, char **argv) {
    std::string isa_arg = "all";
    double mib = 256, seconds = 0.6;
    int only_threads = 0;
    int64_t M = 1;
    Shape shape{0, 0, nullptr}; // --shape: this one instead of the model's
    std::string model_order = "1"; // --model-order 0: without model_order_table; only: it alone
    int call_rounds = 0;           // --calls R: call_size_table alone, R rounds
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char * {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_kernels: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--isa")
            isa_arg = next();
        else if (a == "--mib")
            mib = std::atof(next());
        else if (a == "--m") {
            int m = 0;
            if (!bench::parse_int(next(), m, 1, 64)) {
                std::fprintf(stderr, "bench_kernels: --m wants a number of x rows, 1-64\n");
                return 2;
            }
            M = m;
        } else if (a == "--seconds")
            seconds = std::atof(next());
        else if (a == "--threads") {
            // 0: the default counts (1 and all cores).
            if (!bench::parse_int(next(), only_threads, 0, 1024)) {
                std::fprintf(stderr, "bench_kernels: --threads wants a thread count, 0-1024\n");
                return 2;
            }
        } else if (a == "--calls") {
            if (!bench::parse_int(next(), call_rounds, 1, 1000)) {
                std::fprintf(stderr, "bench_kernels: --calls wants a number of rounds, 1-1000\n");
                return 2;
            }
        } else if (a == "--model-order") {
            model_order = next();
            if (model_order != "0" && model_order != "1" && model_order != "only") {
                std::fprintf(stderr, "bench_kernels: --model-order wants 0, 1 or only\n");
                return 2;
            }
        } else if (a == "--shape") {
            long long n = 0, k = 0;
            if (std::sscanf(next(), "%lldx%lld", &n, &k) != 2 || n < 1 || k < 1 ||
                n * k > (1ll << 30)) {
                std::fprintf(stderr, "bench_kernels: --shape wants NxK, e.g. 128x2048\n");
                return 2;
            }
            shape = {n, k, "--shape"};
        } else {
            std::fprintf(stderr, "usage: bench_kernels [--isa all|avx512|avx2|scalar] [--mib 256] "
                                 "[--m 1] [--seconds 0.6] [--threads N] [--shape NxK] "
                                 "[--model-order 0|1|only] [--calls R]\n");
            return a == "--help" ? 0 : 2;
        }
    }
    if (mib < 0.01 || M < 1 || M > 64 || seconds <= 0) {
        std::fprintf(stderr, "bench_kernels: bad --mib/--m/--seconds\n");
        return 2;
    }
    std::vector<Isa> isas;
    for (Isa i : {Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
        if (isa_arg != "all" && isa_arg != isa_name(i)) continue;
        try {
            force_isa(i);
            isas.push_back(i);
        } catch (const std::exception &e) {
            std::printf("(%s)\n", e.what());
        }
    }
    if (isas.empty()) {
        std::fprintf(stderr, "bench_kernels: no ISA to run (--isa %s)\n", isa_arg.c_str());
        return 2;
    }
    if (call_rounds > 0) {
        force_isa(best_isa());
        const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
        std::vector<int> counts{1};
        if (cores > 1) counts.push_back(cores);
        if (only_threads > 0) counts = {only_threads};
        for (int t : counts) bench::call_size_table(t, call_rounds);
        return 0;
    }
    if (model_order == "only") {
        force_isa(best_isa());
        model_order_table();
        return 0;
    }
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<int> thread_counts{1};
    if (cores > 1) thread_counts.push_back(cores);
    if (only_threads > 0) thread_counts = {only_threads};
    double load[3] = {0, 0, 0};
    if (FILE *f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
        std::fclose(f);
    }
    std::printf("## bench_kernels: M=%lld, %g MiB of copies per shape, load average %.2f %.2f "
                "%.2f, best ISA %s\n",
                (long long)M, mib, load[0], load[1], load[2], isa_name(best_isa()));

    for (int threads : thread_counts) {
        force_isa(best_isa());
        Bandwidth bw = measure_read_bandwidth(threads);
        std::printf(
            "\n### %d thread%s: measure_read_bandwidth = %.2f GB/s wall, %.2f GB/s CPU time "
            "(%zu MiB, best of %d)\n\n",
            threads, threads > 1 ? "s" : "", bw.bytes_per_s / 1e9, bw.cpu_bytes_per_s / 1e9,
            bw.buffer_bytes >> 20, bw.runs);
        ParallelFor pf = threads > 1 ? omp_for(threads) : serial_for();
        std::printf("call overhead (4x768 bf16, L1-resident): %.2f us/call\n\n",
                    call_overhead_us(pf));
        std::printf("| isa | format | shape N x K | MB/matrix | wall GB/s kernel / read | ratio | "
                    "CPU-time GB/s kernel / read | ratio |\n|---|---|---|---|---|---|---|---|\n");
        for (Isa isa : isas) {
            force_isa(isa);
            for (Format f : {Format::BF16, Format::Q8, Format::Q4}) {
                std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
                if (shape.n > 0) shapes = {shape};
                for (const Shape &s : shapes) {
                    auto src = gaussian(std::size_t(s.n * s.k), 0.02f, 5);
                    // The copies side by side in an arena, as the engine keeps a model's
                    // matrices (models/weights.cpp): on huge pages whatever their size. Each in
                    // an allocation of its own, those under 2 MiB (int8 768 x 768, 2048 x 768)
                    // were on 4 KiB pages and measured up to ~20 % slower than in the model.
                    auto arena = std::make_shared<WeightArena>();
                    PackedMatrix probe = PackedMatrix::from_f32(src.data(), s.n, s.k, f, arena);
                    std::size_t copies = std::max<std::size_t>(
                        2, std::size_t(mib * 1048576.0 / double(probe.bytes())));
                    std::vector<PackedMatrix> ws;
                    ws.push_back(std::move(probe));
                    while (ws.size() < copies) ws.push_back(ws[0].clone(arena));
                    // Paired with the peer: the 2 cores are shared, so the kernel and the STREAM
                    // read alternate (best of 3 each) and the ratio compares neighbours in time.
                    Rate rate;
                    Bandwidth peer{};
                    for (int rep = 0; rep < 2; ++rep) {
                        force_isa(best_isa());
                        Bandwidth b =
                            measure_read_bandwidth(threads, std::size_t(mib * 1048576.0), 2);
                        peer.bytes_per_s = std::max(peer.bytes_per_s, b.bytes_per_s);
                        peer.cpu_bytes_per_s = std::max(peer.cpu_bytes_per_s, b.cpu_bytes_per_s);
                        force_isa(isa);
                        Rate r = stream_rate(ws, M, pf, threads, seconds / 2);
                        rate.wall = std::max(rate.wall, r.wall);
                        rate.cpu = std::max(rate.cpu, r.cpu);
                    }
                    std::printf("| %s | %s | %lld x %lld (%s) | %.2f | %.2f / %.2f | %.2f | %.2f / "
                                "%.2f | %.2f |\n",
                                isa == Isa::Avx512 && cpu_has_avx512_bf16() && f == Format::BF16
                                    ? "avx512-bf16"
                                    : isa_name(isa),
                                format_name(f), (long long)s.n, (long long)s.k, s.what,
                                double(ws[0].bytes()) / 1e6, rate.wall / 1e9,
                                peer.bytes_per_s / 1e9, rate.wall / peer.bytes_per_s,
                                rate.cpu / 1e9, peer.cpu_bytes_per_s / 1e9,
                                rate.cpu / peer.cpu_bytes_per_s);
                    std::fflush(stdout);
                }
            }
        }
    }
    attention_table(isas, mib, seconds);
    force_isa(best_isa());
    if (model_order != "0") model_order_table();
    pool_table();
    quant_error();
    return 0;
}
