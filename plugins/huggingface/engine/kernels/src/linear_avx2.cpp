// AVX2 kernels (AVX2+FMA+F16C), for x86-64 CPUs without AVX-512. Compiled with AVX2 flags, called
// only after dispatch.cpp checked the CPU. Same blocking as the AVX-512 file (4 output rows share
// each x load, up to 2 x rows share each weight load: 16 ymm registers), with 8-lane vectors.
#include "detail.hpp"

#if defined(__x86_64__)
#include <immintrin.h>

namespace llmhost::kernels::detail {
namespace {

constexpr int kRows = 4;
constexpr int kMaxMB = 2;

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline __m256 widen_bf16(__m128i v) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
}

// --- BF16: widen to fp32 + FMA, 8 weights per step; the row tail is copied to a zeroed buffer
// (AVX2 has no 16-bit masked load and the row may end the caller's mapping).
template <int R, int MB>
void bf16_block(const LinearJob &job, int64_t n, int64_t m0) {
    const int64_t K = job.w->cols(), kv = K / 8 * 8;
    const auto *w = static_cast<const uint16_t *>(job.w->data()) + n * K;
    __m256 acc[R][MB];
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) acc[r][m] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kv; k += 8) {
        __m256 wv[R];
        for (int r = 0; r < R; ++r)
            wv[r] = widen_bf16(_mm_loadu_si128((const __m128i *)(w + r * K + k)));
        for (int m = 0; m < MB; ++m) {
            __m256 xv = _mm256_loadu_ps(job.xf + (m0 + m) * job.ldxp + k);
            for (int r = 0; r < R; ++r) acc[r][m] = _mm256_fmadd_ps(wv[r], xv, acc[r][m]);
        }
    }
    if (kv < K) {
        __m256 wv[R];
        for (int r = 0; r < R; ++r) {
            alignas(16) uint16_t t[8] = {};
            for (int64_t k = kv; k < K; ++k) t[k - kv] = w[r * K + k];
            wv[r] = widen_bf16(_mm_load_si128((const __m128i *)t));
        }
        for (int m = 0; m < MB; ++m) {
            __m256 xv = _mm256_loadu_ps(job.xf + (m0 + m) * job.ldxp + kv); // zero padded
            for (int r = 0; r < R; ++r) acc[r][m] = _mm256_fmadd_ps(wv[r], xv, acc[r][m]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) store_out(job, m0 + m, n + r, hsum(acc[r][m]));
}

// --- Q8: per group of 32 (4 x 8 lanes), t = w_int . x, acc += t * scale.
template <int R, int MB>
void q8_block(const LinearJob &job, int64_t n, int64_t m0) {
    const int64_t kp = job.w->padded_cols(), groups = kp / kGroup;
    const auto *q = static_cast<const int8_t *>(job.w->data()) + n * kp;
    const uint16_t *sc = job.w->scales() + n * groups;
    __m256 acc[R][MB];
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) acc[r][m] = _mm256_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
        __m256 t[R][MB];
        for (int r = 0; r < R; ++r)
            for (int m = 0; m < MB; ++m) t[r][m] = _mm256_setzero_ps();
        for (int h = 0; h < 4; ++h) {
            __m256 wv[R];
            for (int r = 0; r < R; ++r)
                wv[r] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                    _mm_loadl_epi64((const __m128i *)(q + r * kp + g * kGroup + h * 8))));
            for (int m = 0; m < MB; ++m) {
                __m256 xv = _mm256_loadu_ps(job.xf + (m0 + m) * job.ldxp + g * kGroup + h * 8);
                for (int r = 0; r < R; ++r) t[r][m] = _mm256_fmadd_ps(wv[r], xv, t[r][m]);
            }
        }
        for (int r = 0; r < R; ++r) {
            __m256 s = _mm256_set1_ps(_cvtsh_ss(sc[r * groups + g]));
            for (int m = 0; m < MB; ++m) acc[r][m] = _mm256_fmadd_ps(t[r][m], s, acc[r][m]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) store_out(job, m0 + m, n + r, hsum(acc[r][m]));
}

// --- Q4: 16 bytes per group, low nibbles = elements 0..15, high = 16..31, each q + 8.
template <int R, int MB>
void q4_block(const LinearJob &job, int64_t n, int64_t m0) {
    const int64_t kp = job.w->padded_cols(), groups = kp / kGroup, rb = kp / 2;
    const auto *q = static_cast<const uint8_t *>(job.w->data()) + n * rb;
    const uint16_t *sc = job.w->scales() + n * groups;
    const __m256i low = _mm256_set1_epi32(15), eight = _mm256_set1_epi32(8);
    __m256 acc[R][MB];
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) acc[r][m] = _mm256_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
        __m256 t[R][MB];
        for (int r = 0; r < R; ++r)
            for (int m = 0; m < MB; ++m) t[r][m] = _mm256_setzero_ps();
        for (int h = 0; h < 2; ++h) { // bytes 8h..8h+7: elements 8h.. (low) and 16+8h.. (high)
            __m256 lo[R], hi[R];
            for (int r = 0; r < R; ++r) {
                __m256i b = _mm256_cvtepu8_epi32(
                    _mm_loadl_epi64((const __m128i *)(q + r * rb + g * 16 + h * 8)));
                lo[r] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(b, low), eight));
                hi[r] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(b, 4), eight));
            }
            for (int m = 0; m < MB; ++m) {
                const float *x = job.xf + (m0 + m) * job.ldxp + g * kGroup + h * 8;
                __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 16);
                for (int r = 0; r < R; ++r)
                    t[r][m] = _mm256_fmadd_ps(hi[r], x1, _mm256_fmadd_ps(lo[r], x0, t[r][m]));
            }
        }
        for (int r = 0; r < R; ++r) {
            __m256 s = _mm256_set1_ps(_cvtsh_ss(sc[r * groups + g]));
            for (int m = 0; m < MB; ++m) acc[r][m] = _mm256_fmadd_ps(t[r][m], s, acc[r][m]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int m = 0; m < MB; ++m) store_out(job, m0 + m, n + r, hsum(acc[r][m]));
}

template <template <int, int> class Block>
void drive(const LinearJob &job, int64_t n0, int64_t n1) {
    auto rows = [&](auto R, int64_t n) {
        for (int64_t m0 = 0; m0 < job.M; m0 += kMaxMB) {
            if (job.M - m0 >= 2)
                Block<decltype(R)::value, 2>::run(job, n, m0);
            else
                Block<decltype(R)::value, 1>::run(job, n, m0);
        }
    };
    int64_t n = n0;
    for (; n + kRows <= n1; n += kRows) rows(std::integral_constant<int, kRows>{}, n);
    for (; n < n1; ++n) rows(std::integral_constant<int, 1>{}, n);
}

template <int R, int MB> struct Bf16 {
    static void run(const LinearJob &j, int64_t n, int64_t m0) { bf16_block<R, MB>(j, n, m0); }
};
template <int R, int MB> struct Q8 {
    static void run(const LinearJob &j, int64_t n, int64_t m0) { q8_block<R, MB>(j, n, m0); }
};
template <int R, int MB> struct Q4 {
    static void run(const LinearJob &j, int64_t n, int64_t m0) { q4_block<R, MB>(j, n, m0); }
};

double read_sum(const void *p, std::size_t n) {
    const auto *v = static_cast<const __m256i *>(p);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t i = 0; i < n / 32; i += 4) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(v + i));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(v + i + 1));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(v + i + 2));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(v + i + 3));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    alignas(32) int64_t l[4];
    _mm256_store_si256((__m256i *)l, s);
    return double(l[0] + l[1] + l[2] + l[3]);
}

} // namespace

IsaKernels avx2_kernels() {
    return {drive<Bf16>, drive<Q8>, drive<Q4>, false, read_sum};
}

} // namespace llmhost::kernels::detail
#endif
