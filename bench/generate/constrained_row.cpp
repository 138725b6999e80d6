// The constrained row of bench_generate (constrained_row.hpp).
//
// Each run is a request as the huggingface plugin serves `response_format: json_schema`: a fresh
// Constraint (cold mask caches) over the schema's grammar compiled once, a Guide per request,
// greedy and temperature 1 with a seed. Unconstrained and constrained runs alternate (same prompt,
// same seeds, same max_tokens) so background load hits both alike; best of `reps` each.
//
// Where the time goes: the guide's share (fill_mask + commit + forced per sampled token) is
// measured by replaying the constrained run's tokens through a fresh guide alone; the rest of
// the difference to unconstrained is the sampler's masked draw and the logits copy per step.
#include "constrained_row.hpp"

#include "prompts.hpp"

#include "tiny_model.hpp"

#include <llmhost/constraint/guide.hpp>
#include <llmhost/constraint/tokenizer_vocabulary.hpp>
#include <llmhost/engine/engine.hpp>
#include <llmhost/tokenizer/tokenizer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace bench {
namespace {

// A typical API response: bounded and free strings, formats, an integer range, an array of
// objects, an enum. The free `summary` keeps a random model inside a string until budget-aware
// closing, so most decoded tokens go through a real mask, not the closing plan.
constexpr const char *kSchema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},
  "name":{"type":"string","minLength":1,"maxLength":40},
  "email":{"type":"string","format":"email"},
  "age":{"type":"integer","minimum":0,"maximum":150},
  "role":{"enum":["admin","user","guest"]},
  "addresses":{"type":"array","maxItems":3,"items":{"type":"object","properties":{
    "city":{"type":"string","maxLength":30},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},
    "required":["city","zip"],"additionalProperties":false}},
  "summary":{"type":"string"}},
  "required":["id","name","email","age","role","addresses","summary"],"additionalProperties":false})";

struct Shape {
    const char *label;
    llmhost::tools::TinyModelSpec spec;
    const char *dtype; // as loaded
};

std::vector<Shape> shapes(const fs::path &tokenizer_dir) {
    llmhost::tools::TinyModelSpec big; // bench_generate's ~100M Llama body
    big.arch = "llama";
    big.seed = 100;
    big.hidden_size = 768;
    big.intermediate_size = 2048;
    big.num_layers = 10;
    big.num_heads = 12;
    big.num_kv_heads = 4;
    big.max_position_embeddings = 1024;
    big.tie_word_embeddings = true;
    big.tokenizer_dir = tokenizer_dir;
    big.dtype = "BF16"; // fp32 decodes at ~2 tok/s here (reference BLAS): too slow to repeat
    llmhost::tools::TinyModelSpec tiny = big; // the tests' tiny model (tests/huggingface chat_spec)
    tiny.seed = 77;
    tiny.hidden_size = 32;
    tiny.intermediate_size = 64;
    tiny.num_layers = 2;
    tiny.num_heads = 4;
    tiny.num_kv_heads = 2;
    tiny.dtype = "F32";
    return {{"llama-h768-l10", big, "bfloat16"}, {"llama-h32-l2", tiny, "float32"}};
}

struct Run {
    double tok_s = 0;
    std::size_t tokens = 0;
    std::int64_t forwards = 0; // decode steps (batched scheduler), fast-forwarded tokens share one
    llmhost::engine::GenerateResult result;
};

Run run_once(llmhost::engine::Engine &e, const std::vector<std::int32_t> &prompt, int decode,
             float temperature, std::uint64_t seed,
             std::shared_ptr<llmhost::constraint::Guide> guide) {
    llmhost::engine::GenerateOptions o;
    o.max_tokens = decode;
    o.eos_ids = e.eos_ids();
    o.sampling.temperature = temperature;
    o.sampling.seed = seed;
    o.guide = std::move(guide);
    const auto before = e.batch_stats();
    Run r;
    r.result = e.generate(prompt, o);
    r.forwards = e.batch_stats().decode_steps - before.decode_steps;
    r.tokens = r.result.tokens.size();
    // decode_ms covers the samples after the first and their forward passes (as the rows above).
    r.tok_s = r.tokens > 1 ? (r.tokens - 1) / (r.result.decode_ms / 1e3) : 0;
    return r;
}

struct Replay {
    double guide_us = 0; // fill_mask + commit + forced, summed over the sampled steps
    double max_step_us = 0;
    std::size_t steps = 0; // sampled tokens (the others were fast-forwarded)
    bool complete = false; // the output ends in an accepting state
};

// The engine's guide calls for one finished run (guided_step.cpp's order), timed alone.
Replay replay(const std::shared_ptr<const llmhost::constraint::Constraint> &c,
              const std::vector<std::int32_t> &tokens, int decode, std::size_t logits_width) {
    llmhost::constraint::Guide g(c);
    std::vector<std::uint32_t> mask(
        llmhost::constraint::mask_words(std::max(logits_width, g.vocab_size())));
    Replay r;
    for (std::size_t i = 0; i < tokens.size();) {
        const std::size_t left = static_cast<std::size_t>(
            std::max<std::int64_t>(decode - static_cast<std::int64_t>(i), 1));
        const auto t0 = Clock::now();
        std::fill(mask.begin(), mask.end(), 0u);
        g.fill_mask(mask, left);
        if (!g.commit(tokens[i], left)) break; // not the run's path: reported as incomplete
        const auto forced = g.forced(left - 1);
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        r.guide_us += us;
        r.max_step_us = std::max(r.max_step_us, us);
        ++r.steps;
        i += 1 + forced.size();
        if (i == tokens.size()) r.complete = g.is_accepting();
    }
    return r;
}

std::string escaped(const std::string &text, std::size_t max) {
    std::string out;
    for (char ch : text.substr(0, max)) {
        if (ch == '\n')
            out += "\\n";
        else if (ch == '\t')
            out += "\\t";
        else if (ch == '\r')
            out += "\\r";
        else
            out += ch;
    }
    return out;
}

} // namespace

void bench_constrained(const fs::path &root, const fs::path &tokenizer_dir, int prompt_len,
                       int decode_len, int reps) {
    namespace c = llmhost::constraint;
    if (!fs::exists(tokenizer_dir / "tokenizer.json")) {
        std::printf(
            "\nconstrained decoding: skipped (no tokenizer.json in %s; pass --tokenizer DIR)\n",
            tokenizer_dir.c_str());
        return;
    }
    const auto tokenizer =
        llmhost::tok::Tokenizer::from_file((tokenizer_dir / "tokenizer.json").string());
    // "json": as the plugin generates (structured_output.cpp generation_options: schema order,
    // the generation forms, at most one whitespace byte between tokens); "compact": no
    // whitespace at all.
    c::JsonSchemaOptions served;
    served.ordered_properties = true;
    served.generation = true;
    served.max_whitespace = 1;
    c::JsonSchemaOptions compact = served;
    compact.compact = true;
    auto t0 = Clock::now();
    const std::pair<const char *, std::shared_ptr<const c::Grammar>> variants[] = {
        {"json", c::Grammar::from_json_schema(kSchema, served)},
        {"compact", c::Grammar::from_json_schema(kSchema, compact)}};
    const double compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf(
        "\nconstrained decoding: JSON schema (response_format json_schema) vs unconstrained,\n"
        "prompt %d, max_tokens %d, best of %d each, runs interleaved; tokenizer %s\n"
        "(models take its vocabulary); both grammars compiled in %.2f ms\n",
        prompt_len, decode_len, reps, tokenizer_dir.c_str(), compile_ms);
    std::printf("%-15s %5s %-8s %10s %10s %7s %7s | %6s %8s %8s %8s %9s %9s %9s\n", "model", "temp",
                "grammar", "free tok/s", "json tok/s", "ratio", "ratio", "tokens", "forwards",
                "free ms", "json ms", "guide ms", "guide us", "guide us");
    std::printf("%-15s %5s %-8s %10s %10s %7s %7s | %6s %8s %8s %8s %9s %9s %9s\n", "", "", "", "",
                "", "", "/fwd", "", "", "/token", "/token", "/token", "/step", "max");
    for (const Shape &s : shapes(tokenizer_dir)) {
        const fs::path dir = root / (std::string("constrained-") + s.label);
        if (!fs::exists(dir / "model.safetensors")) {
            std::fprintf(stderr, "writing %s ...\n", dir.c_str());
            llmhost::tools::write_model_dir(s.spec, dir);
        }
        auto e = llmhost::engine::Engine::load(
            dir, {.device = "cpu", .dtype = s.dtype, .max_context = prompt_len + decode_len + 1});
        const std::size_t width = static_cast<std::size_t>(e->config().vocab_size);
        std::vector<std::int32_t> eos(e->eos_ids().begin(), e->eos_ids().end());
        const auto vocab = c::vocabulary_from_tokenizer(tokenizer, eos, width);
        const std::vector<std::int32_t> prompt = prompt_ids(prompt_len);
        (void)run_once(*e, prompt, 2, 0.0f, 1, nullptr); // warm-up: touch every weight page
        // Greedy isolates the constraint's cost (argmax either way); temperature 1 adds the
        // sampler's softmax, which differs between a full and a masked vocabulary.
        for (const float temp : {0.0f, 1.0f}) {
            Run best_free;
            Run best[2];
            for (int rep = 0; rep < reps; ++rep) {
                const std::uint64_t seed = 7 + static_cast<std::uint64_t>(rep);
                Run f = run_once(*e, prompt, decode_len, temp, seed, nullptr);
                if (f.tok_s > best_free.tok_s) best_free = std::move(f);
                for (int v = 0; v < 2; ++v) {
                    auto constraint =
                        c::Constraint::create(variants[v].second, vocab); // per request
                    Run j = run_once(*e, prompt, decode_len, temp, seed,
                                     std::make_shared<c::Guide>(constraint));
                    if (j.tok_s > best[v].tok_s) best[v] = std::move(j);
                }
            }
            for (int v = 0; v < 2; ++v) {
                const Run &j = best[v];
                // The guide alone on that run's tokens, with cold caches as in the run.
                const Replay r = replay(c::Constraint::create(variants[v].second, vocab),
                                        j.result.tokens, decode_len, width);
                const double free_ms = 1e3 / best_free.tok_s, json_ms = 1e3 / j.tok_s;
                const double guide_ms =
                    r.guide_us / 1e3 / static_cast<double>(std::max<std::size_t>(1, j.tokens));
                // Without fast-forward's gain: decode time per forward pass, free / json.
                const double per_fwd = j.forwards > 0 && best_free.forwards > 0
                                           ? (best_free.result.decode_ms / best_free.forwards) /
                                                 (j.result.decode_ms / j.forwards)
                                           : 0.0;
                std::printf("%-15s %5.1f %-8s %10.1f %10.1f %6.1f%% %6.1f%% | %6zu %8lld %8.2f "
                            "%8.2f %9.3f %9.1f %9.1f\n",
                            s.label, temp, variants[v].first, best_free.tok_s, j.tok_s,
                            100 * j.tok_s / best_free.tok_s, 100 * per_fwd, j.tokens,
                            static_cast<long long>(j.forwards), free_ms, json_ms, guide_ms,
                            r.steps ? r.guide_us / static_cast<double>(r.steps) : 0.0,
                            r.max_step_us);
                std::printf("%-15s %5s %-8s output %s: %s\n", "", "", "",
                            r.complete ? "complete" : "NOT COMPLETE",
                            escaped(tokenizer.decode(j.result.tokens), 90).c_str());
                std::fflush(stdout);
            }
        }
        std::printf("%-15s %s weights, %zu-token vocabulary\n", s.label, s.dtype, width);
    }
    std::printf(
        "ratio = json tok/s / free tok/s (issue 12's target: >= 90%%); ratio/fwd = the same per\n"
        "forward pass (decode time / decode steps), i.e. without fast-forward's gain. tok/s = "
        "(tokens - 1) /\n"
        "decode time (forwards + sampling); fast-forwarded tokens count as decoded (forwards <\n"
        "tokens). guide: fill_mask + commit + forced, replayed alone on the run's tokens (cold\n"
        "caches, as each request starts); /token: over all tokens, /step: per sampled token.\n"
        "json ms - free ms - guide ms = the sampler's masking, the logits copy and the rest.\n");
}

} // namespace bench
