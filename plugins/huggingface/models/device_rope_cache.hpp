// A decode step's RoPE on q and k and its KV-cache write, on a GPU, in llmhost's own kernel
// (cuda/rope_cache.cu) instead of the libtorch path's ~7 kernels a layer (RopeTables::apply_qk,
// then cached_attention's scatter): launches, not arithmetic, are what a GPU step spends its
// time on besides the weights (docs/performance.md, "GPU").
#pragma once

#include "cuda/rope_cache_math.hpp"
#include "model.hpp"

#include <optional>

namespace llmhost::engine {

// Whether this build has the kernel (nvcc and libtorch's CUDA found at configure time) and
// LLMHOST_CUDA_ROPE is not "0" (read once; off to time it against the libtorch path).
bool device_rope_cache_available();

// The kernel's arguments for these tensors (any device: the CPU test runs the kernel's element
// function on them), q_out allocated [B, T, H, hd]; nullopt where the kernel does not apply (not
// bf16 everywhere, qkv not contiguous, a cache or table laid out otherwise).
std::optional<cuda::RopeCacheArgs> rope_cache_args(const at::Tensor &qkv, std::int64_t H,
                                                   std::int64_t KV, std::int64_t hd,
                                                   const at::Tensor &positions,
                                                   const RopeTables &rope, KVCache &cache,
                                                   std::int64_t layer, at::Tensor &q_out);

// qkv: one fused projection's output [B, T, (H + 2 KV) * hd], contiguous. Returns q rotated,
// [B, T, H, hd], having rotated k and written it and v into cache layer `layer` at `positions`
// ([B, T]): what RopeTables::apply_qk and cached_attention's scatter do, bit for bit. Returns an
// undefined tensor, having done nothing, where the kernel does not apply (not CUDA, not bf16
// everywhere, a cache or table laid out otherwise); the caller then takes the libtorch path.
at::Tensor device_rope_cache(const at::Tensor &qkv, std::int64_t H, std::int64_t KV,
                             std::int64_t hd, const at::Tensor &positions, const RopeTables &rope,
                             KVCache &cache, std::int64_t layer);

} // namespace llmhost::engine
