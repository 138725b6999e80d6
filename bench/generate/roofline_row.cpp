// The interleaved roofline of bench_generate (roofline_row.hpp).
//
// Why: the single-stream table compares its best rep with the highest reading of a row that
// lasts a minute or more, and this VM's 2-thread read bandwidth moves between ~30 and ~60 GB/s
// within seconds (its two vCPUs are not always two cores: a register-only VNNI loop on both
// measured 0.95-1.0x the rate of one in most samples on 2026-11-27, 1.5-2x in others). A bound
// read in one state and a decode timed in the other measure the machine. Here every round is
// short (3 decodes of 64 tokens: 0.3-1.5 s) and sits between two readings taken on buffers
// allocated once (kernels::ReadProbe), so a round and its bound see the same state, or the change
// shows as a gap between the two readings; the round's bound is the higher one. Both sides are a
// best of 3: one decode against the best of several reads measured the noise against the model
// (2026-11-27: single reps put int8 at 1 thread at a median 72-88 %, where the kernels alone,
// best of 5 against best of 3, were at 0.92-1.01). The median of the rounds is the figure; the
// spread and every round are printed with it.
#include "roofline_row.hpp"

#include "bound_reading.hpp"
#include "cores_probe.hpp"
#include "prompts.hpp"
#include "roofline.hpp"
#include "stats.hpp" // bench/common

#include <llmhost/engine/engine.hpp>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace bench {

void bench_roofline_interleaved(const std::filesystem::path &dir,
                                const std::vector<std::int32_t> &prompt,
                                const RooflineRowOptions &opt) {
    if (opt.rounds <= 0 || opt.best_of <= 0 || opt.decode < 2 || opt.read_runs <= 0 ||
        opt.dtypes.empty())
        return;
    std::printf("\nratio to the bound, interleaved: %d rounds per row of the best of %d decodes of "
                "%d tokens, each round between two readings\n(best of %d reads of 512 MiB, of a "
                "B/token buffer (and of 10 in a row) and of it in the step's call pattern); a "
                "round's bound = the higher reading around it / B/token;\n"
                "median, p25-p75, min-max, rounds >= 80 %%, the readings' range, every round\n"
                "(@x: at several threads, the threads' compute over one thread's just after the "
                "round, cores_probe.hpp: ~threads x on cores, ~1x on one core):\n",
                opt.rounds, opt.best_of, opt.decode, opt.read_runs);
    std::printf("%-9s %7s %7s %10s %10s %6s %14s  %s\n", "dtype", "threads", "median", "p25-p75",
                "min-max", ">=80%", "read GB/s", "rounds (%)");
    const std::int64_t ctx = std::int64_t(prompt.size()) + opt.decode + 1;
    for (const auto &dtype : opt.dtypes) {
        llmhost::engine::LoadOptions lo{
            .device = "cpu", .dtype = dtype, .max_context = ctx, .prefix_cache = opt.prefix_cache};
        auto e = llmhost::engine::Engine::load(dir, lo);
        // Mean KV position over a decode: prompt + half the new tokens.
        const double bytes = bytes_per_token(*e, dir, double(prompt.size()) + opt.decode / 2.0);
        llmhost::engine::GenerateOptions warm, timed;
        warm.max_tokens = 2;
        timed.max_tokens = opt.decode;
        for (int t : opt.threads) {
            at::set_num_threads(t);
            e->set_threads(t);
            BoundReading bound_reading(t, bytes, step_segments(*e));
            auto reading = [&] { return bound_reading(opt.read_runs); };
            e->generate(prompt, warm); // touches every page, wakes the pool at this size
            std::vector<double> ratios;
            double before = reading(), lo_bw = before, hi_bw = before;
            std::string rounds;
            for (int r = 0; r < opt.rounds; ++r) {
                // The short request: the first ~100 ms after a pause or a reading run slowly on
                // the development VM whatever the code (bench_generate.cpp, the table).
                e->generate(prompt, warm);
                double tok_s = 0;
                for (int k = 0; k < opt.best_of; ++k)
                    tok_s = std::max(tok_s, decode_tok_s(e->generate(prompt, timed)));
                // At several threads: were they cores during this round? (cores_probe.hpp; three
                // samples of a few ms, the median.) On 2026-11-27 int8's misses at 2 threads came
                // with two cores and ~60 GB/s, its rounds on one core did well
                // (docs/cpu-inference.md).
                const double cores =
                    t > 1 ? median({compute_scaling(t), compute_scaling(t), compute_scaling(t)})
                          : std::nan("");
                const double after = reading();
                lo_bw = std::min(lo_bw, after);
                hi_bw = std::max(hi_bw, after);
                ratios.push_back(tok_s * bytes / std::max(before, after));
                rounds +=
                    (rounds.empty() ? "" : " ") + std::to_string(int(100 * ratios.back() + 0.5));
                if (!std::isnan(cores)) {
                    char c[16];
                    std::snprintf(c, sizeof c, "@%.1f", cores);
                    rounds += c;
                }
                before = after;
            }
            const auto reached =
                std::count_if(ratios.begin(), ratios.end(), [](double q) { return q >= 0.8; });
            char quart[32], range[32], reads[32], hits[16];
            std::snprintf(quart, sizeof quart, "%.0f-%.0f%%", 100 * quantile(ratios, 0.25),
                          100 * quantile(ratios, 0.75));
            std::snprintf(range, sizeof range, "%.0f-%.0f%%", 100 * quantile(ratios, 0),
                          100 * quantile(ratios, 1));
            std::snprintf(reads, sizeof reads, "%.1f-%.1f", lo_bw / 1e9, hi_bw / 1e9);
            std::snprintf(hits, sizeof hits, "%d/%d", int(reached), opt.rounds);
            std::printf("%-9s %7d %6.0f%% %10s %10s %6s %14s  %s\n", e->dtype().c_str(), t,
                        100 * quantile(ratios, 0.5), quart, range, hits, reads, rounds.c_str());
            std::fflush(stdout);
        }
    }
}

} // namespace bench
