// AVX2 kernels (AVX2+FMA+F16C), for x86-64 CPUs without AVX-512. Compiled with AVX2 flags, called
// only after dispatch.cpp checked the CPU. Same blocking as the AVX-512 file with 8-lane vectors
// and up to 2 x rows per pass over a block (16 ymm registers).
#include "detail.hpp"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace llmhost::kernels::detail {
namespace {

constexpr int kMaxMB = 2;

// --- BF16 (16-row blocks of column pairs, linear.hpp): a block's pair p is two ymm vectors, rows
// 0-7 and 8-15, one pair per 32-bit lane; the even and odd columns are widened to fp32 (a bf16 is
// the top half of an fp32) and multiplied by x's values broadcast, with FMA. The block's sums
// stay in lanes: no horizontal sums. Two pairs per step for one x row (8 accumulators).
template <int MB>
void bf16_block(const LinearJob &job, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
    constexpr int C = MB == 1 ? 2 : 1;
    const int64_t P = job.w->padded_cols() / 2; // column pairs, a multiple of 16
    const auto *w = static_cast<const __m256i *>(job.w->data()) + blk * P * 2;
    const __m256i high = _mm256_set1_epi32(int32_t(0xffff0000u));
    __m256 acc[MB][C][2][2]; // [x row][pair in step][half of the block][even / odd column]
    for (int m = 0; m < MB; ++m)
        for (int c = 0; c < C; ++c)
            for (int h = 0; h < 2; ++h) acc[m][c][h][0] = acc[m][c][h][1] = _mm256_setzero_ps();
    for (int64_t p = 0; p < P; p += C)
        for (int c = 0; c < C; ++c)
            for (int h = 0; h < 2; ++h) {
                const __m256i v = _mm256_load_si256(w + 2 * (p + c) + h);
                const __m256 even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
                const __m256 odd = _mm256_castsi256_ps(_mm256_and_si256(v, high));
                for (int m = 0; m < MB; ++m) {
                    const float *x = job.xf + (m0 + m) * job.ldxp + 2 * (p + c);
                    acc[m][c][h][0] = _mm256_fmadd_ps(even, _mm256_set1_ps(x[0]), acc[m][c][h][0]);
                    acc[m][c][h][1] = _mm256_fmadd_ps(odd, _mm256_set1_ps(x[1]), acc[m][c][h][1]);
                }
            }
    for (int m = 0; m < MB; ++m)
        for (int h = 0; h < 2; ++h) {
            __m256 s = _mm256_add_ps(acc[m][0][h][0], acc[m][0][h][1]);
            for (int c = 1; c < C; ++c)
                s = _mm256_add_ps(s, _mm256_add_ps(acc[m][c][h][0], acc[m][c][h][1]));
            _mm256_storeu_ps(out[m] + 8 * h, s);
        }
}

// --- Q8/Q4: 16 output rows per block. A group (32 columns) is 8 vectors of 16 rows x 4 columns
// of unsigned codes (layout in linear.hpp); each quarter (4 rows x 4 columns, 16 bytes) is
// widened to int16 and multiplied by x's 4 int16 codes broadcast (vpmaddwd: two int32 per row),
// accumulating exact int32 per group; the row pairs are folded and the codes' offset removed
// once per group, then the group's sums are scaled in fp32. No per-weight float conversion.
template <Format F>
inline __m128i quarter(const uint8_t *wg, int v, int q) {
    if constexpr (F == Format::Q8) {
        return _mm_loadu_si128((const __m128i *)(wg + 64 * v + 16 * q));
    } else { // v < 4: low nibbles of vector v; v >= 4: high nibbles of vector v - 4
        const __m128i b = _mm_loadu_si128((const __m128i *)(wg + 64 * (v & 3) + 16 * q));
        return _mm_and_si128(v < 4 ? b : _mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f));
    }
}

inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

inline __m256i bcast8(const int16_t *p) {
    long long v;
    std::memcpy(&v, p, 8);
    return _mm256_set1_epi64x(v);
}

// Row sums of two quarters' pair accumulators (rows 4 q .. 4 q + 7), in row order.
inline __m256i fold_pairs(__m256i a, __m256i b) {
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xd8);
}

template <Format F, int MB>
void qblock(const LinearJob &job, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
    const int64_t groups = job.w->padded_cols() / kGroup, xg = job.ldxp / kGroup;
    const auto *base =
        static_cast<const uint8_t *>(job.w->data()) + block_offset(F, groups, blk);
    __m256 acc[MB][2];
    for (int m = 0; m < MB; ++m) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
        const uint8_t *wg = base + codes_in_block(F, g);
        const auto *sc = reinterpret_cast<const uint16_t *>(base + scales_in_block(F, g));
        __m256i ai[MB][4]; // per quarter of rows: lane 2 r + column pair
        for (int m = 0; m < MB; ++m)
            for (int q = 0; q < 4; ++q) ai[m][q] = _mm256_setzero_si256();
        for (int v = 0; v < 8; ++v) {
            __m256i w[4];
            for (int q = 0; q < 4; ++q) w[q] = _mm256_cvtepu8_epi16(quarter<F>(wg, v, q));
            for (int m = 0; m < MB; ++m) {
                const __m256i x = bcast8(job.xq + (m0 + m) * job.ldxp + g * kGroup + 4 * v);
                for (int q = 0; q < 4; ++q)
                    ai[m][q] = _mm256_add_epi32(ai[m][q], _mm256_madd_epi16(w[q], x));
            }
        }
        const __m256 ws0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sc)));
        const __m256 ws1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sc + 8)));
        for (int m = 0; m < MB; ++m) {
            const __m256i corr = _mm256_set1_epi32(-code_offset(F) * job.xsum[(m0 + m) * xg + g]);
            const __m256i t0 = _mm256_add_epi32(fold_pairs(ai[m][0], ai[m][1]), corr);
            const __m256i t1 = _mm256_add_epi32(fold_pairs(ai[m][2], ai[m][3]), corr);
            const __m256 xs = _mm256_set1_ps(job.xs[(m0 + m) * xg + g]);
            acc[m][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t0), _mm256_mul_ps(ws0, xs), acc[m][0]);
            acc[m][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t1), _mm256_mul_ps(ws1, xs), acc[m][1]);
        }
    }
    for (int m = 0; m < MB; ++m) {
        _mm256_storeu_ps(out[m], acc[m][0]);
        _mm256_storeu_ps(out[m] + 8, acc[m][1]);
    }
}

// Q4: the nibbles (0..15) times x's int8 codes (kLinearXInt8Max: the l half of job.xhl, h = 0)
// with vpmaddubsw: two products per int16 lane, |sum| <= 15 * 127 * 2, so the 8 steps of a group
// add up in int16 without saturating (<= 30480); once per group vpmaddwd folds each row's two
// lanes. A quarter as many widenings and multiplies as the int16 path above.
template <int MB>
void q4block_hl(const LinearJob &job, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
    const int64_t groups = job.w->padded_cols() / kGroup, xg = job.ldxp / kGroup;
    const auto *base =
        static_cast<const uint8_t *>(job.w->data()) + block_offset(Format::Q4, groups, blk);
    const __m256i nib = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi16(1);
    __m256 acc[MB][2];
    for (int m = 0; m < MB; ++m) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
        const uint8_t *wg = base + codes_in_block(Format::Q4, g);
        const auto *sc = reinterpret_cast<const uint16_t *>(base + scales_in_block(Format::Q4, g));
        __m256i ls[MB][2]; // int16 sums per half block (rows 0-7, 8-15)
        for (int m = 0; m < MB; ++m) ls[m][0] = ls[m][1] = _mm256_setzero_si256();
        for (int v = 0; v < 4; ++v) {
            for (int half = 0; half < 2; ++half) {
                const __m256i b = _mm256_loadu_si256((const __m256i *)(wg + 64 * v + 32 * half));
                const __m256i lo = _mm256_and_si256(b, nib);                       // columns 4 v ..
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), nib); // 16 + 4 v ..
                for (int m = 0; m < MB; ++m) {
                    const int8_t *xl = job.xhl + (m0 + m) * 2 * job.ldxp + g * 2 * kGroup + kGroup;
                    ls[m][half] = _mm256_add_epi16(
                        ls[m][half],
                        _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast4(xl + 4 * v)),
                                         _mm256_maddubs_epi16(hi, bcast4(xl + 16 + 4 * v))));
                }
            }
        }
        const __m256 ws0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sc)));
        const __m256 ws1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sc + 8)));
        for (int m = 0; m < MB; ++m) {
            const __m256i corr = _mm256_set1_epi32(-8 * job.xsum[(m0 + m) * xg + g]);
            const __m256 xs = _mm256_set1_ps(job.xs[(m0 + m) * xg + g]);
            for (int half = 0; half < 2; ++half) {
                const __m256i t = _mm256_add_epi32(_mm256_madd_epi16(ls[m][half], one), corr);
                acc[m][half] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t),
                                               _mm256_mul_ps(half ? ws1 : ws0, xs), acc[m][half]);
            }
        }
    }
    for (int m = 0; m < MB; ++m) {
        _mm256_storeu_ps(out[m], acc[m][0]);
        _mm256_storeu_ps(out[m] + 8, acc[m][1]);
    }
}

// Rows [n0, n1) block by block (n0 is a block start: linear.cpp), x rows up to 2 per pass
// (16 ymm registers).
template <class Block>
void block_rows(const LinearJob &job, int64_t n0, int64_t n1) {
    float out[kMaxMB][kBlockRows];
    for (int64_t n = n0; n < n1; n += kBlockRows) {
        const int64_t blk = n / kBlockRows, rows = std::min(kBlockRows, n1 - n);
        for (int64_t m0 = 0; m0 < job.M; m0 += kMaxMB) {
            const int64_t mb = std::min<int64_t>(kMaxMB, job.M - m0);
            if (mb == 2)
                Block::template run<2>(job, blk, m0, out);
            else
                Block::template run<1>(job, blk, m0, out);
            for (int64_t m = 0; m < mb; ++m)
                for (int64_t r = 0; r < rows; ++r) store_out(job, m0 + m, n + r, out[m][r]);
        }
    }
}

struct Bf16 {
    template <int MB>
    static void run(const LinearJob &j, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
        bf16_block<MB>(j, blk, m0, out);
    }
};
struct Q8 {
    template <int MB>
    static void run(const LinearJob &j, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
        qblock<Format::Q8, MB>(j, blk, m0, out);
    }
};
struct Q4 {
    template <int MB>
    static void run(const LinearJob &j, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
        q4block_hl<MB>(j, blk, m0, out);
    }
};

void quantize_x(const float *x, int64_t groups, int16_t *q, float *s, int32_t *sum, int8_t *hl,
                int32_t code_max) {
    const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
    const float qmax = float(code_max);
    for (int64_t g = 0; g < groups; ++g) {
        const float *xg = x + g * kGroup;
        __m256 v[4], nf = zero, mx = zero;
        for (int i = 0; i < 4; ++i) {
            v[i] = _mm256_loadu_ps(xg + 8 * i);
            nf = _mm256_add_ps(nf, _mm256_sub_ps(v[i], v[i])); // NaN iff a NaN/inf
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[i]));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        if (_mm256_movemask_ps(_mm256_cmp_ps(nf, zero, _CMP_NEQ_UQ)) || !(amax > 0.0f)) {
            quantize_x_scalar(xg, 1, q + g * kGroup, s + g, sum + g,
                              hl ? hl + g * 2 * kGroup : nullptr, code_max);
            continue;
        }
        const __m256 inv = _mm256_set1_ps(qmax / amax);
        __m256i acc = _mm256_setzero_si256();
        const __m256i lim = _mm256_set1_epi32(code_max), nlim = _mm256_set1_epi32(-code_max);
        for (int i = 0; i < 4; i += 2) {
            // Round to nearest even (MXCSR default), clamp, pack in order (packs interleaves
            // 128-bit lanes: permute back).
            __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], inv));
            __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(v[i + 1], inv));
            a = _mm256_max_epi32(_mm256_min_epi32(a, lim), nlim);
            b = _mm256_max_epi32(_mm256_min_epi32(b, lim), nlim);
            acc = _mm256_add_epi32(acc, _mm256_add_epi32(a, b));
            __m256i pk = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8);
            _mm256_storeu_si256((__m256i *)(q + g * kGroup + 8 * i), pk);
        }
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
        sum[g] = _mm_cvtsi128_si32(t);
        s[g] = amax / qmax;
        if (hl) { // q = 256 h + l: l the sign-extended low byte, h = (q - l) >> 8 exactly
            const __m256i q0 = _mm256_loadu_si256((const __m256i *)(q + g * kGroup));
            const __m256i q1 = _mm256_loadu_si256((const __m256i *)(q + g * kGroup + 16));
            const __m256i l0 = _mm256_srai_epi16(_mm256_slli_epi16(q0, 8), 8);
            const __m256i l1 = _mm256_srai_epi16(_mm256_slli_epi16(q1, 8), 8);
            const __m256i h0 = _mm256_srai_epi16(_mm256_sub_epi16(q0, l0), 8);
            const __m256i h1 = _mm256_srai_epi16(_mm256_sub_epi16(q1, l1), 8);
            // packs interleaves 128-bit lanes: permute back to column order.
            _mm256_storeu_si256((__m256i *)(hl + g * 2 * kGroup),
                                _mm256_permute4x64_epi64(_mm256_packs_epi16(h0, h1), 0xd8));
            _mm256_storeu_si256((__m256i *)(hl + g * 2 * kGroup + kGroup),
                                _mm256_permute4x64_epi64(_mm256_packs_epi16(l0, l1), 0xd8));
        }
    }
}

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
    alignas(32) uint64_t l[4]; // unsigned: the sum wraps (it only keeps the loads alive)
    _mm256_store_si256((__m256i *)l, s);
    return double(l[0] + l[1] + l[2] + l[3]);
}

double read_sum_busy(const void *p, std::size_t n) {
    const auto *v = static_cast<const __m256i *>(p);
    const __m256i c1 = _mm256_set1_epi16(3), c2 = _mm256_set1_epi16(-5);
    __m256i a[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
    // One multiply-add per 32 bytes: two per 64, as the AVX-512 loop.
    for (std::size_t i = 0; i < n / 32; i += 4)
        for (int j = 0; j < 4; ++j) {
            const __m256i w = _mm256_load_si256(v + i + j);
            a[j] = _mm256_add_epi32(a[j], _mm256_madd_epi16(w, j % 2 ? c2 : c1));
        }
    const __m256i s = _mm256_add_epi32(_mm256_add_epi32(a[0], a[1]), _mm256_add_epi32(a[2], a[3]));
    alignas(32) int32_t l[8];
    _mm256_store_si256((__m256i *)l, s);
    int64_t t = 0;
    for (int32_t x : l) t += x;
    return double(t);
}

} // namespace

IsaKernels avx2_kernels() {
    // wants_x_split: the Q4 kernel reads x's int8 halves (job.xhl), Q8 the int16 codes.
    return {block_rows<Bf16>, block_rows<Q8>, block_rows<Q4>, false, true, true,
            quantize_x,       read_sum,       read_sum_busy};
}

} // namespace llmhost::kernels::detail
#endif
