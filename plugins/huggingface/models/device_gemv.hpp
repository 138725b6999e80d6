// The decode step's bf16 products on a GPU (1 to 8 rows) through llmhost's own kernel
// (cuda/gemv_bf16.cu) instead of cuBLAS, for Linear (linear.cpp): where cuBLAS's batch-1 products
// read the weights at 65 % of the copy bandwidth, a decode step cannot reach the bound the issue
// sets (docs/performance.md).
#pragma once

#include "cuda/gemv_bf16.hpp" // kGemvMaxRows (a plain header: no CUDA in it)

#include <ATen/ATen.h>

namespace llmhost::engine {

// Whether this build has the kernel (nvcc and libtorch's CUDA were found at configure time) and
// LLMHOST_CUDA_GEMV is not "0" (read once; off to time it against cuBLAS).
bool device_gemv_available();

// out = x Wᵀ (+ bias) (+ out when accumulate: the residual add, in place) for 1 to 8 rows of x
// (a decode step of that many sequences), where the kernel takes it: CUDA, bf16 everywhere, x
// M rows of K contiguous, weight [N, K] contiguous, out M x N contiguous, K % 8 == 0, 16-byte
// aligned. Returns false, having done nothing, where it does not (the caller multiplies as
// before).
bool device_gemv(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias,
                 at::Tensor &out, bool accumulate);

} // namespace llmhost::engine
