// The body of attend(), included once per ISA file (attention_scalar.cpp, _avx2.cpp, _avx512.cpp)
// and compiled with that file's flags: plain loops the compiler vectorises for the target
// (`omp simd` reductions let it reorder the dot products' sums), plus, where the file's flags
// define __AVX512F__ or __AVX2__, intrinsics for the two inner steps the compiler did not
// vectorise well (several keys' dot products at once, the softmax's exp). Everything here has
// internal linkage, so the AVX-512 copy can never stand in for the scalar one at link time.
#include "detail.hpp"
#include "exp_impl.hpp"

#include <cmath>
#include <cstdint>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

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

// Whether this ISA file has dot_rows_bf16 (vdpbf16ps: the AVX-512 file, built with its flag);
// attend_hd uses it only where the CPU has the instruction (AttendArgs::bf16_dot).
#if defined(__AVX512BF16__)
inline constexpr bool kBf16Dot = true;
#else
inline constexpr bool kBf16Dot = false;
#endif

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

// q . k for kLanes consecutive key rows (kHd apart) at once (the ISA's vector width in floats; 1 on
// the scalar build, which uses dot() instead): one accumulator vector per row, then a transposing
// tree of adds that leaves row t's sum in lane t. Per-row horizontal sums took ~2/3 of the
// attention's time at long context (int4 bench model, 2,000 positions: attention was 1.4x the
// weights' time).
#if defined(__AVX512F__)
inline constexpr int kLanes = 16;
inline __m512 sum_lanes16(__m512 (&v)[16]) {
    __m512 r[8], s[4], x[2];
    for (int i = 0; i < 8; ++i) // per 128-bit block: [a0+a2, b0+b2, a1+a3, b1+b3]
        r[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                             _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 4; ++i) // per block: the 4 rows' sums over that block
        s[i] = _mm512_add_ps(_mm512_shuffle_ps(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    for (int i = 0; i < 2; ++i) // pairs of blocks added
        x[i] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_add_ps(_mm512_shuffle_f32x4(x[0], x[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(x[0], x[1], _MM_SHUFFLE(3, 1, 3, 1)));
}
template <int kHd>
inline void dot_rows(const float *__restrict q, const float *__restrict k, float scale,
                     float *__restrict out) {
    constexpr int64_t ld = kHd; // rows of the tile scratch
    __m512 acc[16];
    for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
    for (int c = 0; c < kHd; c += 16) {
        const __m512 qc = _mm512_loadu_ps(q + c);
        for (int t = 0; t < 16; ++t)
            acc[t] = _mm512_fmadd_ps(qc, _mm512_loadu_ps(k + t * ld + c), acc[t]);
    }
    _mm512_storeu_ps(out, _mm512_mul_ps(sum_lanes16(acc), _mm512_set1_ps(scale)));
}

#if defined(__AVX512BF16__)
// The scores of `rows` (<= 16) consecutive bf16 cache rows, ld elements apart, read as they are
// (no widening): vdpbf16ps sums each row's products in pairs of dimensions, the products exact
// in fp32. q comes split as hi + lo, two bf16 (lo: kLo, when q is fp32), which leaves an error
// of ~2^-17 |q| in the scores (fp32's own is 2^-24). Lanes past `rows` come out 0 (mask_tile
// then pads them). Widening the tile's K rows into scratch was half of the score side's
// instructions at a long context.
template <int kHd, bool kLo>
inline void dot_rows_bf16(const uint16_t *qh, const uint16_t *ql, const uint16_t *k, int64_t ld,
                          int64_t rows, float scale, float *__restrict out) {
    constexpr int C = kHd / 32;
    __m512bh h[C], l[C];
    for (int c = 0; c < C; ++c) {
        h[c] = (__m512bh)_mm512_loadu_si512(qh + 32 * c);
        if constexpr (kLo) l[c] = (__m512bh)_mm512_loadu_si512(ql + 32 * c);
    }
    __m512 acc[16];
    for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
    for (int t = 0; t < 16 && t < rows; ++t)
        for (int c = 0; c < C; ++c) {
            const __m512bh kv = (__m512bh)_mm512_loadu_si512(k + t * ld + 32 * c);
            acc[t] = _mm512_dpbf16_ps(acc[t], h[c], kv);
            if constexpr (kLo) acc[t] = _mm512_dpbf16_ps(acc[t], l[c], kv);
        }
    _mm512_storeu_ps(out, _mm512_mul_ps(sum_lanes16(acc), _mm512_set1_ps(scale)));
}
#endif

// pg[t] = exp_nonpositive(pg[t] - m) for the tile's kAttendTile scores; returns their sum.
inline float exp_tile(float *__restrict pg, float m) {
    __m512 sum = _mm512_setzero_ps();
    for (int64_t t = 0; t < kAttendTile; t += 16) {
        const __m512 e =
            exp_nonpositive_v(_mm512_sub_ps(_mm512_loadu_ps(pg + t), _mm512_set1_ps(m)));
        _mm512_storeu_ps(pg + t, e);
        sum = _mm512_add_ps(sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

// pg[t] = -inf where position t is masked (vis[t] == 0) or past the tile's n positions. Masked
// loads: vis holds only the n bytes of this tile.
inline void mask_tile(float *__restrict pg, const unsigned char *vis, int64_t n) {
    for (int64_t t = 0; t < kAttendTile; t += 16) {
        const int64_t left = n - t;
        const __mmask16 valid = left >= 16  ? __mmask16(0xffff)
                                : left <= 0 ? __mmask16(0)
                                            : __mmask16((1u << left) - 1);
        const __mmask16 keep =
            vis ? _mm_mask_cmpneq_epi8_mask(valid, _mm_maskz_loadu_epi8(valid, vis + t),
                                            _mm_setzero_si128())
                : valid;
        _mm512_storeu_ps(
            pg + t, _mm512_mask_blend_ps(keep, _mm512_set1_ps(-INFINITY), _mm512_loadu_ps(pg + t)));
    }
}

// The weighted sum of the tile's V rows for query heads g0 .. g0 + NB - 1, read from the cache
// itself: position by position, each row converted once in registers and added into every head's
// sum, the sums in registers across the tile. (Widening V into scratch first, then one pass per
// head over it, made attention compute-bound: ~23 ns a position at GQA 3, hd 64, in L2.)
template <int kHd, int NB, bool kBf16>
inline void pv_block(const AttendArgs &a, int64_t s0, int64_t n, const float *__restrict p,
                     float *__restrict acc, int64_t g0) {
    constexpr int V = kHd / 16;
    __m512 sum[NB][V];
    for (int j = 0; j < NB; ++j)
        for (int c = 0; c < V; ++c) sum[j][c] = _mm512_loadu_ps(acc + (g0 + j) * kHd + 16 * c);
    const std::size_t row_bytes = std::size_t(a.ld) * (kBf16 ? 2 : 4);
    const char *rows = static_cast<const char *>(a.v) + std::size_t(s0) * row_bytes;
    for (int64_t t = 0; t < n; ++t) {
        __m512 w[NB];
        bool any = false;
        for (int j = 0; j < NB; ++j) {
            const float wt = p[(g0 + j) * kAttendTile + t];
            any |= wt != 0.0f;
            w[j] = _mm512_set1_ps(wt);
        }
        if (!any) continue; // masked (every head's weight 0): the row is never read
        const char *row = rows + std::size_t(t) * row_bytes;
        for (int c = 0; c < V; ++c) {
            __m512 v;
            if constexpr (kBf16)
                v = _mm512_castsi512_ps(_mm512_slli_epi32(
                    _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(row + 32 * c))),
                    16));
            else
                v = _mm512_loadu_ps(reinterpret_cast<const float *>(row) + 16 * c);
            for (int j = 0; j < NB; ++j) sum[j][c] = _mm512_fmadd_ps(w[j], v, sum[j][c]);
        }
    }
    for (int j = 0; j < NB; ++j)
        for (int c = 0; c < V; ++c) _mm512_storeu_ps(acc + (g0 + j) * kHd + 16 * c, sum[j][c]);
}

// Heads g0 .. g0 + nb - 1 (nb <= NB) in one block.
template <int kHd, bool kBf16, int NB>
inline void pv_some(int64_t nb, const AttendArgs &a, int64_t s0, int64_t n, const float *p,
                    float *acc, int64_t g0) {
    if (nb == NB) return pv_block<kHd, NB, kBf16>(a, s0, n, p, acc, g0);
    if constexpr (NB > 1) pv_some<kHd, kBf16, NB - 1>(nb, a, s0, n, p, acc, g0);
}
// All heads, in blocks of up to 256 / kHd (a block's sums fill 16 of the 32 vector registers).
template <int kHd, bool kBf16>
inline void pv_heads(const AttendArgs &a, int64_t s0, int64_t n, const float *p, float *acc) {
    constexpr int kMax = 256 / kHd;
    for (int64_t g0 = 0; g0 < a.groups; g0 += kMax)
        pv_some<kHd, kBf16, kMax>(a.groups - g0 < kMax ? a.groups - g0 : kMax, a, s0, n, p, acc,
                                  g0);
}
inline constexpr bool kPvFromCache = true;
#elif defined(__AVX2__)
inline constexpr int kLanes = 8;
inline __m256 sum_lanes8(__m256 (&v)[8]) {
    // hadd twice: per 128-bit half, the 4 rows' sums over that half; then the halves added.
    const __m256 a = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
    const __m256 b = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}
template <int kHd>
inline void dot_rows(const float *__restrict q, const float *__restrict k, float scale,
                     float *__restrict out) {
    constexpr int64_t ld = kHd; // rows of the tile scratch
    __m256 acc[8];
    for (int t = 0; t < 8; ++t) acc[t] = _mm256_setzero_ps();
    for (int c = 0; c < kHd; c += 8) {
        const __m256 qc = _mm256_loadu_ps(q + c);
        for (int t = 0; t < 8; ++t)
            acc[t] = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k + t * ld + c), acc[t]);
    }
    _mm256_storeu_ps(out, _mm256_mul_ps(sum_lanes8(acc), _mm256_set1_ps(scale)));
}

// pg[t] = exp_nonpositive(pg[t] - m) for the tile's kAttendTile scores; returns their sum.
inline float exp_tile(float *__restrict pg, float m) {
    __m256 sum = _mm256_setzero_ps();
    for (int64_t t = 0; t < kAttendTile; t += 8) {
        const __m256 e =
            exp_nonpositive_v(_mm256_sub_ps(_mm256_loadu_ps(pg + t), _mm256_set1_ps(m)));
        _mm256_storeu_ps(pg + t, e);
        sum = _mm256_add_ps(sum, e);
    }
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}
#else
inline constexpr int kLanes = 1;
template <int kHd>
inline void dot_rows(const float *q, const float *k, float scale, float *out) {
    out[0] = dot<kHd>(q, k, kHd) * scale;
}

inline float exp_tile(float *__restrict pg, float m) {
    float sum = 0;
    for (int64_t t = 0; t < kAttendTile; ++t) {
        pg[t] = exp_nonpositive(pg[t] - m);
        sum += pg[t];
    }
    return sum;
}
#endif

#if !defined(__AVX512F__)
inline void mask_tile(float *__restrict pg, const unsigned char *vis, int64_t n) {
    for (int64_t t = 0; vis && t < n; ++t) pg[t] = vis[t] ? pg[t] : -INFINITY;
    for (int64_t t = n; t < kAttendTile; ++t) pg[t] = -INFINITY;
}
inline constexpr bool kPvFromCache = false; // the V rows are widened into the tile's scratch
template <int kHd, bool kBf16>
void pv_heads(const AttendArgs &, int64_t, int64_t, const float *, float *); // AVX-512 only
#endif

// One pass over the cache in tiles of kAttendTile positions with an online softmax (the running
// max and sum of each query head, its weighted sum rescaled when the max grows: flash-decoding's
// recurrence), so K and V are each read once, and a bf16 tile is widened into L1-sized scratch
// only. The earlier body widened the whole cache first and read V once per query head: at 2,000
// positions that was ~1 MiB of fp32 per KV head, out of L2, and attention took more time than the
// int4 weights of the 88M-parameter bench model (perf, 2026-11-26).
//
// scratch: attend_scratch_floats(groups, hd, kv_len) floats. kHd: the head size as a compile-time
// constant (the common 64 and 128: unrolled, no loop tails, a head's sum in registers), or 0 for
// a.hd.
template <int kHd>
void attend_hd(const AttendArgs &a, float *scratch) {
    constexpr int64_t T = kAttendTile;
    const int64_t G = a.groups, hd = kHd ? kHd : a.hd, S = a.kv_len;
    float *__restrict qf = scratch;
    float *__restrict acc = qf + G * hd; // each query head's weighted sum so far
    float *__restrict mx = acc + G * hd; // its running max score (-inf: nothing visible yet)
    float *__restrict den = mx + G;      // its sum of exp(score - max)
    float *__restrict p = den + G;       // the tile's scores, then weights, per query head
    float *__restrict kt = p + G * T;    // the tile's K rows as contiguous fp32
    float *__restrict vt = kt + T * hd;  // and V rows
    // q as bf16 high and low parts for the scores of a bf16 cache (dot_rows_bf16).
    uint16_t *__restrict qh = reinterpret_cast<uint16_t *>(vt + T * hd), *__restrict ql =
                                                                             qh + G * hd;
    widen(a.q, a.q_type, G * hd, qf);
    const bool k_dot = kBf16Dot && kHd != 0 && a.bf16_dot && a.kv_type == Act::BF16;
    const bool q_lo = a.q_type == Act::F32; // a bf16 q is its own high part
    for (int64_t i = 0; k_dot && i < G * hd; ++i) {
        qh[i] = f32_to_bf16(qf[i]);
        if (q_lo) ql[i] = f32_to_bf16(qf[i] - bf16_to_f32(qh[i]));
    }
    for (int64_t i = 0; i < G * hd; ++i) acc[i] = 0;
    for (int64_t g = 0; g < G; ++g) {
        mx[g] = -INFINITY;
        den[g] = 0;
    }
    for (int64_t s0 = 0; s0 < S; s0 += T) {
        const int64_t n = S - s0 < T ? S - s0 : T;
        const unsigned char *vis = a.visible ? a.visible + s0 : nullptr;
        bool any = !vis;
        for (int64_t t = 0; vis && t < n; ++t) any |= vis[t] != 0;
        if (!any) continue; // a fully masked tile adds nothing (and is never read)
        // The tile's rows as contiguous fp32 with a row stride known at compile time for
        // dot_rows (a runtime one spilled its 16 row pointers): an fp32 cache whose rows are
        // contiguous (ld == hd: the engine's) is read in place; other rows are widened (bf16) or
        // copied into L1 scratch. Copying fp32 rows one call at a time was 2.5x the attention's
        // own time in an int8 decode (perf).
        const bool in_place = a.kv_type == Act::F32 && a.ld == hd;
        constexpr bool v_from_cache = kPvFromCache && kHd != 0; // pv_heads reads V itself
        for (int64_t t = 0; !in_place && t < n; ++t) {
            if (!k_dot) widen(row_at(a.k, a.kv_type, s0 + t, a.ld), a.kv_type, hd, kt + t * hd);
            if (!v_from_cache)
                widen(row_at(a.v, a.kv_type, s0 + t, a.ld), a.kv_type, hd, vt + t * hd);
        }
        const float *__restrict k =
            in_place ? static_cast<const float *>(row_at(a.k, a.kv_type, s0, a.ld)) : kt;
        const float *__restrict v =
            in_place ? static_cast<const float *>(row_at(a.v, a.kv_type, s0, a.ld)) : vt;
        for (int64_t g = 0; g < G; ++g) {
            const float *__restrict qg = qf + g * hd;
            float *__restrict pg = p + g * T;
            int64_t t = 0;
            if constexpr (kBf16Dot && kHd != 0) {
                if (k_dot) {
                    const uint16_t *kb = static_cast<const uint16_t *>(a.k) + s0 * a.ld;
                    for (; t < n; t += 16) {
                        if (q_lo)
                            dot_rows_bf16<kHd, true>(qh + g * hd, ql + g * hd, kb + t * a.ld, a.ld,
                                                     n - t, a.scale, pg + t);
                        else
                            dot_rows_bf16<kHd, false>(qh + g * hd, nullptr, kb + t * a.ld, a.ld,
                                                      n - t, a.scale, pg + t);
                    }
                }
            }
            if constexpr (kHd != 0 && kLanes > 1)
                for (; t + kLanes <= n; t += kLanes) dot_rows<kHd>(qg, k + t * hd, a.scale, pg + t);
            for (; t < n; ++t) pg[t] = dot<kHd>(qg, k + t * hd, hd) * a.scale;
            // Computed, then masked (a masked row may hold anything; -inf replaces it), and a
            // short last tile padded with -inf: the loops below run a constant T, which the
            // compiler vectorises whole (with a runtime count it ran the exp scalar).
            mask_tile(pg, vis, n);
            float tile_max = -INFINITY;
#pragma omp simd reduction(max : tile_max)
            for (t = 0; t < T; ++t) tile_max = pg[t] > tile_max ? pg[t] : tile_max;
            if (tile_max == -INFINITY) { // every score -inf: weights 0, nothing to rescale
                for (t = 0; t < n; ++t) pg[t] = 0;
                continue;
            }
            const float m = tile_max > mx[g] ? tile_max : mx[g];
            const float keep = exp_nonpositive(mx[g] - m); // -inf (nothing yet) gives 0
            float *__restrict ag = acc + g * hd;
            if (keep != 1.0f)
                for (int64_t i = 0; i < hd; ++i) ag[i] *= keep;
            const float sum = exp_tile(pg, m); // masked or padding (-inf) gives 0
            den[g] = den[g] * keep + sum;
            mx[g] = m;
        }
        if constexpr (v_from_cache) {
            if (a.kv_type == Act::BF16)
                pv_heads<kHd, true>(a, s0, n, p, acc);
            else
                pv_heads<kHd, false>(a, s0, n, p, acc);
            continue;
        }
        // Weighted sum of the tile's V rows, one query head at a time (the tile stays in L1),
        // rows in pairs into two sums: one chain of FMAs per sum was latency-bound.
        for (int64_t g = 0; g < G; ++g) {
            const float *__restrict pg = p + g * T;
            float r0[kHd ? kHd : 1], r1[kHd ? kHd : 1];
            float *__restrict s0 = kHd ? r0 : acc + g * hd;
            float *__restrict s1 = kHd ? r1 : nullptr; // runtime hd: one sum, s0
            if (kHd)
                for (int64_t i = 0; i < hd; ++i) {
                    s0[i] = acc[g * hd + i];
                    s1[i] = 0;
                }
            int64_t t = 0;
            // A zero weight (masked, or underflowed) adds nothing, and its row is not read.
            if constexpr (kHd != 0)
                for (; t + 1 < n; t += 2) {
                    const float w0 = pg[t], w1 = pg[t + 1];
                    const float *__restrict v0 = v + t * hd, *__restrict v1 = v0 + hd;
                    if (w0 != 0.0f && w1 != 0.0f) {
#pragma omp simd
                        for (int64_t i = 0; i < hd; ++i) {
                            s0[i] += w0 * v0[i];
                            s1[i] += w1 * v1[i];
                        }
                    } else if (w0 != 0.0f) {
#pragma omp simd
                        for (int64_t i = 0; i < hd; ++i) s0[i] += w0 * v0[i];
                    } else if (w1 != 0.0f) {
#pragma omp simd
                        for (int64_t i = 0; i < hd; ++i) s1[i] += w1 * v1[i];
                    }
                }
            for (; t < n; ++t) {
                const float w = pg[t];
                if (w == 0.0f) continue;
                const float *__restrict vr = v + t * hd;
#pragma omp simd
                for (int64_t i = 0; i < hd; ++i) s0[i] += w * vr[i];
            }
            if (kHd)
                for (int64_t i = 0; i < hd; ++i) acc[g * hd + i] = s0[i] + s1[i];
        }
    }
    for (int64_t g = 0; g < G; ++g) {
        // Nothing visible (or every score -inf): zeros, not NaN.
        const float inv = den[g] > 0 ? 1.0f / den[g] : 0.0f;
        for (int64_t i = 0; i < hd; ++i) {
            const float o = acc[g * hd + i] * inv;
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
