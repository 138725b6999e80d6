// Log-probabilities of generated tokens (OpenAI's `logprobs` / `top_logprobs`).
//
// Computed as log_softmax over the model's RAW logits of the step, before repetition penalty,
// temperature, top-k/top-p/min-p: the model's own distribution, whatever the sampling settings.
// That is vLLM's logprobs_mode "raw_logprobs" and what OpenAI documents ("the log probability
// of this token"); a greedy request's chosen token is then always top[0].
// Torch-free: plain C++ over one fp32 logits row, only run for requests that asked.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace llmhost::engine {

struct TokenLogprobs {
    std::int32_t id = 0;   // the generated token
    float logprob = 0;     // its log-probability
    // The `top` most likely tokens of the step, most likely first (ties: lower id first).
    std::vector<std::pair<std::int32_t, float>> top;
};

// log_softmax(logits)[chosen] and the `top_n` best (top_n <= 0: none).
TokenLogprobs compute_logprobs(std::span<const float> logits, std::int32_t chosen, int top_n);

} // namespace llmhost::engine
