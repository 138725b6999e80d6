// One element of a decode step's "RoPE on q and k, k and v into the cache", as plain arithmetic on
// bf16 bits: compiled by nvcc into rope_cache.cu's kernel and by g++ into the CPU test that runs
// the same function over the same index space (tests/engine/device_step_test.cpp), so the index
// math and the rounding are tested where no GPU is.
//
// Rounding follows the libtorch path it replaces (RopeTables::apply_qk, then the cache scatter),
// bit for bit: x * cos and roll(x) * sin_signed each rounded to bf16, their sum rounded again.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define LLMHOST_HD __host__ __device__ __forceinline__
#else
#define LLMHOST_HD inline
#endif

namespace llmhost::cuda {

// Where one call reads and writes. qkv: B * T rows of (H + 2 KV) heads of hd (row stride ld);
// positions: B * T; cos, sin_signed: [P, hd]; q_out: B * T rows of H heads of hd, contiguous;
// k_cache, v_cache: [B, KV, S, hd] with strides row_stride (b) and head_stride (kv head), hd
// contiguous per position.
struct RopeCacheArgs {
    const std::uint16_t *qkv;
    std::int64_t ld;
    const std::int64_t *positions;
    const std::uint16_t *cos, *sin_signed;
    std::uint16_t *q_out, *k_cache, *v_cache;
    std::int64_t row_stride, head_stride;
    std::int64_t positions_max; // min(cache positions S, table rows P): positions are below it
    int B, T, H, KV, hd;

    LLMHOST_HD std::int64_t elements() const { return std::int64_t(B) * T * (H + 2 * KV) * hd; }
};

// Element e of [B * T, H + 2 KV, hd]: q heads rotated into q_out, k heads rotated into the
// cache, v heads copied into the cache. Ops: to_float(bits) and to_bf16(float) (round to nearest
// even), the device's or the host's.
template <class Ops>
LLMHOST_HD void rope_cache_element(const RopeCacheArgs &a, std::int64_t e) {
    const int heads = a.H + 2 * a.KV;
    const int d = int(e % a.hd);
    const int head = int((e / a.hd) % heads);
    const std::int64_t bt = e / (std::int64_t(a.hd) * heads);
    const std::int64_t b = bt / a.T;
    const std::int64_t pos = a.positions[bt];
    if (pos < 0 || pos >= a.positions_max) { // never expected (the engine checks the context);
        if (head < a.H) a.q_out[(bt * a.H + head) * a.hd + d] = 0; // a zero q, no stray write
        return;
    }
    const std::uint16_t *row = a.qkv + bt * a.ld + std::int64_t(head) * a.hd;
    if (head >= a.H + a.KV) { // v: copied to its position
        const std::int64_t kvh = head - a.H - a.KV;
        a.v_cache[b * a.row_stride + kvh * a.head_stride + pos * a.hd + d] = row[d];
        return;
    }
    const int half = a.hd / 2;
    const float x = Ops::to_float(row[d]);
    const float partner = Ops::to_float(row[d < half ? d + half : d - half]); // roll by hd / 2
    const float c = Ops::to_float(a.cos[pos * a.hd + d]);
    const float s = Ops::to_float(a.sin_signed[pos * a.hd + d]);
    const float xc = Ops::to_float(Ops::to_bf16(x * c));
    const float ps = Ops::to_float(Ops::to_bf16(partner * s));
    const std::uint16_t out = Ops::to_bf16(xc + ps);
    if (head < a.H)
        a.q_out[(bt * a.H + head) * a.hd + d] = out;
    else
        a.k_cache[b * a.row_stride + std::int64_t(head - a.H) * a.head_stride + pos * a.hd + d] =
            out;
}

} // namespace llmhost::cuda
