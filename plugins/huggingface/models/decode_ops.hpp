// CPU fast paths of the building blocks (layers.cpp) for decode-sized inputs: a few rows, where
// libtorch's per-op cost (dispatch, allocation, a dozen small kernels for one RMSNorm) would take
// longer than the arithmetic. Each is one allocation and one loop over raw memory, computing what
// the torch expression it replaces computes, rounding where it rounds (bf16 results are rounded
// at the same steps), so the model files call the same functions on every device.
#pragma once

#include <llmhost/kernels/linear.hpp>

#include <ATen/ATen.h>

#include <cstdint>

namespace llmhost::engine::decode_ops {

using kernels::Act; // fp32, or bf16 (at::BFloat16's bits)

// True when x is on the CPU, float32 or bfloat16, and has at most kMaxRows rows of its last dim.
bool applies(const at::Tensor &x);
inline constexpr std::int64_t kMaxRows = 16;

// transformers' LlamaRMSNorm: fp32 normalisation, cast to x's dtype, times the weight.
at::Tensor rms_norm(const at::Tensor &x, const at::Tensor &weight, double eps);

// Rotate-half RoPE: x [B, T, heads, hd] with cos/sin rows [P, hd] picked by positions [B, T].
at::Tensor rope(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin,
                const at::Tensor &positions);

// Grouped-query attention of q [B, T, H, hd] over cache rows k_cache/v_cache [B, KV, S_max, hd]
// (already holding this call's keys/values; fp32 or bf16, whatever q's dtype), positions
// [0, kv_len), mask [B, 1, T, kv_len].
// Returns [B, T, H * hd]. Scores and softmax in fp32, as the libtorch path.
at::Tensor attention(const at::Tensor &q, const at::Tensor &k_cache, const at::Tensor &v_cache,
                     const at::Tensor &mask, std::int64_t kv_len);

// SwiGLU's product silu(gate) * up, rounded as the two torch ops round (bf16: silu's result,
// then the product). gate and up: the same shape, rows of contiguous elements with any row
// stride (the two halves of the fused gate/up output). Returns a new contiguous tensor.
at::Tensor swiglu(const at::Tensor &gate, const at::Tensor &up);

// Writes k or v [B, T, KV, hd] into cache [B, KV, S_max, hd] at positions [B, T]; either may be
// fp32 or bf16 (fp32 rows into a bf16 cache are rounded to nearest even, as at::Tensor::to).
void write_cache(at::Tensor &cache, const at::Tensor &kv, const at::Tensor &positions);

// ---- the same on raw memory ----------------------------------------------------------------
// What the tensor forms above run, for callers that keep their own buffers (the Llama family's
// CPU decode step, llama_cpu_step.cpp, runs whole layers without a libtorch op). Elements are of
// type t (norm weights and cos/sin tables too); ld*: row strides in elements.

void rms_norm(Act t, const void *x, const void *w, void *out, std::int64_t rows, std::int64_t D,
              float eps); // rows of D contiguous elements
// x: rows of `heads` heads of hd; cos/sin: [P, hd]; pos: one position per row.
void rope(Act t, const void *x, std::int64_t ldx, const void *cos, const void *sin,
          const std::int64_t *pos, void *out, std::int64_t ldo, std::int64_t rows,
          std::int64_t heads, std::int64_t hd);
// kv: B * T rows (row b * T + t) of KV heads of hd, into cache [B, KV, S_max, hd] of type
// cache_t with strides row_stride (dim 0) and head_stride (dim 1) at positions pos[b * T + t].
void write_cache(Act cache_t, void *cache, std::int64_t row_stride, std::int64_t head_stride,
                 Act kv_t, const void *kv, std::int64_t ldkv, const std::int64_t *pos,
                 std::int64_t B, std::int64_t T, std::int64_t KV, std::int64_t hd);
// One layer's cache as attention reads it: k and v [B, KV, S_max, hd] with these strides.
struct CacheRows {
    const void *k, *v;
    Act type;
    std::int64_t row_stride, head_stride;
};
// q: B * T contiguous rows of H heads of hd; mask: [B * T, kv_len]; out: like q.
void attention(Act t, const void *q, std::int64_t B, std::int64_t T, std::int64_t H,
               std::int64_t hd, const CacheRows &cache, std::int64_t KV, const bool *mask,
               std::int64_t kv_len, void *out);

} // namespace llmhost::engine::decode_ops
