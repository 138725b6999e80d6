// llmhost's own CUDA kernels, behind a plain C++ interface (raw pointers, the stream as void *)
// so that neither side includes the other's headers: nvcc compiles gemv_bf16.cu without libtorch,
// and the engine (../device_gemv.cpp) calls it without the CUDA runtime's headers.
#pragma once

#include <cstdint>

namespace llmhost::cuda {

// Whether gemv_bf16 takes these: k a multiple of 8, w and x 16-byte aligned.
bool gemv_bf16_suits(std::int64_t n, std::int64_t k, const void *w, const void *x);

// y[n] = w[n, k] . x[k] (+ bias[n]) (+ residual[n]), bf16 in and out, fp32 accumulation; bias and
// residual may be null, residual may be y (in place). Enqueued on `stream` (a cudaStream_t).
// Returns null when launched, else why not (nothing was enqueued).
const char *gemv_bf16(const void *w, const void *x, const void *bias, const void *residual, void *y,
                      std::int64_t n, std::int64_t k, void *stream);

} // namespace llmhost::cuda
