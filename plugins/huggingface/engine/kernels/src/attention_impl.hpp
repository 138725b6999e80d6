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
    for (int64_t i = 0; i < n; ++i) {
        const uint32_t u = uint32_t(s[i]) << 16;
        float f;
        __builtin_memcpy(&f, &u, 4);
        dst[i] = f;
    }
}

inline uint16_t to_bf16(float f) { // round to nearest even; NaN stays NaN (as f32_to_bf16)
    uint32_t u;
    __builtin_memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
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

// scratch: attend_scratch_floats(groups, hd, kv_len) floats.
void attend_body(const AttendArgs &a, float *scratch) {
    const int64_t G = a.groups, hd = a.hd, S = a.kv_len;
    float *__restrict qf = scratch;
    float *__restrict row = qf + G * hd;
    float *__restrict p = row + hd;
    float *__restrict acc = p + G * S;
    float *__restrict mx = acc + G * hd;
    float *__restrict inv = mx + G;
    widen(a.q, a.q_type, G * hd, qf);
    for (int64_t g = 0; g < G; ++g) mx[g] = -INFINITY;
    for (int64_t s = 0; s < S; ++s) {
        if (a.visible && !a.visible[s]) {
            for (int64_t g = 0; g < G; ++g) p[g * S + s] = -INFINITY;
            continue;
        }
        const float *kr;
        if (a.kv_type == Act::F32) {
            kr = static_cast<const float *>(row_at(a.k, a.kv_type, s, a.ld));
        } else {
            widen(row_at(a.k, a.kv_type, s, a.ld), a.kv_type, hd, row);
            kr = row;
        }
        for (int64_t g = 0; g < G; ++g) {
            const float *__restrict qg = qf + g * hd;
            float d = 0;
#pragma omp simd reduction(+ : d)
            for (int64_t i = 0; i < hd; ++i) d += qg[i] * kr[i];
            d *= a.scale;
            p[g * S + s] = d;
            mx[g] = d > mx[g] ? d : mx[g];
        }
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
    for (int64_t i = 0; i < G * hd; ++i) acc[i] = 0;
    for (int64_t s = 0; s < S; ++s) {
        if (a.visible && !a.visible[s]) continue;
        const float *vr;
        if (a.kv_type == Act::F32) {
            vr = static_cast<const float *>(row_at(a.v, a.kv_type, s, a.ld));
        } else {
            widen(row_at(a.v, a.kv_type, s, a.ld), a.kv_type, hd, row);
            vr = row;
        }
        for (int64_t g = 0; g < G; ++g) {
            const float w = p[g * S + s];
            float *__restrict ag = acc + g * hd;
#pragma omp simd
            for (int64_t i = 0; i < hd; ++i) ag[i] += w * vr[i];
        }
    }
    for (int64_t g = 0; g < G; ++g)
        for (int64_t i = 0; i < hd; ++i) {
            const float o = acc[g * hd + i] * inv[g];
            if (a.out_type == Act::F32)
                static_cast<float *>(a.out)[g * hd + i] = o;
            else
                static_cast<uint16_t *>(a.out)[g * hd + i] = to_bf16(o);
        }
}

} // namespace
} // namespace llmhost::kernels::detail
