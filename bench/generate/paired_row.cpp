// The int4 ÷ bf16 row of bench_generate (paired_row.hpp).
//
// Why interleaved: the single-stream table measures each format's row a minute or more apart,
// and this machine's read bandwidth at 2 threads switches between ~30 and ~57 GB/s on that scale
// (the same buffer, read over and over, stays in one state for seconds, then moves). A ratio of
// two rows taken in different states measures the machine, not the formats. Here each int4 rep
// sits between two bf16 reps of the same length, so all three see the same state or the change
// shows up as a gap between the two bf16 reps.
#include "paired_row.hpp"

#include "prompts.hpp"
#include "stats.hpp" // bench/common

#include <llmhost/engine/engine.hpp>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace bench {

namespace {

double timed_decode(llmhost::engine::Engine &e, const std::vector<std::int32_t> &prompt,
                    int decode) {
    llmhost::engine::GenerateOptions o;
    o.max_tokens = decode;
    return decode_tok_s(e.generate(prompt, o));
}

} // namespace

void bench_int4_vs_bf16(const std::filesystem::path &dir, const std::vector<std::int32_t> &prompt,
                        int decode, const std::vector<int> &threads, bool prefix_cache, int reps) {
    const std::int64_t ctx = std::int64_t(prompt.size()) + decode + 1;
    llmhost::engine::LoadOptions lo{
        .device = "cpu", .max_context = ctx, .prefix_cache = prefix_cache};
    lo.dtype = "bfloat16";
    auto bf16 = llmhost::engine::Engine::load(dir, lo);
    lo.dtype = "int4";
    auto int4 = llmhost::engine::Engine::load(dir, lo);
    std::printf("\nint4 / bf16 decode tok/s, interleaved (each int4 rep over the mean of the bf16 "
                "reps just before and after it):\n");
    llmhost::engine::GenerateOptions warm;
    warm.max_tokens = 2;
    for (int t : threads) {
        at::set_num_threads(t);
        bf16->set_threads(t);
        int4->set_threads(t);
        bf16->generate(prompt, warm); // touches every page, wakes the pool at this size
        int4->generate(prompt, warm);
        std::vector<double> ratios;
        std::string line;
        double before = timed_decode(*bf16, prompt, decode);
        for (int r = 0; r < reps; ++r) {
            const double q = timed_decode(*int4, prompt, decode);
            const double after = timed_decode(*bf16, prompt, decode);
            const double ratio = q / ((before + after) / 2);
            ratios.push_back(ratio);
            char cell[96];
            std::snprintf(cell, sizeof cell, "%s%.0f/%.0f/%.0f=%.2f", line.empty() ? "" : "  ",
                          before, q, after, ratio);
            line += cell;
            before = after;
        }
        std::printf("  %d thread(s): median %.2fx   (bf16/int4/bf16 tok/s = ratio) %s\n", t,
                    median(ratios), line.c_str());
        std::fflush(stdout);
    }
}

} // namespace bench
