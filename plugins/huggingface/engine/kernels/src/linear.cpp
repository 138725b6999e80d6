// linear(): argument checks, the once-per-call activation preparation (fp32/bf16, zero padded)
// and the split of the output rows over the caller's parallel loop.
#include "detail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmhost::kernels {

using detail::bf16_to_f32;
using detail::f32_to_bf16;

namespace detail {

// x per group of 32 as integer codes: s = amax / code_max, q = round_half_even(x / s) (code_max:
// kXInt16Max, or kLinearXInt8Max for Q4). With kXInt16Max the error,
// <= s / 2 = amax / 65278 per element, is ~256x below bf16's rounding of x.
void quantize_x_scalar(const float *x, int64_t groups, int16_t *q, float *s, int32_t *sum,
                       int8_t *hl, int32_t code_max) {
    const float qmax = float(code_max);
    for (int64_t g = 0; g < groups; ++g) {
        const float *xg = x + g * detail::kGroup;
        int16_t *qg = q + g * detail::kGroup;
        float amax = 0.0f;
        bool finite = true;
        for (int64_t j = 0; j < detail::kGroup; ++j) {
            finite = finite && std::isfinite(xg[j]); // std::max would drop a NaN
            amax = std::max(amax, std::fabs(xg[j]));
        }
        if (!finite || !(amax > 0.0f)) { // a NaN/inf poisons the group's outputs; zeros are 0
            s[g] = finite ? 0.0f : std::numeric_limits<float>::quiet_NaN();
            sum[g] = 0;
            std::fill(qg, qg + detail::kGroup, int16_t(0));
        } else {
            const float inv = qmax / amax;
            int32_t t = 0;
            for (int64_t j = 0; j < detail::kGroup; ++j) {
                float v = std::clamp(std::nearbyint(xg[j] * inv), -qmax, qmax);
                qg[j] = int16_t(v);
                t += int32_t(v);
            }
            s[g] = amax / qmax;
            sum[g] = t;
        }
        if (hl) split_x_codes(qg, hl + g * 2 * detail::kGroup);
    }
}

void split_x_codes(const int16_t *q, int8_t *hl) {
    for (int64_t j = 0; j < detail::kGroup; ++j) {
        const int8_t l = int8_t(uint8_t(q[j] & 0xff)); // the low byte, signed
        hl[j] = int8_t((int32_t(q[j]) - l) / 256);     // exact: q - l is a multiple of 256
        hl[detail::kGroup + j] = l;
    }
}

} // namespace detail

ParallelFor serial_for() {
    return [](int64_t n, int64_t, const std::function<void(int64_t, int64_t)> &body) {
        if (n > 0) body(0, n);
    };
}

namespace {

[[noreturn]] void bad(const std::string &what) {
    throw std::invalid_argument("kernels::linear: " + what);
}

// Rows per chunk so that one chunk streams >= 64 KiB (below that the fork/join of a thread pool
// costs more than the chunk's memory time), a multiple of 4 (the kernels' row block).
int64_t grain_rows(const PackedMatrix &w) {
    int64_t per_row = std::max<int64_t>(1, int64_t(w.bytes() / std::size_t(w.rows())));
    int64_t g = ((int64_t(64) << 10) + per_row - 1) / per_row;
    return std::max<int64_t>(4, (g + 3) / 4 * 4);
}

void run_linear(const PackedMatrix *const *ws, int count, const void *x, Act x_type, int64_t ldx,
                int64_t M, void *y, Act y_type, int64_t ldy, const float *const *biases,
                const ParallelFor &pf, bool accumulate) {
    if (!ws || count < 1) bad("no matrices (count " + std::to_string(count) + ")");
    for (int i = 0; i < count; ++i) {
        const std::string at = count > 1 ? "matrix " + std::to_string(i) + " " : "w ";
        if (!ws[i] || !ws[i]->data()) bad(at + "is an empty matrix");
        if (ws[i]->format() != ws[0]->format())
            bad(at + "has format " + format_name(ws[i]->format()) + ", matrix 0 " +
                format_name(ws[0]->format()));
        if (ws[i]->cols() != ws[0]->cols())
            bad(at + "has " + std::to_string(ws[i]->cols()) + " cols, matrix 0 " +
                std::to_string(ws[0]->cols()));
    }
    const PackedMatrix &w = *ws[0];
    const int64_t K = w.cols();
    int64_t N = 0;
    for (int i = 0; i < count; ++i) N += ws[i]->rows();
    if (!x) bad("x is null");
    if (!y) bad("y is null");
    if (M <= 0) bad("M must be > 0 (got " + std::to_string(M) + ")");
    if (x_type != Act::F32 && x_type != Act::BF16) bad("x_type is not F32 or BF16");
    if (y_type != Act::F32 && y_type != Act::BF16) bad("y_type is not F32 or BF16");
    if (M > 1 && ldx < K) bad("ldx " + std::to_string(ldx) + " < K " + std::to_string(K));
    if (M > 1 && ldy < N) bad("ldy " + std::to_string(ldy) + " < N " + std::to_string(N));
    if (ldx < 0 || ldy < 0) bad("negative ldx/ldy");
    if (!pf) bad("pf is empty");
    const detail::IsaKernels &k = detail::active_kernels();
    // Per-thread scratch, reused across calls: the decode loop calls linear() thousands of times
    // a second and a heap allocation per call would show.
    thread_local std::vector<float> xf, xs;
    thread_local std::vector<uint16_t> xb;
    thread_local std::vector<int16_t> xq;
    thread_local std::vector<int32_t> xsum;
    thread_local std::vector<int8_t> xhl;
    const int64_t ldxp =
        (std::max(K, w.padded_cols()) + detail::kXPad - 1) / detail::kXPad * detail::kXPad;
    const int64_t xgroups = ldxp / detail::kGroup;
    const bool want_b = w.format() == Format::BF16 && k.wants_bf16_x;
    const bool want_f = !want_b; // every other kernel, and quantize_x, reads x in fp32
    const bool want_q = w.format() != Format::BF16 && k.wants_int16_x;
    const bool want_hl = want_q && k.wants_x_split;
    // Sized, not cleared: each row below is written whole, its padding included (quantize_x
    // writes every group). This runs on the caller between two parallel loops, ~50 times a step.
    if (want_f) xf.resize(std::size_t(M * ldxp));
    if (want_b) xb.resize(std::size_t(M * ldxp));
    if (want_q) {
        xq.resize(std::size_t(M * ldxp));
        xs.resize(std::size_t(M * xgroups));
        xsum.resize(std::size_t(M * xgroups));
        if (want_hl) xhl.resize(std::size_t(M * ldxp * 2));
    }
    for (int64_t m = 0; m < M; ++m) {
        const float *sf = static_cast<const float *>(x) + m * ldx;
        const uint16_t *sb = static_cast<const uint16_t *>(x) + m * ldx;
        if (want_f) {
            float *xr = xf.data() + m * ldxp;
            if (x_type == Act::F32)
                std::copy(sf, sf + K, xr);
            else
                for (int64_t i = 0; i < K; ++i) xr[i] = bf16_to_f32(sb[i]);
            std::fill(xr + K, xr + ldxp, 0.0f);
        }
        if (want_b) {
            uint16_t *br = xb.data() + m * ldxp;
            if (x_type == Act::BF16)
                std::copy_n(sb, K, br);
            else
                for (int64_t i = 0; i < K; ++i) br[i] = f32_to_bf16(sf[i]);
            std::fill(br + K, br + ldxp, uint16_t(0));
        }
        if (want_q)
            k.quantize_x(xf.data() + m * ldxp, xgroups, xq.data() + m * ldxp,
                         xs.data() + m * xgroups, xsum.data() + m * xgroups,
                         want_hl ? xhl.data() + m * 2 * ldxp : nullptr,
                         detail::x_code_max(w.format()));
    }
    // One job per matrix, sharing the prepared x; each writes its columns of y.
    thread_local std::vector<detail::LinearJob> jobs;
    thread_local std::vector<int64_t> first; // each matrix's first block in the joint range
    jobs.clear();
    first.assign(1, 0);
    const std::size_t y_elem = y_type == Act::F32 ? sizeof(float) : sizeof(uint16_t);
    const int64_t B = detail::kBlockRows;
    for (int64_t i = 0, off = 0; i < count; off += ws[i]->rows(), ++i) {
        jobs.push_back({ws[i], want_f ? xf.data() : nullptr, want_b ? xb.data() : nullptr,
                        want_q ? xq.data() : nullptr, want_q ? xs.data() : nullptr,
                        want_q ? xsum.data() : nullptr, want_hl ? xhl.data() : nullptr, ldxp, M,
                        static_cast<char *>(y) + std::size_t(off) * y_elem, y_type, ldy,
                        biases ? biases[i] : nullptr, accumulate});
        first.push_back(first.back() + (ws[i]->rows() + B - 1) / B);
    }
    detail::RowsFn fn = w.format() == Format::BF16 ? k.bf16
                        : w.format() == Format::Q8 ? k.q8
                                                   : k.q4;
    // Blocks [b, e) of the joint range: the pieces of each matrix it covers. The loop runs over
    // blocks of 16 rows (every layout's unit), so a chunk boundary never splits a block whatever
    // the caller's loop does.
    const int64_t blocks = first.back();
    // Plain pointers: inside a lambda run by another thread, a thread_local's name would mean
    // that thread's (empty) vector.
    const detail::LinearJob *job = jobs.data();
    const int64_t *start = first.data();
    auto run = [&](int64_t b, int64_t e) {
        for (int64_t i = 0; i < count; ++i) {
            const int64_t lo = std::max(b, start[i]), hi = std::min(e, start[i + 1]);
            if (lo < hi)
                fn(job[i], (lo - start[i]) * B, std::min(ws[i]->rows(), (hi - start[i]) * B));
        }
    };
    const int64_t grain = (grain_rows(w) + B - 1) / B;
    if (blocks <= grain) {
        run(0, blocks);
        return;
    }
    pf(blocks, grain, [&](int64_t b, int64_t e) {
        if (b < 0 || e > blocks || b >= e) return; // a buggy loop must not write out of range
        run(b, e);
    });
}

} // namespace

void linear(const PackedMatrix &w, const void *x, Act x_type, int64_t ldx, int64_t M, void *y,
            Act y_type, int64_t ldy, const float *bias, const ParallelFor &pf) {
    const PackedMatrix *ws[1] = {&w};
    const float *bs[1] = {bias};
    run_linear(ws, 1, x, x_type, ldx, M, y, y_type, ldy, bs, pf, false);
}

void linear_add(const PackedMatrix &w, const void *x, Act x_type, int64_t ldx, int64_t M, void *y,
                Act y_type, int64_t ldy, const float *bias, const ParallelFor &pf) {
    const PackedMatrix *ws[1] = {&w};
    const float *bs[1] = {bias};
    run_linear(ws, 1, x, x_type, ldx, M, y, y_type, ldy, bs, pf, true);
}

void linear_concat(const PackedMatrix *const *ws, int count, const void *x, Act x_type, int64_t ldx,
                   int64_t M, void *y, Act y_type, int64_t ldy, const float *const *biases,
                   const ParallelFor &pf) {
    run_linear(ws, count, x, x_type, ldx, M, y, y_type, ldy, biases, pf, false);
}

} // namespace llmhost::kernels
