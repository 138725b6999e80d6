// The prefix-cache row of bench_generate (prefix_row.hpp).
//
// An agent sends its whole conversation every turn: turn k+1's prompt is turn k's prompt, the
// answer, and a few new tokens (a tool result, the user's reply). With the cache the engine
// prefills only those; without it, everything again. Each rep first runs the previous turn
// (untimed: it leaves the history in a KV-cache row), then times the next turn on the cached
// engine and on an engine with prefix_cache off (same weights, same prompt), alternating so that
// background load hits both alike; best of `reps` each. Greedy, one new token: TTFT is prefill.
#include "prefix_row.hpp"

#include "prompts.hpp"

#include "tiny_model.hpp"

#include <llmhost/engine/engine.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using llmhost::engine::Engine;
using llmhost::engine::GenerateOptions;
using llmhost::engine::GenerateResult;

namespace bench {
namespace {

// bench_generate's ~100M Llama (spec_100m), with a context long enough for the history.
llmhost::tools::TinyModelSpec spec(const std::string &dtype, std::int64_t positions) {
    llmhost::tools::TinyModelSpec s;
    s.arch = "llama";
    s.seed = 100;
    s.vocab_size = 32000;
    s.hidden_size = 768;
    s.intermediate_size = 2048;
    s.num_layers = 10;
    s.num_heads = 12;
    s.num_kv_heads = 4;
    s.max_position_embeddings = positions;
    s.tie_word_embeddings = true;
    s.dtype = dtype;
    return s;
}

} // namespace

void bench_prefix(const fs::path &root, int prefix_len, int new_len, int reps) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // rows appear as they are measured (minutes each)
    const std::int64_t ctx = prefix_len + new_len + 8;
    const std::vector<std::int32_t> history = prompt_ids(prefix_len);
    // Each rep's new tokens differ from the last rep's at the first one, so the cached engine
    // reuses exactly the history (not the previous rep's whole prompt).
    auto next_turn = [&](int rep) {
        std::vector<std::int32_t> next = history;
        for (int i = 0; i < new_len; ++i) next.push_back((i * 104729 + 7 + 1000 * rep) % 32000);
        return next;
    };
    GenerateOptions one;
    one.max_tokens = 1;

    std::printf("\nprefix cache: TTFT of the next turn = %d-token history + %d new tokens "
                "(best of %d)\n",
                prefix_len, new_len, reps);
    std::printf("%-9s %16s %18s %8s %14s %12s\n", "dtype", "cached TTFT ms", "uncached TTFT ms",
                "ratio", "cached_tokens", "same token");
    for (const char *dtype : {"F32", "BF16"}) {
        const fs::path dir = root / (std::string("prefix-") + dtype);
        if (!fs::exists(dir / "model.safetensors")) {
            std::fprintf(stderr, "writing %s ...\n", dir.c_str());
            llmhost::tools::write_model_dir(spec(dtype, ctx), dir);
        }
        const std::string as = std::string(dtype) == "F32" ? "float32" : "bfloat16";
        auto on = Engine::load(dir, {.device = "cpu", .dtype = as, .max_context = ctx});
        auto off = Engine::load(
            dir, {.device = "cpu", .dtype = as, .max_context = ctx, .prefix_cache = false});
        GenerateOptions warm;
        warm.max_tokens = 4;
        const std::vector<std::int32_t> short_prompt(history.begin(), history.begin() + 16);
        off->generate(short_prompt, warm); // every weight page touched once
        double best_on = std::numeric_limits<double>::max(), best_off = best_on;
        std::int64_t cached = -1; // the same in every rep, else -2
        bool same = true;
        for (int rep = 0; rep < reps; ++rep) {
            on->generate(history, one); // the previous turn (untimed): a row holds the history
            const std::vector<std::int32_t> next = next_turn(rep);
            const GenerateResult a = on->generate(next, one);
            const GenerateResult b = off->generate(next, one);
            best_on = std::min(best_on, a.time_to_first_token_ms);
            best_off = std::min(best_off, b.time_to_first_token_ms);
            if (rep == 0) cached = a.cached_tokens;
            if (a.cached_tokens != cached) cached = -2;
            same = same && a.tokens == b.tokens;
        }
        std::printf("%-9s %16.1f %18.1f %7.1fx %14lld %12s\n", on->dtype().c_str(), best_on,
                    best_off, best_off / best_on, static_cast<long long>(cached),
                    same ? "yes" : "NO");
    }
    std::printf("cached: prefix cache on (the default), the history reused from the row the "
                "previous turn left;\nuncached: LoadOptions::prefix_cache = false, the whole "
                "prompt prefilled. same token: both engines' first token.\n");
}

} // namespace bench
