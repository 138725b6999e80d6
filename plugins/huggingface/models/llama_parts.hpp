// The Llama family's weights (llama.cpp loads them), shared by its two forward passes: the
// op-by-op one in llama.cpp (every device, every size) and the CPU decode step in
// llama_cpu_step.cpp, which runs the same math on raw memory for the few rows of a decode step.
#pragma once

#include "model.hpp"

#include <cstdint>
#include <vector>

namespace llmhost::engine {

struct LlamaLayer {
    at::Tensor input_norm, post_attn_norm;
    FusedLinear<3> qkv; // q, k, v; biases where the architecture has them (Qwen2)
    Linear o;
    at::Tensor q_norm, k_norm; // Qwen3 only
    FusedLinear<2> gate_up;
    Linear down;
};

struct LlamaWeights {
    at::Tensor embed, final_norm;
    Linear lm_head;
    std::vector<LlamaLayer> layers;
    RopeTables rope;
    at::ScalarType dtype = at::kFloat; // the activations' (compute) dtype
    bool cpu_step = false;             // llama_cpu_step_supported(*this), set once at load
};

// The CPU decode step: a decode step of a packed model (bf16, int8, int4 projections) spends most
// of its time streaming weights, and what is left between the kernels' parallel loops is serial:
// on the op-by-op path about 20 libtorch ops a layer (dispatch, an allocation each, views), which
// was ~15 % of a 2-thread int8 step (perf, 2026-11-27). This path runs the same functions
// (decode_ops, the kernels) in the same order on buffers it allocates once per step, so its
// logits are bit for bit the op-by-op path's (tests/engine/cpu_step_test.cpp).
//
// True when the loaded weights suit it: fp32 or bf16 activations with norms and RoPE tables in
// that dtype (contiguous), every projection packed. A property of the model: checked once.
bool llama_cpu_step_supported(const LlamaWeights &w);
// True when it can run this call: the weights suit it (w.cpu_step), at most decode_ops::kMaxRows
// token rows on the CPU, an fp32 or bf16 cache laid out as attention reads it, and the step
// switched on.
bool llama_cpu_step_applies(const ModelConfig &cfg, const LlamaWeights &w, const at::Tensor &tokens,
                            const KVCache &cache);
// LlamaFamily::forward's contract (model.hpp).
at::Tensor llama_cpu_step(const ModelConfig &cfg, const LlamaWeights &w, const at::Tensor &tokens,
                          const at::Tensor &positions, std::int64_t kv_len, KVCache &cache,
                          bool all_logits);

// Process-wide switch, for tests and A/B timing: on unless LLMHOST_CPU_DECODE_STEP=0 (read once).
bool cpu_decode_step_enabled();
void set_cpu_decode_step_enabled(bool on);
// How many calls llama_cpu_step has run in this process (tests: that a case really took it).
std::uint64_t cpu_decode_steps_taken();

} // namespace llmhost::engine
