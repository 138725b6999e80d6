// AVX-512 kernels (F+BW+VL+FMA+F16C; vdpbf16ps when the CPU has AVX512_BF16). Compiled with
// AVX-512 flags, called only after dispatch.cpp checked the CPU. Each block computes R = 4 output
// rows x up to 4 activation rows: the 4 weight rows share every x load, the 4 x rows share every
// weight load, and the weights of a block stay in L1 while further x rows are processed, so the
// matrix is streamed from memory once per call.
#include "detail.hpp"

#if defined(__x86_64__)
#include <immintrin.h>

namespace llmhost::kernels::detail {
namespace {

constexpr int kRows = 4;

inline float scale_f32(uint16_t h) { return _cvtsh_ss(h); }

// --- BF16 with vdpbf16ps: x rounded to bf16 once per call (job.xb), 32 products per instruction.
template <int R, int MB>
void bf16_dp_block(const LinearJob &job, int64_t n, int64_t m0) {
    const int64_t K = job.w->cols();
    const auto *w = static_cast<const uint16_t *>(job.w->data()) + n * K;
    __m512 acc[R][MB];
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) acc[r][m] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        __m512i wv[R];
        for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_si512(w + r * K + k);
        for (int m = 0; m < MB; ++m) {
            __m512i xv = _mm512_loadu_si512(job.xb + (m0 + m) * job.ldxp + k);
            for (int r = 0; r < R; ++r)
                acc[r][m] = _mm512_dpbf16_ps(acc[r][m], (__m512bh)xv, (__m512bh)wv[r]);
        }
    }
    if (k < K) { // masked: the row's tail may end the caller's mapping
        const __mmask32 tail = (__mmask32)((1ull << (K - k)) - 1);
        __m512i wv[R];
        for (int r = 0; r < R; ++r) wv[r] = _mm512_maskz_loadu_epi16(tail, w + r * K + k);
        for (int m = 0; m < MB; ++m) {
            __m512i xv = _mm512_loadu_si512(job.xb + (m0 + m) * job.ldxp + k); // zero padded
            for (int r = 0; r < R; ++r)
                acc[r][m] = _mm512_dpbf16_ps(acc[r][m], (__m512bh)xv, (__m512bh)wv[r]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) store_out(job, m0 + m, n + r, _mm512_reduce_add_ps(acc[r][m]));
}

// --- BF16 without AVX512_BF16: widen to fp32 (a bf16 is the top half of an fp32) + FMA.
inline __m512 widen_bf16(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

template <int R, int MB>
void bf16_fma_block(const LinearJob &job, int64_t n, int64_t m0) {
    const int64_t K = job.w->cols();
    const auto *w = static_cast<const uint16_t *>(job.w->data()) + n * K;
    __m512 acc[R][MB];
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) acc[r][m] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 16) {
        const __mmask16 mask = K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
        __m512 wv[R];
        for (int r = 0; r < R; ++r) wv[r] = widen_bf16(_mm256_maskz_loadu_epi16(mask, w + r * K + k));
        for (int m = 0; m < MB; ++m) {
            __m512 xv = _mm512_loadu_ps(job.xf + (m0 + m) * job.ldxp + k);
            for (int r = 0; r < R; ++r) acc[r][m] = _mm512_fmadd_ps(wv[r], xv, acc[r][m]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) store_out(job, m0 + m, n + r, _mm512_reduce_add_ps(acc[r][m]));
}

// --- Q8: per group of 32, t = w_int . x over the group (fp32), then acc += t * scale.
template <int R, int MB>
void q8_block(const LinearJob &job, int64_t n, int64_t m0) {
    const int64_t kp = job.w->padded_cols(), groups = kp / kGroup;
    const auto *q = static_cast<const int8_t *>(job.w->data()) + n * kp;
    const uint16_t *sc = job.w->scales() + n * groups;
    __m512 acc[R][MB];
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) acc[r][m] = _mm512_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
        __m512 w0[R], w1[R], s[R];
        for (int r = 0; r < R; ++r) {
            const int8_t *p = q + r * kp + g * kGroup;
            w0[r] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
            w1[r] = _mm512_cvtepi32_ps(
                _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 16))));
            s[r] = _mm512_set1_ps(scale_f32(sc[r * groups + g]));
        }
        for (int m = 0; m < MB; ++m) {
            const float *x = job.xf + (m0 + m) * job.ldxp + g * kGroup;
            __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
            for (int r = 0; r < R; ++r) {
                __m512 t = _mm512_fmadd_ps(w1[r], x1, _mm512_mul_ps(w0[r], x0));
                acc[r][m] = _mm512_fmadd_ps(t, s[r], acc[r][m]);
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) store_out(job, m0 + m, n + r, _mm512_reduce_add_ps(acc[r][m]));
}

// --- Q4: 16 bytes per group; low nibbles are elements 0..15, high nibbles 16..31, each q + 8.
template <int R, int MB>
void q4_block(const LinearJob &job, int64_t n, int64_t m0) {
    const int64_t kp = job.w->padded_cols(), groups = kp / kGroup, rb = kp / 2;
    const auto *q = static_cast<const uint8_t *>(job.w->data()) + n * rb;
    const uint16_t *sc = job.w->scales() + n * groups;
    const __m512i low = _mm512_set1_epi32(15), eight = _mm512_set1_epi32(8);
    __m512 acc[R][MB];
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) acc[r][m] = _mm512_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
        __m512 w0[R], w1[R], s[R];
        for (int r = 0; r < R; ++r) {
            __m512i b = _mm512_cvtepu8_epi32(
                _mm_loadu_si128((const __m128i *)(q + r * rb + g * 16)));
            w0[r] = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(b, low), eight));
            w1[r] = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(b, 4), eight));
            s[r] = _mm512_set1_ps(scale_f32(sc[r * groups + g]));
        }
        for (int m = 0; m < MB; ++m) {
            const float *x = job.xf + (m0 + m) * job.ldxp + g * kGroup;
            __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
            for (int r = 0; r < R; ++r) {
                __m512 t = _mm512_fmadd_ps(w1[r], x1, _mm512_mul_ps(w0[r], x0));
                acc[r][m] = _mm512_fmadd_ps(t, s[r], acc[r][m]);
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) store_out(job, m0 + m, n + r, _mm512_reduce_add_ps(acc[r][m]));
}

// Rows [n0, n1) in blocks of kRows (then single rows), x rows in blocks of up to 4.
template <template <int, int> class Block>
void drive(const LinearJob &job, int64_t n0, int64_t n1) {
    auto rows = [&](auto R, int64_t n) {
        for (int64_t m0 = 0; m0 < job.M; m0 += 4) {
            switch (std::min<int64_t>(4, job.M - m0)) {
            case 1: Block<decltype(R)::value, 1>::run(job, n, m0); break;
            case 2: Block<decltype(R)::value, 2>::run(job, n, m0); break;
            case 3: Block<decltype(R)::value, 3>::run(job, n, m0); break;
            default: Block<decltype(R)::value, 4>::run(job, n, m0); break;
            }
        }
    };
    int64_t n = n0;
    for (; n + kRows <= n1; n += kRows) rows(std::integral_constant<int, kRows>{}, n);
    for (; n < n1; ++n) rows(std::integral_constant<int, 1>{}, n);
}

template <int R, int MB> struct Bf16Dp {
    static void run(const LinearJob &j, int64_t n, int64_t m0) { bf16_dp_block<R, MB>(j, n, m0); }
};
template <int R, int MB> struct Bf16Fma {
    static void run(const LinearJob &j, int64_t n, int64_t m0) { bf16_fma_block<R, MB>(j, n, m0); }
};
template <int R, int MB> struct Q8 {
    static void run(const LinearJob &j, int64_t n, int64_t m0) { q8_block<R, MB>(j, n, m0); }
};
template <int R, int MB> struct Q4 {
    static void run(const LinearJob &j, int64_t n, int64_t m0) { q4_block<R, MB>(j, n, m0); }
};

double read_sum(const void *p, std::size_t n) {
    const auto *v = static_cast<const __m512i *>(p);
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t i = 0; i < n / 64; i += 4) {
        a0 = _mm512_add_epi64(a0, _mm512_load_si512(v + i));
        a1 = _mm512_add_epi64(a1, _mm512_load_si512(v + i + 1));
        a2 = _mm512_add_epi64(a2, _mm512_load_si512(v + i + 2));
        a3 = _mm512_add_epi64(a3, _mm512_load_si512(v + i + 3));
    }
    __m512i s = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
    return double(_mm512_reduce_add_epi64(s));
}

} // namespace

IsaKernels avx512_kernels(bool bf16) {
    return {bf16 ? drive<Bf16Dp> : drive<Bf16Fma>, drive<Q8>, drive<Q4>, bf16, read_sum};
}

} // namespace llmhost::kernels::detail
#endif
