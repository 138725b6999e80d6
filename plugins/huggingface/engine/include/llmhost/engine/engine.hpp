// llmhost::engine — runs a Hugging Face causal LM from its directory on libtorch (CPU or CUDA).
//
//   auto e = Engine::load("/models/tiny-llama", {.device = "cpu"});
//   auto r = e->generate(prompt_ids, opts, [&](int32_t id) { ...; return StepAction::Continue; });
//
// The engine works on token ids; text (tokenizer, chat template, stop strings) is the plugin's
// business. One Engine owns one static KV cache of max_batch rows ("slots") of max_context
// positions each, allocated at load time.
//
// Concurrency: generate() is thread-safe. With max_batch > 1 (the default) concurrent calls are
// batched continuously by one loop thread (batch_scheduler.hpp): a request takes a free slot at
// the next step, is prefilled alone, then decodes together with the others in one forward per
// step, and frees its slot when it finishes; requests beyond max_batch wait for a slot. Each
// request keeps its own sampling parameters and RNG, so its tokens are the ones it would get
// alone. on_token and should_cancel are always called on the thread that called generate().
// With max_batch = 1 calls run one at a time on the calling thread (the serial path).
//
// Context policy: a prompt that does not leave room for one new token is refused with
// LLMH_ERR_CONTEXT_OVERFLOW; an explicit max_tokens that would run past the context is refused
// the same way; without max_tokens, generation stops at the end of the context with
// finish reason "length". Nothing is truncated silently.
//
// This header is torch-free on purpose: the plugin's other files compile without libtorch.
// Errors are llmh::Error (plugin.hpp) with an ABI code, a message naming the thing, and a hint.
#pragma once

#include <llmhost/engine/logprobs.hpp>
#include <llmhost/engine/model_config.hpp>
#include <llmhost/engine/sampling.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace llmhost::constraint {
class Guide; // llmhost/constraint/guide.hpp
}

namespace llmhost::engine {

struct LoadOptions {
    std::string device = "auto";  // auto | cpu | cuda | cuda:N (HF_DEVICE)
    std::string dtype = "auto";   // auto | float32 | bfloat16 | float16 (CPU: fp32 or bf16)
    std::int64_t max_context = 0; // KV-cache length; 0: min(max_position_embeddings, 4096)
    int threads = 0;              // CPU threads (libtorch, OpenBLAS); 0: physical cores
    // Concurrent sequences (KV-cache slots); 0: 8 on CUDA, 4 on the CPU; 1: no batching.
    std::int64_t max_batch = 0;
    // Prefix cache (docs/architecture.md): a request whose prompt starts with what a free KV-cache
    // row already holds (the previous turn of the conversation) prefills only the rest.
    bool prefix_cache = true;
};

enum class StepAction { Continue, Stop };
enum class Finish { Stop, Length };

struct GenerateOptions {
    SamplingParams sampling;
    std::int64_t max_tokens = 0;       // <= 0: until eos or the end of the context
    std::vector<std::int64_t> eos_ids; // stop ids (not passed to on_token)
    // Log-probabilities per generated token (logprobs.hpp): computed only when asked, for this
    // request only (a batched neighbour that did not ask pays nothing).
    bool logprobs = false;
    int top_logprobs = 0; // alternatives per token (0..20)
    // Grammar-constrained decoding (docs/structured-output.md): the guide's mask is applied in
    // the sampler before every other processor, eos comes only where the grammar accepts, and
    // the output is closed within max_tokens (budget-aware closing; finish stays Length).
    // Forced tokens are fast-forwarded: appended without sampling and fed to the model in one
    // pass (not with logprobs, which need each token's own logits). One guide per request.
    std::shared_ptr<constraint::Guide> guide;
};

struct GenerateResult {
    std::vector<std::int32_t> tokens;    // generated ids (eos excluded)
    std::vector<TokenLogprobs> logprobs; // one per token when GenerateOptions::logprobs
    Finish finish = Finish::Stop;
    std::int64_t prompt_tokens = 0;
    std::int64_t cached_tokens = 0; // of prompt_tokens, those reused from the prefix cache
    double time_to_first_token_ms = 0; // prefill + first sample
    double prefill_ms = 0, decode_ms = 0, total_ms = 0;
};

// What the batch scheduler did since load (all zero with max_batch = 1).
struct BatchStats {
    std::int64_t prefills = 0;        // requests admitted into a slot
    std::int64_t decode_steps = 0;    // batched decode forwards
    std::int64_t decode_rows = 0;     // active sequences summed over those steps
    std::int64_t max_active_rows = 0; // most sequences decoded by one step
    double decode_ms = 0;             // time in decode steps (forward + sampling)
    // Now (as of the loop's last step): sequences holding a slot, and the KV-cache positions
    // they hold (their current lengths, summed). With max_batch = 1: the running request's.
    std::int64_t active_rows = 0;
    std::int64_t active_positions = 0;
    // Decoded rows whose id was picked on the device (no penalty, logprobs or guide, off the
    // CPU: engine/src/device_pick.hpp): only an id came back, not the row's logits.
    std::int64_t device_picked_rows = 0;
};

// What the prefix cache did since load (all zero when LoadOptions::prefix_cache is false).
struct PrefixCacheStats {
    std::int64_t lookups = 0;       // requests that looked for a cached prefix
    std::int64_t hits = 0;          // of those, requests that reused at least one position
    std::int64_t reused_tokens = 0; // prompt positions not recomputed, summed
    std::int64_t copied = 0;        // hits served by copying the prefix from another row
};

// Called with each generated id; Stop ends generation with Finish::Stop (e.g. a stop string).
using TokenFn = std::function<StepAction(std::int32_t id)>;
// Polled before prefill and between decode steps; true cancels (llmh::Error cancelled).
using CancelFn = std::function<bool()>;
// With GenerateOptions::logprobs: called with each generated token's logprobs right BEFORE
// on_token(id) for that token, on the same thread. Not called for eos.
using LogprobFn = std::function<void(const TokenLogprobs &)>;

// The widest team the engine's own parallel loops (the decode kernels, attention,
// dequantization) have run on in this process since the last reset: with threads() > 1 and
// matrices large enough to split (>= 64 KiB a chunk), it equals the thread count; 1 means they
// ran on the caller's thread alone. reset = true returns the count and starts anew. For the
// benches and tests that check the threads are really used (models/parallel.hpp says why).
int parallel_team_high_water(bool reset = false);

class Engine {
public:
    static std::unique_ptr<Engine> load(const std::filesystem::path &model_dir,
                                        const LoadOptions &opts = {});
    ~Engine();

    // What load(model_dir, opts) would take, in bytes: the weights as computed on (dtype after
    // conversion, from the safetensors headers) + the KV cache. Reads headers only; throws what
    // load() throws for a bad directory, device, dtype or max_context.
    static std::size_t estimate_memory(const std::filesystem::path &model_dir,
                                       const LoadOptions &opts = {});

    GenerateResult generate(std::span<const std::int32_t> prompt, const GenerateOptions &opts,
                            const TokenFn &on_token = {}, const CancelFn &should_cancel = {},
                            const LogprobFn &on_logprobs = {});

    // Low level, for tests and benchmarks: run `ids` at positions start_pos.. through the model,
    // using (and filling) slot 0 of the KV cache, which must already hold positions
    // [0, start_pos). Not to be called while generate() runs on another thread.
    // Returns fp32 logits, row-major [ids.size(), vocab] (all_logits) or [1, vocab].
    std::vector<float> forward(std::span<const std::int32_t> ids, std::int64_t start_pos,
                               bool all_logits);

    const ModelConfig &config() const;
    const GenerationDefaults &generation_defaults() const;
    // eos ids: generation_config.json's, else config.json's.
    const std::vector<std::int64_t> &eos_ids() const;
    std::int64_t max_context() const;
    std::int64_t max_batch() const; // KV-cache slots (1: serial path)
    BatchStats batch_stats() const;
    // The batched decode step on the device: "graphs: N captured" (CUDA graphs, one per attended
    // length bucket), "eager" (the static step without graphs: LLMHOST_DECODE_GRAPHS=eager),
    // "off", or "off: <why graphs were turned off>" (a failed capture or check).
    std::string decode_graph_status() const;
    PrefixCacheStats prefix_cache_stats() const;
    std::string device() const;       // "cpu", "cuda:0"
    std::string dtype() const;        // "float32", "bfloat16", "float16"
    std::size_t weight_bytes() const; // bytes of weights as computed on (after conversion)
    std::size_t kv_cache_bytes() const;
    bool weights_mapped() const; // true when CPU weights are views of the mmap
    // CPU intra-op threads the model runs with (LoadOptions::threads as applied), and a change
    // of it: 0 = one per physical core. Applied on the thread that runs the next step.
    void set_threads(int threads);
    int threads() const;

    struct Impl;

private:
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace llmhost::engine
