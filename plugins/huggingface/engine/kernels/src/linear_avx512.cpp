// AVX-512 kernels (F+BW+VL+FMA+F16C; vdpbf16ps when the CPU has AVX512_BF16, vpdpwssd when it
// has AVX512_VNNI). Compiled with AVX-512 flags, called only after dispatch.cpp checked the CPU.
// Every kernel handles up to 4 activation rows per pass over a block of weight rows; the block
// stays in L1 while further x rows are processed, so the matrix is streamed from memory once.
#include "detail.hpp"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace llmhost::kernels::detail {
namespace {

// Block kernels: the 16 rows of weight block `blk` dotted with x rows m0 .. m0 + MB - 1, the
// sums written to out[m][row in block]. Up to 4 x rows per pass: the block (16 x Kp weights)
// stays in L1/L2 for the next pass, so the matrix is streamed from memory once.
inline int32_t pair_at(const uint16_t *p) { // two bf16, as vdpbf16ps reads them from one lane
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// --- BF16 with vdpbf16ps: x rounded to bf16 once per call (job.xb). Each vector is the block's
// 16 rows at one column pair (linear.hpp); x's pair is broadcast to every lane. 4 independent
// accumulators per x row hide the instruction's latency (one per x row made a 16-row prefill
// latency-bound: 3-4x slower).
template <int MB>
void bf16_dp_block(const LinearJob &job, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
    constexpr int C = 4;
    const int64_t P = job.w->padded_cols() / 2; // column pairs, a multiple of 16
    const auto *w = static_cast<const __m512i *>(job.w->data()) + blk * P;
    const uint16_t *x = job.xb + m0 * job.ldxp;
    __m512 acc[MB][C];
    for (int m = 0; m < MB; ++m)
        for (int c = 0; c < C; ++c) acc[m][c] = _mm512_setzero_ps();
    for (int64_t p = 0; p < P; p += C)
        for (int c = 0; c < C; ++c) {
            const __m512bh wv = (__m512bh)_mm512_load_si512(w + p + c);
            for (int m = 0; m < MB; ++m)
                acc[m][c] = _mm512_dpbf16_ps(
                    acc[m][c], wv,
                    (__m512bh)_mm512_set1_epi32(pair_at(x + m * job.ldxp + 2 * (p + c))));
        }
    for (int m = 0; m < MB; ++m) {
        __m512 s = acc[m][0];
        for (int c = 1; c < C; ++c) s = _mm512_add_ps(s, acc[m][c]);
        _mm512_storeu_ps(out[m], s);
    }
}

// --- BF16 without AVX512_BF16: each vector's even and odd columns widened to fp32 (a bf16 is
// the top half of an fp32) and multiplied by x's fp32 values with FMA.
template <int MB>
void bf16_fma_block(const LinearJob &job, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
    constexpr int C = 2; // 4 accumulators per x row (even and odd columns)
    const int64_t P = job.w->padded_cols() / 2;
    const auto *w = static_cast<const __m512i *>(job.w->data()) + blk * P;
    const __m512i high = _mm512_set1_epi32(int32_t(0xffff0000u));
    __m512 acc[MB][C][2];
    for (int m = 0; m < MB; ++m)
        for (int c = 0; c < C; ++c) acc[m][c][0] = acc[m][c][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < P; p += C)
        for (int c = 0; c < C; ++c) {
            const __m512i v = _mm512_load_si512(w + p + c);
            const __m512 even = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
            const __m512 odd = _mm512_castsi512_ps(_mm512_and_si512(v, high));
            for (int m = 0; m < MB; ++m) {
                const float *x = job.xf + (m0 + m) * job.ldxp + 2 * (p + c);
                acc[m][c][0] = _mm512_fmadd_ps(even, _mm512_set1_ps(x[0]), acc[m][c][0]);
                acc[m][c][1] = _mm512_fmadd_ps(odd, _mm512_set1_ps(x[1]), acc[m][c][1]);
            }
        }
    for (int m = 0; m < MB; ++m) {
        __m512 s = _mm512_add_ps(acc[m][0][0], acc[m][0][1]);
        for (int c = 1; c < C; ++c) s = _mm512_add_ps(s, _mm512_add_ps(acc[m][c][0], acc[m][c][1]));
        _mm512_storeu_ps(out[m], s);
    }
}

// --- Q8/Q4: 16 output rows per block, one per 32-bit lane. A group (32 columns) of a block is 8
// vectors of 16 rows x 4 columns of unsigned codes (Q8: 8 loads; Q4: 4 loads, low and high
// nibbles). With VNNI, x's int16 codes are split as q = 256 h + l (int8 h, l: job.xhl) and each
// vector takes two vpdpbusd (u8 codes x s8 h, x s8 l: 64 products each, no widening); the
// group's exact int32 sum is 256 H + L - offset * sum(x), the offset term preloaded into L.
// Without VNNI: the codes are widened to int16 and multiplied by x's int16 codes (vpmaddwd),
// the row pairs folded once per group. Then one FMA per group scales by (row scale x x scale).
// Q4 with VNNI (HighTimes16): the high nibbles stay where they are (b & 0xf0 = 16 (q + 8)) and
// group_dot divides their sum by 16, exact since it is a multiple of 16: a shift per group
// instead of one per vector (int4 decode is compute-bound at 2 threads here).
template <Format F, bool HighTimes16 = false>
inline void load_codes(const uint8_t *wg, __m512i (&u)[8]) {
    if constexpr (F == Format::Q8) {
        for (int v = 0; v < 8; ++v) u[v] = _mm512_loadu_si512(wg + 64 * v);
    } else {
        const __m512i nib = _mm512_set1_epi8(0x0f), high = _mm512_set1_epi8(char(0xf0));
        for (int v = 0; v < 4; ++v) {
            const __m512i b = _mm512_loadu_si512(wg + 64 * v);
            u[v] = _mm512_and_si512(b, nib);                   // columns 4 v ..
            u[v + 4] = HighTimes16 ? _mm512_and_si512(b, high) // columns 16 + 4 v .., x 16
                                   : _mm512_and_si512(_mm512_srli_epi16(b, 4), nib);
        }
    }
}

inline __m512i bcast4(const int8_t *p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

inline __m512i bcast8(const int16_t *p) {
    long long v;
    std::memcpy(&v, p, 8);
    return _mm512_set1_epi64(v);
}

// acc + u . {x[0..3] broadcast to every lane}, with x read by the instruction's own 32-bit
// broadcast ({1to16}). GCC 12 does not fold _mm512_set1_epi32 of a load into vpdpbusd's memory
// operand and emits a vpbroadcastd per product: int8's inner loop was 40 instructions per group
// (8 loads, 16 broadcasts, 16 products), 24 with the folded form. Measured 2026-11-27 (old and
// new bench_kernels alternating, two rounds): --mib 1 (L2) --threads 1, int8 +6-12 %, int4
// +4-8 %; --m 4 (4 rows, as batched decode), int8 +12-27 %. Batch-1 decode from DRAM: the same
// (in one process, rep by rep, 0.997-1.023x).
inline __m512i dpbusd_bcast(__m512i acc, __m512i u, const int8_t *x) {
#if defined(__GNUC__)
    using word = int32_t __attribute__((may_alias)); // x is int8 data: read it as such
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u), "m"(*(const word *)x));
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, u, bcast4(x));
#endif
}

// The group's int32 dot products of the 16 rows with x row m (codes' offset removed).
template <Format F, bool Vnni>
inline __m512i group_dot(const LinearJob &job, const __m512i (&u)[8], int64_t m, int64_t g) {
    const int32_t corr = -code_offset(F) * job.xsum[m * (job.ldxp / kGroup) + g];
    if constexpr (Vnni) {
        const int8_t *xh = job.xhl + m * 2 * job.ldxp + g * 2 * kGroup, *xl = xh + kGroup;
        if constexpr (F == Format::Q4) { // x's codes fit int8 (h = 0): one product per vector
            // u[4 ..] are the high nibbles times 16 (load_codes<Q4, true>): their own chain.
            __m512i lo = _mm512_set1_epi32(corr), hi = _mm512_setzero_si512();
            for (int v = 0; v < 4; ++v) {
                lo = dpbusd_bcast(lo, u[v], xl + 4 * v);
                hi = dpbusd_bcast(hi, u[v + 4], xl + 4 * v + 16);
            }
            return _mm512_add_epi32(lo, _mm512_srai_epi32(hi, 4));
        }
        // Two chains each for h and l: vpdpbusd's latency would otherwise bound the loop.
        __m512i h0 = _mm512_setzero_si512(), h1 = h0, l0 = _mm512_set1_epi32(corr), l1 = h0;
        for (int v = 0; v < 8; v += 2) {
            h0 = dpbusd_bcast(h0, u[v], xh + 4 * v);
            l0 = dpbusd_bcast(l0, u[v], xl + 4 * v);
            h1 = dpbusd_bcast(h1, u[v + 1], xh + 4 * v + 4);
            l1 = dpbusd_bcast(l1, u[v + 1], xl + 4 * v + 4);
        }
        return _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(h0, h1), 8),
                                _mm512_add_epi32(l0, l1));
    } else {
        const int16_t *x = job.xq + m * job.ldxp + g * kGroup;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0; // rows 0-7 / 8-15: lane 2 r + column pair
        for (int v = 0; v < 8; ++v) {
            const __m512i xv = bcast8(x + 4 * v);
            a0 = _mm512_add_epi32(
                a0, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(u[v])), xv));
            a1 = _mm512_add_epi32(
                a1,
                _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(u[v], 1)), xv));
        }
        const __m512i even =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
        return _mm512_add_epi32(_mm512_add_epi32(_mm512_permutex2var_epi32(a0, even, a1),
                                                 _mm512_permutex2var_epi32(a0, odd, a1)),
                                _mm512_set1_epi32(corr));
    }
}

template <Format F, bool Vnni, int MB>
void qblock(const LinearJob &job, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
    const int64_t groups = job.w->padded_cols() / kGroup, xg = job.ldxp / kGroup;
    const auto *base = static_cast<const uint8_t *>(job.w->data()) + block_offset(F, groups, blk);
    __m512 acc[MB];
    for (int m = 0; m < MB; ++m) acc[m] = _mm512_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
        __m512i u[8];
        load_codes<F, F == Format::Q4 && Vnni>(base + codes_in_block(F, g), u);
        const __m512 ws =
            _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(base + scales_in_block(F, g))));
        for (int m = 0; m < MB; ++m) {
            const __m512i t = group_dot<F, Vnni>(job, u, m0 + m, g);
            const __m512 s = _mm512_mul_ps(ws, _mm512_set1_ps(job.xs[(m0 + m) * xg + g]));
            acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), s, acc[m]);
        }
    }
    for (int m = 0; m < MB; ++m) _mm512_storeu_ps(out[m], acc[m]);
}

// Rows [n0, n1) block by block (n0 is a block start: linear.cpp), x rows up to 4 per pass.
template <class Block>
void block_rows(const LinearJob &job, int64_t n0, int64_t n1) {
    float out[4][kBlockRows];
    for (int64_t n = n0; n < n1; n += kBlockRows) {
        const int64_t blk = n / kBlockRows, rows = std::min(kBlockRows, n1 - n);
        for (int64_t m0 = 0; m0 < job.M; m0 += 4) {
            const int64_t mb = std::min<int64_t>(4, job.M - m0);
            switch (mb) {
            case 1: Block::template run<1>(job, blk, m0, out); break;
            case 2: Block::template run<2>(job, blk, m0, out); break;
            case 3: Block::template run<3>(job, blk, m0, out); break;
            default: Block::template run<4>(job, blk, m0, out); break;
            }
            for (int64_t m = 0; m < mb; ++m)
                for (int64_t r = 0; r < rows; ++r) store_out(job, m0 + m, n + r, out[m][r]);
        }
    }
}

struct Bf16Dp {
    template <int MB>
    static void run(const LinearJob &j, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
        bf16_dp_block<MB>(j, blk, m0, out);
    }
};
struct Bf16Fma {
    template <int MB>
    static void run(const LinearJob &j, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
        bf16_fma_block<MB>(j, blk, m0, out);
    }
};
template <Format F, bool Vnni>
struct QBlock {
    template <int MB>
    static void run(const LinearJob &j, int64_t blk, int64_t m0, float (*out)[kBlockRows]) {
        qblock<F, Vnni, MB>(j, blk, m0, out);
    }
};

void quantize_x(const float *x, int64_t groups, int16_t *q, float *s, int32_t *sum, int8_t *hl,
                int32_t code_max) {
    const __m512 zero = _mm512_setzero_ps();
    const float qmax = float(code_max);
    const __m512i lim = _mm512_set1_epi32(code_max), nlim = _mm512_set1_epi32(-code_max);
    for (int64_t g = 0; g < groups; ++g) {
        const float *xg = x + g * kGroup;
        __m512 a = _mm512_loadu_ps(xg), b = _mm512_loadu_ps(xg + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
        // x - x is NaN exactly for NaN/inf: those groups (and all-zero ones) take the scalar
        // path's NaN (0) scale.
        if (_mm512_cmp_ps_mask(_mm512_add_ps(_mm512_sub_ps(a, a), _mm512_sub_ps(b, b)), zero,
                               _CMP_NEQ_UQ) ||
            !(amax > 0.0f)) {
            quantize_x_scalar(xg, 1, q + g * kGroup, s + g, sum + g,
                              hl ? hl + g * 2 * kGroup : nullptr, code_max);
            continue;
        }
        const __m512 inv = _mm512_set1_ps(qmax / amax);
        // Round to nearest even (MXCSR default), clamped to the code range.
        __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, inv));
        __m512i qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, inv));
        qa = _mm512_max_epi32(_mm512_min_epi32(qa, lim), nlim);
        qb = _mm512_max_epi32(_mm512_min_epi32(qb, lim), nlim);
        const __m256i ha = _mm512_cvtepi32_epi16(qa), hb = _mm512_cvtepi32_epi16(qb);
        _mm256_storeu_si256((__m256i *)(q + g * kGroup), ha);
        _mm256_storeu_si256((__m256i *)(q + g * kGroup + 16), hb);
        sum[g] = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
        s[g] = amax / qmax;
        if (hl) { // q = 256 h + l: l the sign-extended low byte, h = (q - l) >> 8 exactly
            const __m512i q16 = _mm512_inserti64x4(_mm512_castsi256_si512(ha), hb, 1);
            const __m512i l = _mm512_srai_epi16(_mm512_slli_epi16(q16, 8), 8);
            const __m512i h = _mm512_srai_epi16(_mm512_sub_epi16(q16, l), 8);
            _mm256_storeu_si256((__m256i *)(hl + g * 2 * kGroup), _mm512_cvtepi16_epi8(h));
            _mm256_storeu_si256((__m256i *)(hl + g * 2 * kGroup + kGroup), _mm512_cvtepi16_epi8(l));
        }
    }
}

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
    alignas(64) uint64_t l[8]; // unsigned: the sum wraps (it only keeps the loads alive)
    _mm512_store_si512(l, s);
    uint64_t t = 0;
    for (uint64_t v : l) t += v;
    return double(t);
}

double read_sum_busy(const void *p, std::size_t n) {
    const auto *v = static_cast<const __m512i *>(p);
    const __m512i c1 = _mm512_set1_epi16(3), c2 = _mm512_set1_epi16(-5);
    __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
    for (std::size_t i = 0; i < n / 64; i += 4)
        for (int j = 0; j < 4; ++j) {
            const __m512i w = _mm512_load_si512(v + i + j);
            a[j] = _mm512_add_epi32(
                a[j], _mm512_add_epi32(_mm512_madd_epi16(w, c1), _mm512_madd_epi16(w, c2)));
        }
    const __m512i s = _mm512_add_epi32(_mm512_add_epi32(a[0], a[1]), _mm512_add_epi32(a[2], a[3]));
    return double(_mm512_reduce_add_epi32(s));
}

} // namespace

IsaKernels avx512_kernels(bool bf16, bool vnni) {
    return {bf16 ? block_rows<Bf16Dp> : block_rows<Bf16Fma>,
            vnni ? block_rows<QBlock<Format::Q8, true>> : block_rows<QBlock<Format::Q8, false>>,
            vnni ? block_rows<QBlock<Format::Q4, true>> : block_rows<QBlock<Format::Q4, false>>,
            bf16,
            true,
            vnni,
            quantize_x,
            read_sum,
            read_sum_busy};
}

} // namespace llmhost::kernels::detail
#endif
