// The batch-1 bf16 matrix-vector product of a GPU decode step: y = W x (+ bias) (+ residual).
//
// Why: at batch 1 a decode step is its weight reads, and cuBLAS's products of the step's 113
// matrices reached 65 % of the H100's copy bandwidth (tools/gpu/matvec_ceiling.py, 2026-11-27).
// This kernel is the plain form that streams a matrix at copy speed: one warp per row, each lane
// reading 16 bytes (8 bf16) at a time, coalesced across the warp (a warp reads 512 contiguous
// bytes per load), eight loads in flight per lane before the first multiply, the weights read
// with the evict-first hint (they are read once a step; x and the KV cache should stay in L2),
// fp32 accumulation, one shuffle reduction, and bias and residual added in fp32 before the one
// rounding to bf16 (as cuBLAS's epilogue with beta = 1 does).
#include "gemv_bf16.hpp"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace llmhost::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kLoadsInFlight = 8; // 16-byte loads per lane before the first use

__device__ __forceinline__ float dot8(const uint4 &w, const uint4 &x) {
    const auto *wp = reinterpret_cast<const __nv_bfloat162 *>(&w);
    const auto *xp = reinterpret_cast<const __nv_bfloat162 *>(&x);
    float acc = 0.f;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 a = __bfloat1622float2(wp[i]);
        const float2 b = __bfloat1622float2(xp[i]);
        acc = fmaf(a.x, b.x, acc);
        acc = fmaf(a.y, b.y, acc);
    }
    return acc;
}

// One warp per row of w [n, k] (k % 8 == 0, rows 16-byte aligned). residual may be y itself
// (an in-place residual add): each row is read and written by the same lane, once.
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_bf16_kernel(const __nv_bfloat16 *__restrict__ w, const __nv_bfloat16 *__restrict__ x,
                     const __nv_bfloat16 *__restrict__ bias, const __nv_bfloat16 *residual,
                     __nv_bfloat16 *y, int n, int k) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
    if (row >= n) return; // a whole warp leaves together: the shuffles below stay full-warp
    const uint4 *wr = reinterpret_cast<const uint4 *>(w + static_cast<size_t>(row) * k);
    const uint4 *xv = reinterpret_cast<const uint4 *>(x);
    const int vecs = k / 8;
    float acc = 0.f;
    for (int base = 0; base < vecs; base += 32 * kLoadsInFlight) {
        uint4 wv[kLoadsInFlight];
#pragma unroll
        for (int c = 0; c < kLoadsInFlight; ++c) {
            const int i = base + c * 32 + lane;
            wv[c] = i < vecs ? __ldcs(wr + i) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int c = 0; c < kLoadsInFlight; ++c) {
            const int i = base + c * 32 + lane;
            if (i < vecs) acc += dot8(wv[c], __ldg(xv + i));
        }
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        acc += __shfl_xor_sync(0xffffffffu, acc, offset);
    if (lane == 0) {
        if (bias) acc += __bfloat162float(bias[row]);
        if (residual) acc += __bfloat162float(residual[row]);
        y[row] = __float2bfloat16(acc);
    }
}

bool aligned16(const void *p) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 == 0; }

} // namespace

bool gemv_bf16_suits(std::int64_t n, std::int64_t k, const void *w, const void *x) {
    return n >= 1 && k >= 8 && k % 8 == 0 && n <= (std::int64_t{1} << 30) &&
           k <= (std::int64_t{1} << 30) && aligned16(w) && aligned16(x);
}

const char *gemv_bf16(const void *w, const void *x, const void *bias, const void *residual, void *y,
                      std::int64_t n, std::int64_t k, void *stream) {
    if (!gemv_bf16_suits(n, k, w, x)) return "gemv_bf16: shape or alignment unsuited";
    const dim3 block(kWarpsPerBlock * 32);
    const dim3 grid(static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock));
    gemv_bf16_kernel<<<grid, block, 0, static_cast<cudaStream_t>(stream)>>>(
        static_cast<const __nv_bfloat16 *>(w), static_cast<const __nv_bfloat16 *>(x),
        static_cast<const __nv_bfloat16 *>(bias), static_cast<const __nv_bfloat16 *>(residual),
        static_cast<__nv_bfloat16 *>(y), static_cast<int>(n), static_cast<int>(k));
    const cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

} // namespace llmhost::cuda
