// The bodies of swiglu() and exp_shifted(), included once per ISA file (activation_scalar.cpp,
// _avx2.cpp, _avx512.cpp) and compiled with that file's flags: a portable loop, and with
// __AVX512F__ (exp_shifted: __AVX2__ too) a vector at a time in intrinsics (the compiler leaves a
// loop around the exp polynomial scalar). Internal linkage, as in attention_impl.hpp.
#include "detail.hpp"
#include "exp_impl.hpp"

#include <cmath>
#include <cstdint>

namespace llmhost::kernels::detail {
namespace {

// x * sigmoid(x), the sigmoid from e = e^-|x| <= 1 (never overflows): 1 / (1 + e) for x >= 0,
// e / (1 + e) below. NaN gives NaN; -inf gives NaN, as torch's x / (1 + e^-x) does.
inline float silu(float x) {
    const float e = exp_nonpositive(-std::fabs(x));
    return x * ((x >= 0.0f ? 1.0f : e) / (1.0f + e));
}

inline float load_f(const void *p, Act t, int64_t i) {
    return t == Act::F32 ? static_cast<const float *>(p)[i]
                         : bf16_to_f32(static_cast<const uint16_t *>(p)[i]);
}

// Elements [i0, n) of one row, one at a time.
inline void swiglu_tail(const void *g, const void *u, Act t, void *o, int64_t i0, int64_t n) {
    for (int64_t i = i0; i < n; ++i) {
        float s = silu(load_f(g, t, i));
        if (t == Act::F32) {
            static_cast<float *>(o)[i] = s * load_f(u, t, i);
        } else {
            s = bf16_to_f32(f32_to_bf16(s));
            static_cast<uint16_t *>(o)[i] = f32_to_bf16(s * load_f(u, t, i));
        }
    }
}

#if defined(__AVX512F__)
inline __m512 silu_v(__m512 x) {
    const __m512 e = exp_nonpositive_v(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
    const __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
    const __m512 num = _mm512_mask_blend_ps(pos, e, _mm512_set1_ps(1.0f));
    return _mm512_mul_ps(x, _mm512_div_ps(num, _mm512_add_ps(_mm512_set1_ps(1.0f), e)));
}
inline __m512 to_f32(__m256i b) { // 16 bf16 -> fp32 (a bf16 is the top half of an fp32)
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
}
inline __m512 widen16(const uint16_t *p) {
    return to_f32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}
// f32_to_bf16 (detail.hpp) on 16 lanes: round to nearest even, NaN stays a (quiet) NaN.
inline __m256i round16(__m512 f) {
    const __m512i u = _mm512_castps_si512(f);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb)), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(f, f, _CMP_UNORD_Q);
    r = _mm512_mask_mov_epi32(r, nan,
                              _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
    return _mm512_cvtepi32_epi16(r);
}
#endif

void swiglu_body(const SwigluArgs &a) {
    const std::size_t elem = a.type == Act::F32 ? 4 : 2;
    for (int64_t r = 0; r < a.rows; ++r) {
        const void *g = static_cast<const char *>(a.gate) + std::size_t(r * a.gate_ld) * elem;
        const void *u = static_cast<const char *>(a.up) + std::size_t(r * a.up_ld) * elem;
        void *o = static_cast<char *>(a.out) + std::size_t(r * a.n) * elem;
        int64_t i = 0;
#if defined(__AVX512F__)
        if (a.type == Act::F32) {
            const auto *gf = static_cast<const float *>(g), *uf = static_cast<const float *>(u);
            auto *of = static_cast<float *>(o);
            for (; i + 16 <= a.n; i += 16)
                _mm512_storeu_ps(of + i, _mm512_mul_ps(silu_v(_mm512_loadu_ps(gf + i)),
                                                       _mm512_loadu_ps(uf + i)));
        } else {
            const auto *gb = static_cast<const uint16_t *>(g);
            const auto *ub = static_cast<const uint16_t *>(u);
            auto *ob = static_cast<uint16_t *>(o);
            for (; i + 16 <= a.n; i += 16) {
                const __m512 s = to_f32(round16(silu_v(widen16(gb + i))));
                _mm256_storeu_si256(reinterpret_cast<__m256i *>(ob + i),
                                    round16(_mm512_mul_ps(s, widen16(ub + i))));
            }
        }
#endif
        swiglu_tail(g, u, a.type, o, i, a.n);
    }
}

double exp_shifted_body(const float *x, int64_t n, float max, float *out) {
    int64_t i = 0;
    double sum = 0;
#if defined(__AVX512F__)
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    for (; i + 16 <= n; i += 16) {
        const __m512 e =
            exp_nonpositive_v(_mm512_sub_ps(_mm512_loadu_ps(x + i), _mm512_set1_ps(max)));
        _mm512_storeu_ps(out + i, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(
            s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
#elif defined(__AVX2__)
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e =
            exp_nonpositive_v(_mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_set1_ps(max)));
        _mm256_storeu_ps(out + i, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(s0, s1));
    sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
#endif
    for (; i < n; ++i) {
        out[i] = exp_nonpositive(x[i] - max);
        sum += out[i];
    }
    return sum;
}

} // namespace
} // namespace llmhost::kernels::detail
