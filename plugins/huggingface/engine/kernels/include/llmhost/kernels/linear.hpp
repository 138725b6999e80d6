// Torch-free matrix-vector kernels for batch-1 (small-M) decode on CPU: y = W x (+ bias) with the
// weights streamed once from memory, in bf16, int8 (Q8) or int4 (Q4), dispatched at run time to the
// best instruction set of the CPU (AVX-512, AVX2 or portable scalar code).
//
// Packed layouts (docs/cpu-inference.md, "Decode kernels"). Every format stores rows in blocks of
// 16, one SIMD lane per row, and each block as one contiguous run of 64-byte vectors, so a kernel
// reads the matrix as a single sequential stream and a block's 16 outputs accumulate in the lanes
// of a vector. Columns are padded with zeros to Kp (a multiple of 32 for BF16, of 64 for Q8/Q4)
// and rows to a multiple of 16.
//   BF16: vector p of block b holds columns 2p and 2p + 1 of rows 16 b .. 16 b + 15: bf16 element
//     2 r + j = W[16 b + r][2 p + j] (vdpbf16ps's operand shape: one pair per 32-bit lane).
//     2 bytes per weight (plus padding).
//   Q8/Q4: symmetric codes q with one fp16 scale per row per group of 32 columns along K,
//     w[n][k] = q * scale[n][k / 32]; Q8: q in [-127, 127], scale = amax / 127; Q4: q in [-8, 7],
//     the group's value of largest magnitude -> -8 exactly (Q4_0-style). Block b is a run of
//     chunks, one per two groups 2 c, 2 c + 1, in order; a chunk is
//       64 bytes: the 16 rows' fp16 scales of group 2 c (bytes 2 r), then of group 2 c + 1
//       (bytes 32 + 2 r);
//       then each group's codes, 64-byte vectors of 16 rows x 4 consecutive columns (byte 4 r + j:
//       vpdpbusd's operand shape), stored unsigned:
//         Q8: 512 bytes = 8 vectors; byte 64 v + 4 r + j = q[16 b + r][32 g + 4 v + j] + 128
//         Q4: 256 bytes = 4 vectors; byte 64 v + 4 r + j holds q + 8 of [16 b + r][32 g + 4 v + j]
//             in its low nibble and of [16 b + r][32 g + 16 + 4 v + j] in its high nibble
//     so the scales are read in the same sequential stream as the codes. 1.0625 (Q8) and 0.5625
//     (Q4) bytes per weight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "llmhost/kernels/weight_arena.hpp"

namespace llmhost::kernels {

// Avx512: F+BW+VL+FMA (+F16C); the BF16 (vdpbf16ps) and VNNI instructions are used when present.
enum class Isa { Scalar, Avx2, Avx512 };
Isa best_isa();   // what this CPU supports
Isa active_isa(); // what linear() uses (best_isa() unless forced)
// Tests/bench: makes linear() use `isa`; throws std::invalid_argument naming the ISA if the CPU
// lacks it. Process-wide (not per thread).
void force_isa(Isa isa);
const char *isa_name(Isa isa); // "scalar", "avx2", "avx512"
std::string isa_description(); // the active ISA and its extensions, e.g. "avx512 (bf16, vnni)"
bool cpu_has_avx512_bf16();    // vdpbf16ps available (the AVX-512 bf16 path then rounds x to bf16)
// Tests/bench: which AVX-512 extensions linear() may use (default: all the CPU has), to run the
// paths of AVX-512 CPUs without BF16/VNNI here; throws std::invalid_argument for one it lacks.
void force_avx512_extensions(bool bf16, bool vnni);

enum class Format { BF16, Q8, Q4 };
const char *format_name(Format f); // "bf16", "int8", "int4"
enum class Act { F32, BF16 };      // activation / output element type (bf16 = uint16_t bits)

// Precision contract: the BF16 format on the AVX-512 path with vdpbf16ps rounds x to bf16 once per
// call (round to nearest even) before the dot products. Q8/Q4 on the AVX2 and AVX-512 paths
// quantize x once per call per group of 32 to integer codes in [-qmax, qmax]
// (s = max|x| / qmax, q = round(x / s): error <= s / 2), sum the integer products exactly in
// int32 per group and scale each group's sum in fp32: Q8 with qmax = kLinearXInt16Max (~256x
// below bf16 rounding), Q4 with kLinearXInt8Max (one VNNI product per 64 codes instead of two;
// measured, ~1/130 of the int4 weights' own KL: docs/cpu-inference.md). The scalar path uses x in fp32. Accumulation
// across groups and of bf16 products is fp32 everywhere. These say what linear() does with this
// format now.
// 127 * 256 + 127: the VNNI kernels split each code as q = 256 h + l with h, l in int8.
constexpr int32_t kLinearXInt16Max = 32639;
constexpr int32_t kLinearXInt8Max = 127;
bool linear_rounds_x_to_bf16(Format f);
// qmax of x's codes for format f on the active path, or 0 when x is not quantized.
int32_t linear_x_code_max(Format f);

// A weight matrix W of shape [rows = output features N, cols = input features K] (torch's
// nn.Linear layout), packed for streaming. Movable, not copyable.
class PackedMatrix {
public:
    PackedMatrix();
    ~PackedMatrix();
    PackedMatrix(PackedMatrix &&) noexcept;
    PackedMatrix &operator=(PackedMatrix &&) noexcept;
    PackedMatrix(const PackedMatrix &) = delete;
    PackedMatrix &operator=(const PackedMatrix &) = delete;

    // Quantizing or converting copies. src is row-major [rows, cols]. Non-finite weights are
    // rejected for Q8/Q4 (std::invalid_argument): a NaN would poison a whole group's scale.
    // from_bf16 to BF16 copies the bits unchanged (NaN and infinity included). arena: where the
    // packed bytes go (a model's matrices side by side on huge pages: weight_arena.hpp; the
    // matrix keeps the arena alive), or null for an allocation of the matrix's own.
    static PackedMatrix from_f32(const float *src, int64_t rows, int64_t cols, Format f,
                                 const std::shared_ptr<WeightArena> &arena = nullptr);
    static PackedMatrix from_bf16(const uint16_t *src, int64_t rows, int64_t cols, Format f,
                                  const std::shared_ptr<WeightArena> &arena = nullptr);
    // A copy of the packed bytes: in `arena` (as from_f32's), or an allocation of its own.
    PackedMatrix clone(const std::shared_ptr<WeightArena> &arena = nullptr) const;

    Format format() const { return format_; }
    int64_t rows() const { return rows_; }
    int64_t cols() const { return cols_; }
    std::size_t bytes() const; // bytes one full pass streams (codes and scales)
    // What bytes() is for a matrix of this shape in this format (memory estimates before load).
    static std::size_t bytes_for(Format f, int64_t rows, int64_t cols) {
        const auto r = static_cast<std::size_t>(rows);
        const std::size_t m = f == Format::BF16 ? 32 : 64; // Kp's multiple
        const std::size_t kp = (static_cast<std::size_t>(cols) + m - 1) / m * m;
        const std::size_t rp = (r + 15) / 16 * 16; // rows padded to whole blocks
        if (f == Format::BF16) return rp * kp * 2;
        return rp * (f == Format::Q8 ? kp : kp / 2) + rp * (kp / 32) * 2; // codes + fp16 scales
    }
    // Rows [r0, r0+n) as fp32 (prefill through BLAS, tests): out is [n, cols].
    void dequantize(int64_t r0, int64_t n, float *out) const;
    // BF16 only: rows [r0, r0+n) as row-major bf16 bits, out [n, cols] (a bf16 prefill's BLAS
    // operand: the weights exactly as in the file). Throws std::invalid_argument for Q8/Q4.
    void unpack_bf16(int64_t r0, int64_t n, uint16_t *out) const;

    // The packed storage (layout above), for the kernels.
    const void *data() const { return data_; }
    // Q8/Q4: the fp16 bits of row r's scale for group g (columns 32 g ..); tests and tools.
    // Throws std::invalid_argument for BF16 or out-of-range r, g.
    uint16_t scale_bits(int64_t r, int64_t g) const;
    int64_t padded_cols() const { return padded_cols_; } // Kp
    int64_t row_bytes() const; // data bytes per row (of a 16-row block, divided by 16)

private:
    Format format_ = Format::BF16;
    int64_t rows_ = 0, cols_ = 0, padded_cols_ = 0;
    std::shared_ptr<void> storage_; // owns data_: its own allocation, or a hold on the arena
    const void *data_ = nullptr;
};

// A parallel loop the caller supplies (the engine passes at::parallel_for so the kernels share
// libtorch's thread pool): calls body(begin, end) over chunks covering [0, n), chunks >= grain.
using ParallelFor = std::function<void(int64_t n, int64_t grain,
                                       const std::function<void(int64_t, int64_t)> &body)>;
ParallelFor serial_for(); // runs body(0, n) on the caller's thread
class ThreadPool;         // thread_pool.hpp
// pool.run(n, grain, body) as a ParallelFor (at one thread: body(0, n) on the caller). The pool
// must outlive the returned function.
ParallelFor pool_for(ThreadPool &pool);

// y[m, :] = W x[m, :] (+ bias) for m in [0, M):  y[m, n] = sum_k x[m, k] * W[n, k] + bias[n].
// x: M rows of K elements (x_type), row stride ldx elements; y: M rows of N elements (y_type),
// row stride ldy; bias: fp32 [N] or nullptr. The weights are streamed ONCE for all M rows
// (M is small: the decode batch, 1..16); fp32 accumulation. Work is split over output rows.
// Throws std::invalid_argument naming the argument for a null pointer, M <= 0, an empty matrix,
// or (M > 1: a single row's stride is unused) ldx < K or ldy < N. pf may run chunks on any
// threads; linear() returns when pf does. Thread-safe: scratch buffers are per thread (each
// thread that runs chunks of a call converts x into its own, once per call).
void linear(const PackedMatrix &w, const void *x, Act x_type, int64_t ldx, int64_t M, void *y,
            Act y_type, int64_t ldy, const float *bias, const ParallelFor &pf);

// y[m, n] += W x[m, :] (+ bias): linear() adding into y (a decoder layer's residual,
// `h = h + o(a)`, without another pass over y). A bf16 y gets the product rounded to bf16, then
// the sum rounded, as the two torch ops round; an fp32 y one fp32 add. linear()'s checks.
void linear_add(const PackedMatrix &w, const void *x, Act x_type, int64_t ldx, int64_t M, void *y,
                Act y_type, int64_t ldy, const float *bias, const ParallelFor &pf);

// Several matrices of one format and one K applied to the same x in one call (a decode step's
// q/k/v or gate/up projections): y[m, off_i + n] = W_i x[m, :] + biases[i][n], off_i = the rows
// of the matrices before i, so y holds their outputs side by side. x is prepared once (by each
// thread of pf) and one pass of pf covers all their rows: one fork/join instead of one per
// matrix. biases: nullptr, or `count` pointers (each nullable). linear()'s checks, plus
// count >= 1, a null or empty matrix, or one whose format or cols differ from ws[0]'s (the
// message names its index), and (M > 1) ldy < the rows' sum. Each output is what linear() on that
// matrix alone gives.
void linear_concat(const PackedMatrix *const *ws, int count, const void *x, Act x_type, int64_t ldx,
                   int64_t M, void *y, Act y_type, int64_t ldy, const float *const *biases,
                   const ParallelFor &pf);

} // namespace llmhost::kernels
