// The bf16 matrix-vector products of a GPU decode step of 1 to 8 sequences:
// y = x Wᵀ (+ bias) (+ residual).
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

// One warp per row of w [n, k] (k % 8 == 0, rows 16-byte aligned), for M rows of x [M, k]: each
// weight load serves all M (a decode step of M sequences reads the weights once). y [M, n];
// residual [M, n] may be y itself (an in-place residual add): each element is read and written
// by the same lane, once.
template <int M>
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
    float acc[M];
#pragma unroll
    for (int m = 0; m < M; ++m) acc[m] = 0.f;
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
            if (i < vecs) {
#pragma unroll
                for (int m = 0; m < M; ++m) acc[m] += dot8(wv[c], __ldg(xv + m * vecs + i));
            }
        }
    }
#pragma unroll
    for (int m = 0; m < M; ++m) {
#pragma unroll
        for (int offset = 16; offset > 0; offset >>= 1)
            acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], offset);
    }
    if (lane == 0) {
        const float b = bias ? __bfloat162float(bias[row]) : 0.f;
#pragma unroll
        for (int m = 0; m < M; ++m) {
            const size_t at = static_cast<size_t>(m) * n + row;
            float v = acc[m] + b;
            if (residual) v += __bfloat162float(residual[at]);
            y[at] = __float2bfloat16(v);
        }
    }
}

bool aligned16(const void *p) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 == 0; }

} // namespace

bool gemv_bf16_suits(std::int64_t m, std::int64_t n, std::int64_t k, const void *w, const void *x) {
    return m >= 1 && m <= kGemvMaxRows && n >= 1 && k >= 8 && k % 8 == 0 &&
           n <= (std::int64_t{1} << 30) && k <= (std::int64_t{1} << 30) && aligned16(w) &&
           aligned16(x);
}

const char *gemv_bf16(const void *w, const void *x, const void *bias, const void *residual, void *y,
                      std::int64_t m, std::int64_t n, std::int64_t k, void *stream) {
    if (!gemv_bf16_suits(m, n, k, w, x)) return "gemv_bf16: shape or alignment unsuited";
    const dim3 block(kWarpsPerBlock * 32);
    const dim3 grid(static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock));
    const auto s = static_cast<cudaStream_t>(stream);
    const auto *wp = static_cast<const __nv_bfloat16 *>(w);
    const auto *xp = static_cast<const __nv_bfloat16 *>(x);
    const auto *bp = static_cast<const __nv_bfloat16 *>(bias);
    const auto *rp = static_cast<const __nv_bfloat16 *>(residual);
    auto *yp = static_cast<__nv_bfloat16 *>(y);
    const int ni = static_cast<int>(n), ki = static_cast<int>(k);
    // One instantiation per row count: the accumulators stay in registers.
    switch (m) {
    case 1: gemv_bf16_kernel<1><<<grid, block, 0, s>>>(wp, xp, bp, rp, yp, ni, ki); break;
    case 2: gemv_bf16_kernel<2><<<grid, block, 0, s>>>(wp, xp, bp, rp, yp, ni, ki); break;
    case 3: gemv_bf16_kernel<3><<<grid, block, 0, s>>>(wp, xp, bp, rp, yp, ni, ki); break;
    case 4: gemv_bf16_kernel<4><<<grid, block, 0, s>>>(wp, xp, bp, rp, yp, ni, ki); break;
    case 5: gemv_bf16_kernel<5><<<grid, block, 0, s>>>(wp, xp, bp, rp, yp, ni, ki); break;
    case 6: gemv_bf16_kernel<6><<<grid, block, 0, s>>>(wp, xp, bp, rp, yp, ni, ki); break;
    case 7: gemv_bf16_kernel<7><<<grid, block, 0, s>>>(wp, xp, bp, rp, yp, ni, ki); break;
    default: gemv_bf16_kernel<8><<<grid, block, 0, s>>>(wp, xp, bp, rp, yp, ni, ki); break;
    }
    const cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

} // namespace llmhost::cuda
