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

// x per group of 32 as int16 codes: s = amax / 32767, q = round_half_even(x / s). The error,
// <= s / 2 = amax / 65534 per element, is 256x below bf16's rounding of x.
void quantize_x_scalar(const float *x, int64_t groups, int16_t *q, float *s, int32_t *sum) {
    for (int64_t g = 0; g < groups; ++g) {
        const float *xg = x + g * detail::kGroup;
        float amax = 0.0f;
        bool finite = true;
        for (int64_t j = 0; j < detail::kGroup; ++j) {
            finite = finite && std::isfinite(xg[j]); // std::max would drop a NaN
            amax = std::max(amax, std::fabs(xg[j]));
        }
        if (!finite || !(amax > 0.0f)) { // a NaN/inf poisons the group's outputs; zeros are 0
            s[g] = finite ? 0.0f : std::numeric_limits<float>::quiet_NaN();
            sum[g] = 0;
            std::fill(q + g * detail::kGroup, q + (g + 1) * detail::kGroup, int16_t(0));
            continue;
        }
        const float inv = 32767.0f / amax;
        int32_t t = 0;
        for (int64_t j = 0; j < detail::kGroup; ++j) {
            float v = std::clamp(std::nearbyint(xg[j] * inv), -32767.0f, 32767.0f);
            q[g * detail::kGroup + j] = int16_t(v);
            t += int32_t(v);
        }
        s[g] = amax / 32767.0f;
        sum[g] = t;
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

} // namespace

void linear(const PackedMatrix &w, const void *x, Act x_type, int64_t ldx, int64_t M, void *y,
            Act y_type, int64_t ldy, const float *bias, const ParallelFor &pf) {
    const int64_t K = w.cols(), N = w.rows();
    if (!w.data()) bad("w is an empty matrix");
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
    const int64_t ldxp =
        (std::max(K, w.padded_cols()) + detail::kXPad - 1) / detail::kXPad * detail::kXPad;
    const int64_t xgroups = ldxp / detail::kGroup;
    const bool want_b = w.format() == Format::BF16 && k.wants_bf16_x;
    const bool want_q = w.format() != Format::BF16 && k.wants_int16_x;
    xf.assign(std::size_t(M * ldxp), 0.0f);
    if (want_b) xb.assign(std::size_t(M * ldxp), 0);
    if (want_q) {
        xq.assign(std::size_t(M * ldxp), 0);
        xs.assign(std::size_t(M * xgroups), 0.0f);
        xsum.assign(std::size_t(M * xgroups), 0);
    }
    for (int64_t m = 0; m < M; ++m) {
        float *xr = xf.data() + m * ldxp;
        if (x_type == Act::F32) {
            const float *s = static_cast<const float *>(x) + m * ldx;
            std::copy(s, s + K, xr);
        } else {
            const uint16_t *s = static_cast<const uint16_t *>(x) + m * ldx;
            for (int64_t i = 0; i < K; ++i) xr[i] = bf16_to_f32(s[i]);
        }
        if (want_b) {
            uint16_t *br = xb.data() + m * ldxp;
            if (x_type == Act::BF16)
                std::copy_n(static_cast<const uint16_t *>(x) + m * ldx, K, br);
            else
                for (int64_t i = 0; i < K; ++i) br[i] = f32_to_bf16(xr[i]);
        }
        if (want_q)
            k.quantize_x(xr, xgroups, xq.data() + m * ldxp, xs.data() + m * xgroups,
                         xsum.data() + m * xgroups);
    }
    detail::LinearJob job{&w,
                          xf.data(),
                          want_b ? xb.data() : nullptr,
                          want_q ? xq.data() : nullptr,
                          want_q ? xs.data() : nullptr,
                          want_q ? xsum.data() : nullptr,
                          ldxp,
                          M,
                          y,
                          y_type,
                          ldy,
                          bias};
    detail::RowsFn fn = w.format() == Format::BF16 ? k.bf16
                        : w.format() == Format::Q8 ? k.q8
                                                   : k.q4;
    // The loop runs over blocks of 16 rows (the Q8/Q4 layout's unit; the bf16 kernels take any
    // range), so a chunk boundary never splits a block whatever the caller's loop does.
    const int64_t B = detail::kBlockRows, blocks = (N + B - 1) / B;
    const int64_t grain = (grain_rows(w) + B - 1) / B;
    if (blocks <= grain) {
        fn(job, 0, N);
        return;
    }
    pf(blocks, grain, [&](int64_t b, int64_t e) {
        if (b < 0 || e > blocks || b >= e) return; // a buggy loop must not write out of range
        fn(job, b * B, std::min(N, e * B));
    });
}

} // namespace llmhost::kernels
