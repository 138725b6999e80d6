// Token sampling on a logits vector, in plain C++ so that the same seed gives the same tokens
// with any libtorch version and device (the RNG is ours, not torch's).
// Order of the processors follows transformers' generate(): repetition penalty, temperature,
// top-k, top-p, min-p, then a draw from the remaining distribution.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace llmhost::engine {

struct SamplingParams {
    float temperature = 0.0f;        // 0: greedy (argmax; ties -> lowest id)
    std::int32_t top_k = 0;          // <= 0: off
    float top_p = 1.0f;              // >= 1 or <= 0: off
    float min_p = 0.0f;              // <= 0: off
    float repetition_penalty = 1.0f; // 1: off; > 1 discourages ids already in the sequence
    std::uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplingParams &p);
    // `logits` is modified in place. `history`: prompt + generated ids (for the penalty).
    std::int32_t sample(std::span<float> logits, std::span<const std::int32_t> history);

private:
    SamplingParams p_;
    std::mt19937_64 rng_;
    std::vector<std::int32_t> order_; // scratch: candidate ids
    std::vector<float> probs_;        // scratch
};

} // namespace llmhost::engine
