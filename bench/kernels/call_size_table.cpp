// bench_kernels --calls R: int8 and bf16 matrices of K = 768 and 256, 1024 and 4096 rows, 128 MiB
// of copies each in one arena, streamed call after call on the engine's pool. Each round measures
// every size (best of 3 passes) between two 512 MiB reads at the same thread count; the ratio is
// the pass's rate over the higher reading. What it shows: a call's fixed cost (the fork/join,
// x's preparation, each thread's stream starting over), which a decode step pays ~41 times a
// token. On the development VM that cost grows ~3x when its two vCPUs are two cores with ~60 GB/s
// between them (a thread then streams at most ~30 GB/s, so a thread that is not streaming is
// bandwidth the other cannot take up), and the table prints every round's reading so that rounds
// can be told apart by state.
#include "call_size_table.hpp"
#include "stats.hpp" // bench/common

#include "llmhost/kernels/bandwidth.hpp"
#include "llmhost/kernels/linear.hpp"
#include "llmhost/kernels/thread_pool.hpp"
#include "llmhost/kernels/weight_arena.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace bench {

using namespace llmhost::kernels;

namespace {

struct Set {
    Format format;
    int64_t rows;
    std::vector<PackedMatrix> copies;
    double bytes = 0; // of one pass over every copy
};

Set make_set(Format f, int64_t rows, int64_t cols, std::size_t budget) {
    std::mt19937 rng(uint32_t(rows) * 7 + uint32_t(f));
    std::normal_distribution<float> nd(0.0f, 0.02f);
    std::vector<float> src(std::size_t(rows * cols));
    for (float &v : src) v = nd(rng);
    auto arena = std::make_shared<WeightArena>();
    Set s{f, rows, {}, 0};
    s.copies.push_back(PackedMatrix::from_f32(src.data(), rows, cols, f, arena));
    const std::size_t n = std::max<std::size_t>(2, budget / s.copies[0].bytes());
    while (s.copies.size() < n) s.copies.push_back(s.copies[0].clone(arena));
    s.bytes = double(s.copies[0].bytes()) * double(n);
    return s;
}

} // namespace

void call_size_table(int threads, int rounds) {
    constexpr int64_t kCols = 768;
    std::vector<Set> sets;
    for (Format f : {Format::Q8, Format::BF16})
        for (int64_t rows : {256, 1024, 4096})
            sets.push_back(make_set(f, rows, kCols, std::size_t{128} << 20));
    ThreadPool pool(threads, 1000);
    const ParallelFor pf = pool_for(pool);
    std::vector<float> x(kCols, 0.5f), y(4096);
    for (int i = 0; i < kCols; ++i) x[std::size_t(i)] = float(i % 17) / 17.0f - 0.5f;
    auto pass = [&](const Set &s) {
        const auto t0 = std::chrono::steady_clock::now();
        for (const PackedMatrix &m : s.copies)
            linear(m, x.data(), Act::F32, kCols, 1, y.data(), Act::F32, m.rows(), nullptr, pf);
        return s.bytes /
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    for (const Set &s : sets) pass(s); // touch every copy once (page faults, TLB)
    ReadProbe probe(threads, std::size_t{512} << 20);
    std::printf("\n### Calls by size, %d thread%s, K = %lld, 128 MiB of copies each: a pass's rate "
                "over the higher 512 MiB reading around its round (best of 3 passes)\n\n",
                threads, threads > 1 ? "s" : "", (long long)kCols);
    std::string head = "| round | read GB/s |", rule = "|---|---|";
    for (const Set &s : sets) {
        head += std::string(" ") + format_name(s.format) + " " + std::to_string(s.rows) + " (" +
                std::to_string(s.copies[0].bytes() / 1024) + " KiB) |";
        rule += "---|";
    }
    std::printf("%s\n%s\n", head.c_str(), rule.c_str());
    std::vector<std::vector<double>> ratios(sets.size());
    double before = probe.measure(2).bytes_per_s;
    for (int r = 0; r < rounds; ++r) {
        std::vector<double> best(sets.size(), 0);
        for (int rep = 0; rep < 3; ++rep)
            for (std::size_t i = 0; i < sets.size(); ++i)
                best[i] = std::max(best[i], pass(sets[i]));
        const double after = probe.measure(2).bytes_per_s, bound = std::max(before, after);
        std::printf("| %d | %.1f-%.1f |", r + 1, std::min(before, after) / 1e9, bound / 1e9);
        for (std::size_t i = 0; i < sets.size(); ++i) {
            ratios[i].push_back(best[i] / bound);
            std::printf(" %.2f |", best[i] / bound);
        }
        std::printf("\n");
        std::fflush(stdout);
        before = after;
    }
    std::printf("| median | |");
    for (const auto &v : ratios) std::printf(" %.2f |", median(v));
    std::printf("\n");
}

} // namespace bench
