// llmhost's own CUDA kernels, behind a plain C++ interface (raw pointers, the stream as void *)
// so that neither side includes the other's headers: nvcc compiles gemv_bf16.cu without libtorch,
// and the engine (../device_gemv.cpp) calls it without the CUDA runtime's headers.
#pragma once

#include <cstdint>

namespace llmhost::cuda {

// The most rows of x one call takes (a decode step of up to this many sequences).
inline constexpr std::int64_t kGemvMaxRows = 8;

// Whether gemv_bf16 takes these: 1 <= m <= kGemvMaxRows, k a multiple of 8, w and x 16-byte
// aligned.
bool gemv_bf16_suits(std::int64_t m, std::int64_t n, std::int64_t k, const void *w, const void *x);

// y[m, n] = x[m, k] . w[n, k]ᵀ (+ bias[n]) (+ residual[m, n]), bf16 in and out, fp32
// accumulation, all row-major and contiguous; bias and residual may be null, residual may be y
// (in place). Enqueued on `stream` (a cudaStream_t). Returns null when launched, else why not
// (nothing was enqueued).
const char *gemv_bf16(const void *w, const void *x, const void *bias, const void *residual, void *y,
                      std::int64_t m, std::int64_t n, std::int64_t k, void *stream);

} // namespace llmhost::cuda
