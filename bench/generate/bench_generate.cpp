// bench_generate: how close the CPU decode loop gets to the memory-bandwidth limit.
//
// Decoding one token reads every weight once (batch 1), so tok/s <= bandwidth / bytes per token
// (roofline.hpp: computed from the loaded model). The bandwidth is measured in the same run the
// way STREAM does (a vectorized read of 512 MiB, best of 5) at 1 thread and at all physical
// cores; prefill and decode tok/s of fp32 and bf16 are measured at both thread counts and printed
// next to the bound at that count, with a warning if the model streams faster than the "bound".
// Then prefill of a long (2k-token) prompt, fp32 (through the process's BLAS) vs bf16. Also RSS
// (anonymous vs file-backed) after loading, to show the weights are the mmap'd file, not a copy.
//
// Then int4 / bf16 decode measured interleaved, rep by rep (paired_row.cpp), and the ratio to
// the bound measured the same way: rounds of a few short decodes, each round between two
// bandwidth readings (roofline_row.cpp; --only roofline runs it alone).
//
// Then concurrency: aggregate tok/s of 1, 4 and 8 streams (threads calling generate at once)
// on the batch scheduler (max_batch 8) vs the serial path (max_batch 1: one request at a time,
// as before batching), same model files, same run, printed as a ratio.
//
// Then constrained decoding (constrained_row.cpp): decode tok/s under a JSON-schema constraint
// vs unconstrained, same model, same run, with the Llama-3.1 tokenizer's 128k vocabulary.
//
//   bench_generate [--dir /tmp/llmhost-bench-llama100m] [--prompt 128] [--decode 64]
//                  [--stream-prompt 32] [--stream-decode 32] [--long-prompt 2048]
//                  [--blas-threads N]
//                  [--constrained-decode 128] [--constrained-reps 3] [--tokenizer DIR]
//                  [--only single|roofline|streams|constrained|prefix] [--prefix 2048]
//                  [--prefix-new 50] [--roofline-rounds 7] [--roofline-best-of 3]
//                  [--roofline-decode 64]
//                  [--dtypes float32,bfloat16,int8,int4] [--threads N[,M]] [--cached-prompt 1]
// --dtypes / --threads: only those rows of the single-stream table (to profile one of them).
// --cached-prompt 1: the single-stream table with the prefix cache on, so the reps after the
// warm-up reuse the prompt's KV and only decode: decode at long context (--prompt 2000) without
// re-prefilling the prompt for every rep (the prefill column then says "cached"; no long prompt).
// --only prefix: TTFT of an agent's next turn with the prefix cache vs without (prefix_row.cpp).
#include "args.hpp" // bench/common
#include "bound_reading.hpp"
#include "constrained_row.hpp"
#include "paired_row.hpp"
#include "prefix_row.hpp"
#include "prompts.hpp"
#include "roofline.hpp"
#include "roofline_row.hpp"
#include "streams.hpp"
#include "tiny_model.hpp"

#include <llmhost/engine/blas_probe.hpp>
#include <llmhost/engine/cpu_topology.hpp>
#include <llmhost/engine/engine.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::pair<long, long> rss_anon_file_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    long anon = 0, file = 0;
    while (std::getline(in, line)) {
        if (line.rfind("RssAnon:", 0) == 0) anon = std::stol(line.substr(8));
        if (line.rfind("RssFile:", 0) == 0) file = std::stol(line.substr(8));
    }
    return {anon, file};
}

llmhost::tools::TinyModelSpec spec_100m(const std::string &dtype) {
    llmhost::tools::TinyModelSpec s;
    s.arch = "llama";
    s.seed = 100;
    s.vocab_size = 32000;
    s.hidden_size = 768;
    s.intermediate_size = 2048;
    s.num_layers = 10;
    s.num_heads = 12;
    s.num_kv_heads = 4; // GQA, as current Llamas
    s.max_position_embeddings = 4096; // room for the long-prompt prefill row
    s.tie_word_embeddings = true;
    s.dtype = dtype;
    return s;
}

void bench_streams(const fs::path &root, int prompt_len, int decode) {
    std::printf(
        "\nconcurrent streams: aggregate decode+prefill tok/s (prompt %d, %d new tokens each)\n",
        prompt_len, decode);
    std::printf("%-9s %8s %13s %14s %7s | %14s %15s %7s %10s\n", "dtype", "streams", "serial tok/s",
                "batched tok/s", "ratio", "serial decode", "batched decode", "ratio", "rows/step");
    for (const char *dtype : {"F32", "BF16"}) {
        const fs::path dir = root / dtype;
        const std::string dt = std::string(dtype) == "F32" ? "float32" : "bfloat16";
        const std::int64_t ctx = prompt_len + decode + 1;
        auto serial = llmhost::engine::Engine::load(
            dir, {.device = "cpu", .dtype = dt, .max_context = ctx, .max_batch = 1});
        auto batched = llmhost::engine::Engine::load(
            dir, {.device = "cpu", .dtype = dt, .max_context = ctx, .max_batch = 8});
        (void)bench::aggregate_tok_s(*serial, 1, prompt_len, 2); // warm-up: touch every weight page
        (void)bench::aggregate_tok_s(*batched, 1, prompt_len, 2);
        for (int streams : {1, 4, 8}) {
            const auto before = batched->batch_stats();
            const bench::StreamRun s = bench::aggregate_tok_s(*serial, streams, prompt_len, decode);
            const bench::StreamRun b =
                bench::aggregate_tok_s(*batched, streams, prompt_len, decode);
            const auto after = batched->batch_stats();
            const double rows_decoded = double(after.decode_rows - before.decode_rows);
            const double rows =
                rows_decoded / std::max<std::int64_t>(1, after.decode_steps - before.decode_steps);
            // Decode only: tokens decoded per second spent in decode steps (prefills excluded).
            const double s_dec = s.decode_tokens / (s.decode_ms_sum / 1e3);
            const double b_dec = rows_decoded / ((after.decode_ms - before.decode_ms) / 1e3);
            std::printf("%-9s %8d %13.1f %14.1f %6.2fx | %14.1f %15.1f %6.2fx %10.2f\n",
                        serial->dtype().c_str(), streams, s.tok_s, b.tok_s, b.tok_s / s.tok_s,
                        s_dec, b_dec, b_dec / s_dec, rows);
            std::fflush(stdout);
        }
    }
    std::printf("serial = max_batch 1 (requests one at a time, the path before batching);\n"
                "batched = max_batch 8 (continuous batching); ratio = batched / serial.\n"
                "tok/s: all generated tokens / wall time (each stream's prefill included);\n"
                "decode: decoded tokens / time in decode steps (prefill excluded).\n");
}

// Older bench dirs were written with 1024 positions; the llama body does not depend on it, so
// only config.json is updated (atomically: another bench may be reading the weights).
void ensure_positions(const fs::path &dir, std::int64_t positions) {
    nlohmann::json cfg = nlohmann::json::parse(std::ifstream(dir / "config.json"));
    if (cfg.value("max_position_embeddings", std::int64_t{0}) >= positions) return;
    cfg["max_position_embeddings"] = positions;
    const fs::path tmp = dir / "config.json.tmp";
    std::ofstream(tmp) << cfg.dump(2);
    fs::rename(tmp, dir / "config.json");
}

std::string only_dtypes;       // --dtypes: comma-separated; empty: all four
bool cached_prompt = false;    // --cached-prompt 1: reps reuse the prompt's KV (prefix cache)
std::vector<int> only_threads; // --threads: thread counts of the single table; empty: 1 and all
int blas_threads = 0; // --blas-threads: OpenBLAS's pool size; 0: the intra-op count, as the engine
int roofline_rounds = 7, roofline_best_of = 3, roofline_decode = 64; // roofline_row.hpp

// A row of the single-stream table that --dtypes keeps.
bool listed(const std::string &dtype) {
    return only_dtypes.empty() ||
           ("," + only_dtypes + ",").find("," + dtype + ",") != std::string::npos;
}

void set_threads(int n) {
    at::set_num_threads(n);
    llmhost::engine::set_blas_threads(blas_threads > 0 ? blas_threads : n); // fp32 matmuls
}

// The single-stream table: for each dtype and thread count (1, all physical cores), prefill and
// decode tok/s next to the decode bound at that thread count and the ratio; then prefill of a
// `long_prompt`-token prompt at all cores, fp32 vs bf16.
// 1 and all physical cores, or --threads.
std::vector<int> thread_counts() {
    if (!only_threads.empty()) return only_threads;
    const int all = llmhost::engine::default_cpu_threads();
    std::vector<int> counts = {1};
    if (all > 1) counts.push_back(all);
    return counts;
}

// The interleaved roofline for the packed formats --dtypes keeps (float32's projections are
// OpenBLAS's: no target of its own).
void bench_roofline(const fs::path &root, int prompt_len) {
    bench::RooflineRowOptions o;
    o.dtypes.clear();
    for (const char *d : {"bfloat16", "int8", "int4"})
        if (listed(d)) o.dtypes.push_back(d);
    o.threads = thread_counts();
    o.rounds = roofline_rounds;
    o.best_of = roofline_best_of;
    o.decode = roofline_decode;
    o.prefix_cache = cached_prompt;
    bench::bench_roofline_interleaved(root / "BF16", bench::prompt_ids(prompt_len), o);
}

void bench_single(const fs::path &root, int prompt_len, int decode_len, int long_prompt) {
    const int all = llmhost::engine::default_cpu_threads();
    const std::vector<int> counts = thread_counts();
    std::vector<bench::ReadBandwidth> bw;
    for (int t : counts) bw.push_back(bench::read_bandwidth(t));
    std::printf("read bandwidth (vectorized read of 512 MiB, best of 5):");
    for (const auto &b : bw) std::printf("  %d thread(s) %.1f GB/s", b.threads, b.bytes_per_s / 1e9);
    const auto &blas = llmhost::engine::process_blas();
    std::printf("\nBLAS for fp32 matmuls: %s (%s)\n\n", blas.name().c_str(),
                blas.library.empty() ? "none loaded" : blas.library.c_str());
    std::printf("%-9s %7s %9s %9s %14s %13s %12s %7s %14s %11s %11s\n", "dtype", "threads",
                "weights", "B/token", "prefill tok/s", "decode tok/s", "bound tok/s", "ratio",
                "ratio per rep", "RssAnon MB", "RssFile MB");
    struct Long {
        std::string dtype;
        double ms = 0;
    };
    std::vector<Long> longs;
    std::vector<std::string> warnings;
    const auto prompt = bench::prompt_ids(prompt_len);
    struct Row {
        const char *dir, *dtype; // int8/int4 are quantized from the bf16 checkpoint at load
    };
    for (const Row row : {Row{"F32", "float32"}, Row{"BF16", "bfloat16"}, Row{"BF16", "int8"},
                          Row{"BF16", "int4"}}) {
        if (!listed(row.dtype)) continue;
        const fs::path dir = root / row.dir;
        const auto before = rss_anon_file_kb();
        const std::int64_t ctx = std::max(prompt_len + decode_len, long_prompt) + 1;
        // Prefix cache off: every timed run repeats the prompt, and a cached one is not a prefill
        // (unless --cached-prompt: then only decode is measured, at the prompt's length).
        auto e = llmhost::engine::Engine::load(
            dir, {.device = "cpu",
                  .dtype = row.dtype,
                  .max_context = ctx,
                  .prefix_cache = cached_prompt});
        // Warm-up (touches every weight page, so the timed runs are not measuring disk reads).
        llmhost::engine::GenerateOptions warm;
        warm.max_tokens = 2;
        e->generate(prompt, warm);
        const auto after = rss_anon_file_kb();
        // Mean KV position over the decode: prompt + half the new tokens.
        const double bytes = bench::bytes_per_token(*e, dir, prompt_len + decode_len / 2.0);
        for (std::size_t k = 0; k < counts.size(); ++k) {
            set_threads(counts[k]);
            e->set_threads(counts[k]); // the engine's loop thread runs the model
            double best_prefill = 0, best_decode = 0;
            llmhost::engine::parallel_team_high_water(true);
            // The bound uses the highest read bandwidth seen at this thread count: the one
            // measured before the table, and one before and one after each rep (best of 5
            // reads each). On a shared VM the neighbours' load moves both by +-30 % within a
            // minute, and a few reads of 20 ms sample that poorly; the maximum keeps the bound
            // an upper bound (a low reading would make the ratio look better than it is).
            // Each time, four readings (bound_reading.hpp): 512 MiB; a buffer of B/token bytes
            // read over and over as a decode reads the weights (best of a few, and ten passes
            // in a row of the busy loop); and that buffer read call by call in the step's
            // pattern. Part of a ~100 MB buffer stays in the L3 from one pass to the next (this
            // VM: 28-41 GB/s at 64 MiB, 27-28 at 176 MiB, 24-27 at 512 MiB), and the int8 model
            // (95 MB a token) streamed faster than the 512 MiB read.
            // Each rep is also compared with the readings just before and just after it (the
            // "ratio per rep"): the machine's bandwidth drifts by more than the kernels' distance
            // from it within a row, and a rep against a reading taken a minute away measures
            // the drift as much as the decode.
            bench::ReadBandwidth row_bw = bw[k];
            bench::BoundReading reading(counts[k], bytes, bench::step_segments(*e));
            auto read_bw = [&] {
                const double best = reading(5);
                row_bw.bytes_per_s = std::max(row_bw.bytes_per_s, best);
                return best;
            };
            std::vector<double> rep_ratios;
            for (int rep = 0; rep < 3; ++rep) {
                const double bw_before = read_bw();
                // A short request between the bandwidth reading and the timed one: on the
                // development VM the first ~100 ms after the reading (or after any pause) run
                // several times slower, whatever the code (a 16-token prefill: 20-25 ms warm,
                // 40-170 ms then), which is the machine waking up, not the engine's speed.
                e->generate(prompt, warm);
                llmhost::engine::GenerateOptions o;
                o.max_tokens = decode_len;
                auto r = e->generate(prompt, o);
                best_prefill = std::max(best_prefill, prompt_len / (r.prefill_ms / 1e3));
                const double decode = bench::decode_tok_s(r);
                best_decode = std::max(best_decode, decode);
                const double bw_after = read_bw();
                rep_ratios.push_back(decode / (std::max(bw_before, bw_after) / bytes));
            }
            const double bound = row_bw.bytes_per_s / bytes;
            std::printf("%-9s %7d %7.0fMB %7.0fMB ", e->dtype().c_str(), counts[k],
                        e->weight_bytes() / 1e6, bytes / 1e6);
            if (cached_prompt)
                std::printf("%14s", "cached");
            else
                std::printf("%14.1f", best_prefill);
            std::printf(" %13.1f %12.1f %6.0f%%", best_decode, bound, 100 * best_decode / bound);
            std::string per_rep;
            for (double q : rep_ratios)
                per_rep += (per_rep.empty() ? "" : "/") + std::to_string(int(100 * q + 0.5));
            std::printf(" %13s%%", per_rep.c_str());
            if (k == 0)
                std::printf(" %11.0f %11.0f", (after.first - before.first) / 1024.0,
                            (after.second - before.second) / 1024.0);
            std::printf("\n");
            // The threads that really ran the kernels' chunks (models/parallel.hpp says why).
            // Not for float32: its projections are BLAS's (OpenBLAS's own threads), and its only
            // engine loop, attention, stays on one thread at a short context by design.
            const int team = llmhost::engine::parallel_team_high_water();
            if (team != counts[k] && e->dtype() != "float32")
                warnings.push_back("WARNING: " + e->dtype() + " at " + std::to_string(counts[k]) +
                                   " thread(s): the engine's parallel loops ran on " +
                                   std::to_string(team) + " thread(s)");
            std::fflush(stdout);
            const auto w = bench::check_bound(e->dtype() + " decode at " +
                                                  std::to_string(counts[k]) + " thread(s)",
                                              best_decode, bytes, row_bw);
            if (!w.empty()) warnings.push_back(w);
        }
        if (long_prompt > 0) {
            set_threads(all);
            e->set_threads(all);
            const auto lp = bench::prompt_ids(long_prompt);
            double best = 0;
            for (int rep = 0; rep < 2; ++rep) {
                llmhost::engine::GenerateOptions o;
                o.max_tokens = 1;
                const auto r = e->generate(lp, o);
                best = best == 0 ? r.prefill_ms : std::min(best, r.prefill_ms);
            }
            longs.push_back({e->dtype(), best});
        }
        std::printf("          weights are %s\n", e->weights_mapped()
                                                      ? "views of the mmap'd safetensors (no copy)"
                                                      : "a converted copy");
    }
    std::printf(
        "\nB/token = bytes one decoded token streams (weights as computed on, less unread\n"
        "embedding rows, plus the KV cache at the mean position); bound = the highest read\n"
        "bandwidth measured at that thread count (above, and before and after each of the\n"
        "row's reps, of 512 MiB and of a B/token-sized buffer) / B/token; ratio = best decode "
        "tok/s / bound;\nratio per rep = each rep's decode tok/s / the bound of the readings just "
        "before and after it. RssAnon/RssFile:\n"
        "growth after load + warm-up (anonymous = KV cache, activations, any copies;\n"
        "file = mmap'd weights).\n");
    for (const auto &w : warnings) std::printf("%s\n", w.c_str());
    if (listed("bfloat16") && listed("int4"))
        bench::bench_int4_vs_bf16(root / "BF16", prompt, decode_len, counts, cached_prompt);
    bench_roofline(root, prompt_len);
    if (!longs.empty()) {
        std::printf("\nprefill of a %d-token prompt, %d thread(s), best of 2:\n", long_prompt, all);
        const bool vs_fp32 = longs.front().dtype == "float32"; // --dtypes may leave it out
        for (const auto &l : longs) {
            std::printf("  %-9s %9.0f ms %9.1f tok/s", l.dtype.c_str(), l.ms,
                        long_prompt / (l.ms / 1e3));
            if (vs_fp32) std::printf(" %6.2fx fp32's speed", longs.front().ms / l.ms);
            std::printf("\n");
        }
    }
}

} // namespace

int main(int argc, char **argv) {
    std::string root = "/tmp/llmhost-bench-llama100m";
    int prompt_len = 128, decode_len = 64, stream_prompt = 32, stream_decode = 32;
    int constrained_decode = 128, constrained_reps = 3;
    int prefix_len = 2048, prefix_new = 50;
    int long_prompt = 2048;
    std::string only, tokenizer = LLMHOST_BENCH_TOKENIZER_DIR;
    if (argc % 2 == 0) { // options come in pairs: the last one has no value
        std::fprintf(stderr, "bench_generate: %s needs a value\n", argv[argc - 1]);
        return 2;
    }
    // The numeric options, each parsed whole (bench/common/args.hpp).
    const std::pair<const char *, int *> numbers[] = {
        {"--prompt", &prompt_len},
        {"--decode", &decode_len},
        {"--stream-prompt", &stream_prompt},
        {"--stream-decode", &stream_decode},
        {"--constrained-decode", &constrained_decode},
        {"--constrained-reps", &constrained_reps},
        {"--long-prompt", &long_prompt},
        {"--blas-threads", &blas_threads},
        {"--prefix", &prefix_len},
        {"--prefix-new", &prefix_new},
        {"--roofline-rounds", &roofline_rounds},
        {"--roofline-best-of", &roofline_best_of},
        {"--roofline-decode", &roofline_decode},
    };
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const char *v = argv[i + 1];
        bool number_ok = true;
        const auto n = std::find_if(std::begin(numbers), std::end(numbers),
                                    [&](const auto &o) { return a == o.first; });
        if (n != std::end(numbers))
            number_ok = bench::parse_int(v, *n->second);
        else if (a == "--threads")
            number_ok = bench::parse_int_list(v, only_threads);
        else if (a == "--dir")
            root = v;
        else if (a == "--only")
            only = v;
        else if (a == "--tokenizer")
            tokenizer = v;
        else if (a == "--dtypes")
            only_dtypes = v;
        else if (a == "--cached-prompt")
            cached_prompt = std::string(v) == "1";
        else {
            std::fprintf(stderr, "bench_generate: unknown option %s\n", a.c_str());
            return 2;
        }
        if (!number_ok) {
            std::fprintf(stderr, "bench_generate: %s wants a number, got '%s'\n", a.c_str(), v);
            return 2;
        }
    }
    std::printf("threads: %d (libtorch intra-op)\n", at::get_num_threads());
    if (only == "prefix") {
        bench::bench_prefix(root, prefix_len, prefix_new, 3);
        return 0;
    }
    if (only == "constrained") {
        bench::bench_constrained(root, tokenizer, 32, constrained_decode, constrained_reps);
        return 0;
    }
    for (const char *dtype : {"F32", "BF16"}) {
        const fs::path dir = fs::path(root) / dtype;
        if (!fs::exists(dir / "model.safetensors")) {
            std::fprintf(stderr, "writing %s ...\n", dir.c_str());
            llmhost::tools::write_model_dir(spec_100m(dtype), dir);
        }
        ensure_positions(dir, spec_100m(dtype).max_position_embeddings);
    }
    if (only == "streams") {
        bench_streams(root, stream_prompt, stream_decode);
        return 0;
    }
    if (only == "roofline") {
        bench_roofline(root, prompt_len);
        return 0;
    }
    // Each Engine::load below resets threads. With the prompt cached, a long prompt's second rep
    // would be a cache hit, not a prefill: no long prompt then.
    bench_single(root, prompt_len, decode_len, cached_prompt ? 0 : long_prompt);
    if (only != "single") bench_streams(root, stream_prompt, stream_decode);
    if (only.empty())
        bench::bench_constrained(root, tokenizer, 32, constrained_decode, constrained_reps);
    return 0;
}
