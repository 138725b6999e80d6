// Continuous batching: one loop thread serves every concurrent generate() call of an Engine.
//
// The KV cache has one row per slot (max_batch rows). Each step of the loop
//   (a) admits waiting requests into free slots and prefills each newcomer in one pass over
//       its prompt, writing only its own cache row. The prefix cache (prefix_cache.hpp) picks
//       the slot: the free row that already holds the longest prefix of the prompt (a
//       conversation's previous turn), else the least recently used one; only the part of the
//       prompt beyond the reused prefix is prefilled;
//   (b) runs ONE decode forward for all active slots: every row carries its own position, so
//       sequences at different points of their generation share the step;
//   (c) samples each slot with its request's own Sampler (own params, own RNG: the same seed
//       gives the same tokens as the single-sequence path), hands the id to the request, and
//       retires slots that hit eos, their token budget, or were abandoned by their caller.
// The decode forward covers the contiguous slot range [lowest active, highest active] as a
// narrowed view of the cache (no copy). A free slot inside that range runs a dummy token just
// past what its row holds for the prefix cache (so the cached prefix survives): harmless,
// because a newcomer rewrites every position beyond its reused prefix before reading it, and
// the causal mask hides every position beyond a row's own.
//
// Callers never run model code: the engine's generate() submits a BatchRequest and then, on its
// own thread, drains the request's token queue, calls on_token, polls cancellation, and sets
// `abandoned` to make the loop retire the slot at its next step (stop string, cancel).
#pragma once

#include "../../models/model.hpp"
#include "guided_step.hpp"
#include "prefix_cache.hpp"
#include "static_decode.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/engine/logprobs.hpp>
#include <llmhost/engine/sampling.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace llmhost::engine {

struct BatchRequest {
    // Set by the caller before submit(); read-only afterwards.
    std::vector<std::int32_t> prompt;
    SamplingParams sampling;
    std::vector<std::int64_t> eos_ids;
    std::int64_t budget = 0; // tokens to generate at most (already checked against the context)
    bool logprobs = false;   // compute TokenLogprobs for each delivered id (this slot only)
    int top_logprobs = 0;
    std::shared_ptr<constraint::Guide> guide; // grammar-constrained decoding (engine.hpp)

    // Set by the caller at any time: the loop retires the slot at its next step.
    std::atomic<bool> abandoned{false};

    // Written by the loop thread, read by the caller, under mu.
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::int32_t> pending;           // sampled ids not yet delivered to on_token
    std::deque<TokenLogprobs> pending_logprobs; // parallel to pending when logprobs
    bool done = false;
    Finish finish = Finish::Length;
    std::exception_ptr error;
    double prefill_ms = 0;
    std::int64_t cached_tokens = 0; // prompt positions reused from the prefix cache
};

class BatchScheduler {
public:
    // `cache` and `prefix` must have `slots` rows; all three outlive the scheduler, which
    // acquires and releases the prefix cache's slots (nobody else may while it runs).
    // `threads`: the engine's intra-op thread count, applied on the loop thread before each step
    // (libtorch's setting is per thread under OpenMP: the loop thread would otherwise use the
    // OpenMP default, whatever the engine was configured with).
    BatchScheduler(CausalLM &model, KVCache &cache, PrefixCache &prefix, at::Device device,
                   std::int64_t slots, const std::atomic<int> &threads);
    ~BatchScheduler(); // finishes the loop; requests still running end with an error
    BatchScheduler(const BatchScheduler &) = delete;
    BatchScheduler &operator=(const BatchScheduler &) = delete;

    void submit(std::shared_ptr<BatchRequest> req);
    std::int64_t slots() const { return static_cast<std::int64_t>(slots_.size()); }
    BatchStats stats() const;
    // The static decode step (static_decode.hpp): "graphs: N captured", "eager", "off" or
    // "off: <why>".
    std::string decode_graph_status() const;

private:
    struct Slot {
        std::shared_ptr<BatchRequest> req;
        std::optional<Sampler> sampler;
        std::vector<std::int32_t> history; // prompt + generated (repetition penalty)
        std::int64_t generated = 0;        // ids handed to the request
        std::int64_t next_pos = 0;         // position of the last sampled id (decoded next step)
        std::int64_t fed = 0;              // history[0, fed) has run: the row holds it
        std::int32_t last_id = 0;
        std::vector<float> raw;           // logits before sampling (logprobs only)
        std::optional<GuidedStep> guided; // with a guide
        // Fast-forwarded ids to write into the cache before the next decode (all but the last
        // delivered id, which is decoded as usual): one extra pass instead of one per id.
        std::vector<std::int32_t> feed;
    };

    void loop();
    // Prefills a newcomer into pick.slot (reusing the cached prefix pick.reuse, copied from
    // pick.source's row first when that is another row).
    void admit(std::shared_ptr<BatchRequest> req, const PrefixCache::Pick &pick);
    void decode_step();
    // Writes a slot's fast-forwarded ids into its cache row (see Slot::feed).
    void feed_forced(std::size_t slot_index);
    // Samples from `logits` (fp32, one row), delivers the id or finishes the request.
    void sample_and_deliver(Slot &s, float *logits, std::int64_t vocab);
    // Delivers sampled `ids` (the first, then fast-forwarded ones) or finishes the request.
    void deliver(Slot &s, const std::vector<std::int32_t> &ids, std::optional<TokenLogprobs> lp);
    // How a slot's next id may be picked without its logits on the host (device_pick.hpp): its
    // sampler's plain() when it wants no logprobs and has no guide, else No. Only off the CPU
    // (or with LLMHOST_DEVICE_SAMPLING=1).
    Sampler::Plain device_pick(const Slot &s) const;
    void retire(std::size_t slot_index, std::exception_ptr error = nullptr);
    bool any_active() const;

    CausalLM &model_;
    KVCache &cache_;
    KVCacheRows row_views_{cache_}; // the views of cache_'s rows each step runs on (loop thread)
    PrefixCache &prefix_;
    at::Device device_;
    // Rows whose sampler needs only the raw logits (greedy, a temperature with or without top-k,
    // top-p, min-p) get their id picked on the device and copy back one id, not the ~0.5 MB of a
    // 128k vocabulary's logits: on for every device but the CPU (LLMHOST_DEVICE_SAMPLING=1 turns
    // it on there, for the tests; =0 turns it off everywhere).
    bool device_sampling_ = false;
    // The rows of logits a decode step brings to the host: a view of pinned_ off the CPU (a
    // page-locked buffer the copy lands in directly, kept and grown as needed), else `t` itself.
    at::Tensor logits_to_host(const at::Tensor &t);
    at::Tensor pinned_;
    // The decode step over rows [0, n) with static shapes (CUDA graphs), or null.
    std::unique_ptr<StaticDecode> static_;
    std::vector<std::optional<Slot>> slots_; // touched by the loop thread only
    std::atomic<std::int64_t> prefills_{0}, decode_steps_{0}, decode_rows_{0}, max_rows_{0},
        decode_us_{0};
    std::atomic<std::int64_t> active_rows_{0}, active_positions_{0}; // after the last step
    std::atomic<std::int64_t> device_picked_{0};
    const std::atomic<int> &threads_;
    void publish_occupancy();

    std::mutex mu_; // guards waiting_ and stop_
    std::condition_variable cv_;
    std::deque<std::shared_ptr<BatchRequest>> waiting_;
    bool stop_ = false;
    std::thread thread_; // last: starts after every member above exists
};

} // namespace llmhost::engine
