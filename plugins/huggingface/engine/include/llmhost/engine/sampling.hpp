// Token sampling on a logits vector, in plain C++ so that the same seed gives the same tokens
// with any libtorch version and device (the RNG is ours, not torch's).
// Order of the processors follows transformers' generate(): repetition penalty, temperature,
// top-k, top-p, min-p, then a draw from the remaining distribution. OpenAI's presence and
// frequency penalties (which transformers lacks) go right after the repetition penalty, before
// temperature, as vLLM applies them.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace llmhost::engine {

struct SamplingParams {
    float temperature = 0.0f;        // 0: greedy (argmax; ties -> lowest id)
    std::int32_t top_k = 0;          // <= 0: off
    float top_p = 1.0f;              // >= 1 or <= 0: off
    float min_p = 0.0f;              // <= 0: off
    float repetition_penalty = 1.0f; // 1: off; > 1 discourages ids already in the sequence
    // OpenAI semantics, over the GENERATED tokens only (not the prompt):
    // logits[t] -= presence_penalty * (count[t] > 0) + frequency_penalty * count[t].
    float presence_penalty = 0.0f;  // 0: off
    float frequency_penalty = 0.0f; // 0: off
    std::uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplingParams &p);
    // `logits` is modified in place. `history`: prompt + generated ids (for the repetition
    // penalty). Every id returned counts as generated (presence/frequency penalties): one
    // Sampler per request, sample() called once per generated token.
    std::int32_t sample(std::span<float> logits, std::span<const std::int32_t> history);
    // Grammar-constrained decoding: ids whose bit is clear in `mask` (bit id % 32 of word
    // id / 32; ids past the mask are refused too) get -inf BEFORE every other processor, so
    // penalties, temperature, top-k/top-p and min-p see only allowed ids. The id is NOT counted
    // as generated: call note_generated() once the constraint has taken it.
    std::int32_t draw_masked(std::span<float> logits, std::span<const std::int32_t> history,
                             std::span<const std::uint32_t> mask);
    void note_generated(std::int32_t id);

    // What a caller may do without this Sampler seeing the logits (the batch scheduler's device
    // picks): Greedy is the first argmax of the raw logits; Temperature is one draw over the whole
    // vocabulary by inverse CDF in id order of exp(logits / temperature); Nucleus is the same
    // after top-k, top-p and/or min-p, over the ids sorted by logit (ties: lower id first); both
    // with the uniform that sample() would have used (next_unit()). Penalties need the logits
    // here (and the history).
    enum class Plain { Greedy, Temperature, Nucleus, No };
    Plain plain() const;
    // The uniform in [0, 1) of the next draw (53 random bits), as sample() consumes it: a caller
    // that draws by itself takes it from here so the request's random stream stays the same.
    double next_unit();

private:
    // candidates: order_ already holds the ids that may be drawn (ascending); else all of them.
    std::int32_t pick(std::span<float> logits, std::span<const std::int32_t> history,
                      bool candidates = false);
    // pick()'s draw over the whole vocabulary at temperature > 0 without top-k (see sampling.cpp);
    // `fallback` when no id has any weight (every logit -inf or NaN).
    std::int32_t draw_vocab(std::span<float> logits, std::int32_t fallback);

    SamplingParams p_;
    std::mt19937_64 rng_;
    std::vector<std::int32_t> order_;                          // scratch: candidate ids
    std::vector<float> probs_;                                 // scratch
    std::unordered_map<std::int32_t, std::int32_t> generated_; // id -> times generated
};

} // namespace llmhost::engine
