// Internal interface between linear() and the per-ISA kernel files, plus the bit conversions
// (fp16, bf16) every file needs without depending on an ISA extension. The helpers are `static`
// (internal linkage): each ISA file compiles them with its own flags, and an out-of-line copy
// built with AVX-512 must never be the one the linker keeps for the scalar path.
#pragma once

#include "llmhost/kernels/linear.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace llmhost::kernels::detail {

// Quantization group along K (Q8 and Q4) and the padding of the prepared activations.
constexpr int64_t kGroup = 32;
constexpr int64_t kXPad = 64;
// Rows of every format are stored in blocks of 16 (see linear.hpp): one vector lane per output
// row, so a block's outputs accumulate in the lanes of one vector, without horizontal sums.
constexpr int64_t kBlockRows = 16;

// BF16: where the weight of row r, column c lives (in bf16 elements). Vector p of a block is 16
// rows x the column pair 2p, 2p + 1 (element 2 rr + j): vdpbf16ps's operand shape.
static inline int64_t bf16_at(int64_t kp, int64_t r, int64_t c) {
    return (r / kBlockRows) * kBlockRows * kp + (c / 2) * 2 * kBlockRows + (r % kBlockRows) * 2 +
           (c & 1);
}

// Bytes of one group (32 columns) of one 16-row block's codes.
constexpr int64_t group_block_bytes(Format f) { return f == Format::Q8 ? 512 : 256; }
// Q8/Q4 store a block as chunks of two groups (linear.hpp): the two groups' 16 fp16 scales each
// (one 64-byte vector), then the two groups' codes. The scales travel inside the one stream of a
// matrix: as a second array they were a second stream, and the int8 decode ran 15-20 % slower.
constexpr int64_t kScaleBytes = kBlockRows * 2; // one group's scales in a block
constexpr int64_t chunk_bytes(Format f) { return 2 * kScaleBytes + 2 * group_block_bytes(f); }
// Byte offsets in the packed data: where block blk's chunks start (groups: Kp / 32, even), and
// group g's scales and codes from there. The kernels take a block's start once and step g.
constexpr int64_t block_offset(Format f, int64_t groups, int64_t blk) {
    return blk * (groups / 2) * chunk_bytes(f);
}
constexpr int64_t scales_in_block(Format f, int64_t g) {
    return (g >> 1) * chunk_bytes(f) + (g & 1) * kScaleBytes;
}
constexpr int64_t codes_in_block(Format f, int64_t g) {
    return (g >> 1) * chunk_bytes(f) + 2 * kScaleBytes + (g & 1) * group_block_bytes(f);
}

// Where the code of row r, column c lives (Q8: a byte; Q4: a nibble of a byte). Both formats are
// made of 64-byte vectors of 16 rows x 4 consecutive columns (byte 4 rr + j): the operand shape of
// vpdpbusd (4 byte products summed per 32-bit lane, one lane per row).
struct CodeAt {
    int64_t byte;
    bool high;
};
static inline CodeAt code_at(Format f, int64_t groups, int64_t r, int64_t c) {
    const int64_t rr = r % kBlockRows, j = c % kGroup;
    const int64_t base = block_offset(f, groups, r / kBlockRows) + codes_in_block(f, c / kGroup);
    // Q8: vector j / 4 holds columns 4 (j / 4) .. + 3, as q + 128 (unsigned).
    if (f == Format::Q8) return {base + (j / 4) * 64 + rr * 4 + (j & 3), false};
    // Q4: vector i holds columns 4 i .. 4 i + 3 in its low nibbles and 16 + 4 i .. in its high
    // nibbles, as q + 8: one AND, and one shift + AND, give two vectors of unsigned bytes.
    return {base + ((j & 15) / 4) * 64 + rr * 4 + (j & 3), j >= 16};
}
// The codes' offset: stored = q + offset (unsigned), so a kernel computes sum(stored * x) and
// subtracts offset * sum(x).
constexpr int32_t code_offset(Format f) { return f == Format::Q8 ? 128 : 8; }
// The byte offset of row r's fp16 scale for group g.
static inline int64_t scale_at(Format f, int64_t groups, int64_t r, int64_t g) {
    return block_offset(f, groups, r / kBlockRows) + scales_in_block(f, g) + (r % kBlockRows) * 2;
}
// Kp: columns padded to 32 (BF16: a whole number of 16-pair vectors) or 64 (Q8/Q4: whole chunks).
constexpr int64_t padded_cols_for(Format f, int64_t cols) {
    const int64_t m = f == Format::BF16 ? kGroup : 2 * kGroup;
    return (cols + m - 1) / m * m;
}

// Memory for data the kernels stream (packed weights, the bandwidth measurement's buffer):
// aligned to 2 MiB and advised for transparent huge pages when at least that big
// (weight_arena.cpp says why), else 64-byte aligned. Freed with std::free.
struct StreamedMemory {
    void *p;
    std::size_t size; // bytes, rounded up to the alignment
    bool huge_pages_advised;
};
StreamedMemory allocate_streamed(std::size_t bytes);

// One linear() call after validation, as one member of its parallel loop runs it: x prepared by
// that member for itself (fp32 and, when the kernel wants it, bf16 or int16 codes), each of the M
// rows padded with zeros to ldxp >= Kp, so kernels may read whole groups.
struct LinearJob {
    const PackedMatrix *w;
    const float *xf;    // [M, ldxp] fp32, or nullptr (the bf16 kernel that reads xb alone)
    const uint16_t *xb; // [M, ldxp] bf16 (round to nearest even), or nullptr
    // Q8/Q4 on the SIMD paths: x per group of 32 as int16 codes and an fp32 scale
    // (amax / kXInt16Max), and the codes' sum per group (the kernels subtract offset * sum for the
    // codes' offset). xhl (VNNI kernels): each code split as q = 256 h + l into two int8, h at
    // [m * 2 ldxp + g * 64 + j] and l 32 bytes later (j < 32 the column in group g).
    const int16_t *xq;   // [M, ldxp], or nullptr
    const float *xs;     // [M, ldxp / 32]
    const int32_t *xsum; // [M, ldxp / 32]
    const int8_t *xhl;   // [M, 2 ldxp], or nullptr
    int64_t ldxp;
    int64_t M;
    void *y;
    Act y_type;
    int64_t ldy;
    const float *bias;
    bool accumulate; // y += the product (linear_add), else y = it
};

// Computes output rows [n0, n1) for all M.
using RowsFn = void (*)(const LinearJob &job, int64_t n0, int64_t n1);

struct IsaKernels {
    RowsFn bf16, q8, q4;
    bool wants_bf16_x;  // the bf16 kernel reads job.xb
    bool wants_int16_x; // the Q8/Q4 kernels read job.xq, xs, xsum
    bool wants_x_split; // ... and job.xhl
    // x per group of 32 as int16 codes: s = amax / qmax, q = round_half_even(x / s) in
    // [-qmax, qmax] (x_code_max: kXInt16Max, or int8's 127 for Q4), sum = the codes' sum; a group
    // with a NaN/inf gets s = NaN (the outputs become NaN, as fp32 arithmetic would make them), all
    // zeros s = 0. hl (nullable): the codes split as in LinearJob::xhl. Vectorised per ISA: it runs
    // on every call.
    void (*quantize_x)(const float *x, int64_t groups, int16_t *q, float *s, int32_t *sum,
                       int8_t *hl, int32_t qmax);
    // Sums n bytes (n a multiple of 256, p 64-byte aligned) as vectors; the result only keeps the
    // loads from being optimised away.
    double (*read_sum)(const void *p, std::size_t n);
    // The same read with two multiply-adds per 64 bytes between the loads, as a decode kernel
    // spaces its loads. ReadProbe takes the better of the two loops: on the development VM this
    // one read 3-6 % faster than the plain loop (2026-11-27, the two AVX-512 loops in one
    // harness, medians of 20 interleaved rounds: 1.059 at 1 thread, 1.030 at 2), so a bound from
    // the plain loop alone was that much too low.
    double (*read_sum_busy)(const void *p, std::size_t n);
};

// The int16 code range of x: 127 * 256 + 127, the largest q whose split q = 256 h + l has both
// h and l in int8 (l in [-128, 127]); 0.4 % below 32767, so the same precision.
constexpr int32_t kXInt16Max = kLinearXInt16Max;
// The code range of x per format on the SIMD paths (linear.hpp): Q4's codes fit int8, so its
// split has h = 0 and the VNNI/AVX2 int4 kernels multiply l alone.
constexpr int32_t x_code_max(Format f) { return f == Format::Q4 ? kLinearXInt8Max : kXInt16Max; }
void quantize_x_scalar(const float *x, int64_t groups, int16_t *q, float *s, int32_t *sum,
                       int8_t *hl, int32_t qmax);
// One group's 32 codes -> 32 h then 32 l (q = 256 h + l, both int8; |q| <= kXInt16Max).
void split_x_codes(const int16_t *q, int8_t *hl);
IsaKernels scalar_kernels();
#if defined(LLMHOST_KERNELS_X86)
IsaKernels avx2_kernels();
IsaKernels avx512_kernels(bool bf16, bool vnni);
#endif
const IsaKernels &active_kernels();

// attend() after validation (attention.hpp); attention_impl.hpp is its body, per ISA.
struct AttendArgs {
    const void *q;
    Act q_type;
    int64_t groups, hd;
    const void *k, *v;
    Act kv_type;
    int64_t ld, kv_len;
    const unsigned char *visible;
    float scale;
    void *out;
    Act out_type;
    // AVX-512 with BF16 (and allowed: force_avx512_extensions): the scores of a bf16 cache are
    // vdpbf16ps products of its rows as they are, with q split into bf16 high and low parts.
    bool bf16_dot = false;
};
// Whether linear() and attend() may use AVX512_BF16 (the CPU has it and tests did not forbid it).
bool avx512_bf16_allowed();
// Positions per tile of attend()'s one pass (attention_impl.hpp): a bf16 tile's K and V widened
// to fp32 take 2 * 32 * hd * 4 bytes, 16 KiB at hd 64, with room left in a 32 KiB L1.
inline constexpr int64_t kAttendTile = 32;
static inline int64_t attend_scratch_floats(int64_t groups, int64_t hd, int64_t kv_len) {
    // q and the weighted sums, max and sum per group, a tile's scores per group, K and V tiles,
    // and q's bf16 high and low parts (bf16_dot; counted as floats: 2 bf16 per float).
    (void)kv_len;
    return 2 * groups * hd + 2 * groups + groups * kAttendTile + 2 * kAttendTile * hd + groups * hd;
}
void attend_scalar(const AttendArgs &a, float *scratch);
#if defined(LLMHOST_KERNELS_X86)
void attend_avx2(const AttendArgs &a, float *scratch);
void attend_avx512(const AttendArgs &a, float *scratch);
#endif

// swiglu() after validation (activation.hpp); activation_impl.hpp is its body, per ISA.
struct SwigluArgs {
    const void *gate;
    int64_t gate_ld;
    const void *up;
    int64_t up_ld;
    Act type;
    int64_t rows, n;
    void *out;
};
void swiglu_scalar(const SwigluArgs &a);
#if defined(LLMHOST_KERNELS_X86)
void swiglu_avx2(const SwigluArgs &a);
void swiglu_avx512(const SwigluArgs &a);
#endif
// exp_shifted() after validation (activation.hpp), per ISA.
double exp_shifted_scalar(const float *x, int64_t n, float max, float *out);
#if defined(LLMHOST_KERNELS_X86)
double exp_shifted_avx2(const float *x, int64_t n, float max, float *out);
double exp_shifted_avx512(const float *x, int64_t n, float max, float *out);
#endif

static inline float bf16_to_f32(uint16_t b) {
    uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_bf16(float f) { // round to nearest even; NaN stays NaN
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

static inline float fp16_to_f32(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { // subnormal: normalise
            int e = -1;
            do {
                man <<= 1;
                ++e;
            } while (!(man & 0x400u));
            u = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | man << 13;
    } else {
        u = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Round to nearest even; values beyond the fp16 range become infinity (callers check).
static inline uint16_t f32_to_fp16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    u &= 0x7fffffffu;
    if (u > 0x7f800000u) return uint16_t(sign | 0x7e00u);
    if (u >= 0x477ff000u) return uint16_t(sign | 0x7c00u); // rounds to >= 65520: inf
    if (u < 0x38800000u) {                                 // below the smallest normal: subnormal
        float a;
        std::memcpy(&a, &u, 4);
        // a * 2^24 in [0, 1024): the subnormal mantissa, rounded to nearest even by the FPU.
        float m = a * 16777216.0f;
        uint32_t q = uint32_t(m);
        float r = m - float(q);
        if (r > 0.5f || (r == 0.5f && (q & 1u))) ++q;
        return uint16_t(sign | q);
    }
    uint32_t exp = (u >> 23) - 127 + 15, man = u & 0x7fffffu;
    uint32_t h = exp << 10 | man >> 13, rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
    return uint16_t(sign | h);
}

static inline void store_out(const LinearJob &job, int64_t m, int64_t n, float acc) {
    if (job.bias) acc += job.bias[n];
    if (job.y_type == Act::F32) {
        float &y = static_cast<float *>(job.y)[m * job.ldy + n];
        y = job.accumulate ? y + acc : acc;
    } else { // bf16: the product rounded, then the sum, as `y + linear(x)` rounds in torch
        uint16_t &y = static_cast<uint16_t *>(job.y)[m * job.ldy + n];
        const uint16_t p = f32_to_bf16(acc);
        y = job.accumulate ? f32_to_bf16(bf16_to_f32(y) + bf16_to_f32(p)) : p;
    }
}

} // namespace llmhost::kernels::detail
