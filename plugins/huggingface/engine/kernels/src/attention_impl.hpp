// The body of attend(), included once per ISA file (attention_scalar.cpp, _avx2.cpp, _avx512.cpp)
// and compiled with that file's flags: plain loops the compiler vectorises for the target
// (`omp simd` reductions let it reorder the dot products' sums). Everything here has internal
// linkage, so the AVX-512 copy can never stand in for the scalar one at link time.
#include "detail.hpp"

#include <cmath>
#include <cstdint>

namespace llmhost::kernels::detail {
namespace {

// n elements of src (fp32 or bf16 bits) as fp32 into dst.
inline void widen(const void *src, Act type, int64_t n, float *__restrict dst) {
    if (type == Act::F32) {
        const float *s = static_cast<const float *>(src);
        for (int64_t i = 0; i < n; ++i) dst[i] = s[i];
        return;
    }
    const uint16_t *s = static_cast<const uint16_t *>(src);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
}

// e^x for x <= 0 (softmax after the max is subtracted), ~1 ulp: Cephes' expf polynomial on
// x - n ln2, times 2^n from the exponent bits; x below -87 (e^x under the smallest normal float,
// and the masked -inf) gives 0. Plain arithmetic, so `omp simd` vectorises it (libm's expf is a
// call per element: half the attention's time before this).
inline float exp_nonpositive(float x) {
    const bool zero = !(x >= -87.0f); // also NaN-free for -inf
    x = zero ? -87.0f : x;
    const float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    const uint32_t bits = uint32_t(int32_t(n) + 127) << 23;
    float scale;
    __builtin_memcpy(&scale, &bits, 4);
    return zero ? 0.0f : y * scale;
}

inline const void *row_at(const void *base, Act type, int64_t row, int64_t ld) {
    const std::size_t elem = type == Act::F32 ? 4 : 2;
    return static_cast<const char *>(base) + std::size_t(row * ld) * elem;
}

// q . k for one head: 16 partial sums, then a halving tree (vector adds), instead of the
// compiler's left-to-right chain of scalar adds over the lanes, whose latency dominated.
template <int kHd>
inline float dot(const float *__restrict q, const float *__restrict k, int64_t hd) {
    float part[16] = {};
    const int64_t full = (kHd ? kHd : hd) / 16 * 16;
    for (int64_t j = 0; j < full; j += 16)
#pragma omp simd
        for (int l = 0; l < 16; ++l) part[l] += q[j + l] * k[j + l];
    float tail = 0;
    for (int64_t j = full; j < (kHd ? kHd : hd); ++j) tail += q[j] * k[j];
#pragma omp simd
    for (int l = 0; l < 8; ++l) part[l] += part[l + 8];
#pragma omp simd
    for (int l = 0; l < 4; ++l) part[l] += part[l + 4];
    return (part[0] + part[2]) + (part[1] + part[3]) + tail;
}

// scratch: attend_scratch_floats(groups, hd, kv_len) floats. kHd: the head size as a
// compile-time constant (the common 64 and 128: unrolled, no loop tails, the weighted sum's
// accumulator in registers), or 0 for a.hd.
template <int kHd>
void attend_hd(const AttendArgs &a, float *scratch) {
    const int64_t G = a.groups, hd = kHd ? kHd : a.hd, S = a.kv_len;
    float *__restrict qf = scratch;
    float *__restrict p = qf + G * hd;
    float *__restrict mx = p + G * S;
    float *__restrict inv = mx + G;
    float *__restrict kv = inv + G; // bf16 caches: K then V widened once, S * hd each
    widen(a.q, a.q_type, G * hd, qf);
    const float *k = static_cast<const float *>(a.k), *v = static_cast<const float *>(a.v);
    int64_t ld = a.ld;
    if (a.kv_type == Act::BF16) {
        for (int64_t s = 0; s < S; ++s) {
            widen(row_at(a.k, a.kv_type, s, a.ld), a.kv_type, hd, kv + s * hd);
            widen(row_at(a.v, a.kv_type, s, a.ld), a.kv_type, hd, kv + (S + s) * hd);
        }
        k = kv;
        v = kv + S * hd;
        ld = hd;
    }
    for (int64_t g = 0; g < G; ++g) {
        const float *__restrict qg = qf + g * hd;
        float *__restrict pg = p + g * S;
        float m = -INFINITY;
        for (int64_t s = 0; s < S; ++s) {
            if (a.visible && !a.visible[s]) {
                pg[s] = -INFINITY;
                continue;
            }
            pg[s] = dot<kHd>(qg, k + s * ld, hd) * a.scale;
            m = pg[s] > m ? pg[s] : m;
        }
        mx[g] = m;
    }
    for (int64_t g = 0; g < G; ++g) {
        float sum = 0;
        float *pg = p + g * S;
        if (mx[g] == -INFINITY) { // nothing visible (or every score -inf): zeros, not NaN
            for (int64_t s = 0; s < S; ++s) pg[s] = 0;
            inv[g] = 0;
            continue;
        }
        const float m = mx[g];
#pragma omp simd reduction(+ : sum)
        for (int64_t s = 0; s < S; ++s) {
            pg[s] = exp_nonpositive(pg[s] - m); // the masked positions' -inf gives 0
            sum += pg[s];
        }
        inv[g] = 1.0f / sum;
    }
    // One query head at a time over all positions: its sum stays in registers when kHd is known.
    for (int64_t g = 0; g < G; ++g) {
        const float *__restrict pg = p + g * S;
        float acc[kHd ? kHd : 1];
        float *__restrict sum = kHd ? acc : kv + 2 * S * hd; // runtime hd: scratch
        for (int64_t i = 0; i < hd; ++i) sum[i] = 0;
        for (int64_t s = 0; s < S; ++s) {
            const float w = pg[s];
            if (w == 0.0f) continue; // masked (or underflowed: adds nothing)
            const float *__restrict vr = v + s * ld;
#pragma omp simd
            for (int64_t i = 0; i < hd; ++i) sum[i] += w * vr[i];
        }
        for (int64_t i = 0; i < hd; ++i) {
            const float o = sum[i] * inv[g];
            if (a.out_type == Act::F32)
                static_cast<float *>(a.out)[g * hd + i] = o;
            else
                static_cast<uint16_t *>(a.out)[g * hd + i] = f32_to_bf16(o);
        }
    }
}

void attend_body(const AttendArgs &a, float *scratch) {
    if (a.hd == 64) return attend_hd<64>(a, scratch);
    if (a.hd == 128) return attend_hd<128>(a, scratch);
    attend_hd<0>(a, scratch);
}

} // namespace
} // namespace llmhost::kernels::detail
