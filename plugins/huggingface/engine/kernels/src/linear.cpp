// linear(): argument checks, the activation preparation (fp32/bf16/int16 codes, zero padded; by
// each member of the parallel loop for itself) and the split of the output rows over that loop.
#include "detail.hpp"
#include "llmhost/kernels/thread_pool.hpp"

#include <algorithm>
#include <atomic>
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

ParallelFor pool_for(ThreadPool &pool) {
    return [&pool](int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body) {
        pool.run(n, grain, body);
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

// x as the kernels read it (LinearJob's x fields), in a thread's own buffers, and which call
// they hold it for.
struct PreparedX {
    std::vector<float> xf, xs;
    std::vector<uint16_t> xb;
    std::vector<int16_t> xq;
    std::vector<int32_t> xsum;
    std::vector<int8_t> xhl;
    uint64_t call = 0; // 0: none yet; call ids start at 1
};
thread_local PreparedX tl_prepared;

// What one call's kernels want of x, and how to make it.
struct XPlan {
    const void *x;
    Act x_type;
    int64_t ldx, M, K, ldxp, xgroups;
    bool want_f, want_b, want_q, want_hl;
    int32_t code_max;
    const detail::IsaKernels *k;
};

// Writes every element the kernels read (each row whole, its padding included: the buffers are
// sized, not cleared, and quantize_x writes every group).
void prepare_x(const XPlan &p, PreparedX &b) {
    const int64_t M = p.M, K = p.K, ldxp = p.ldxp, xgroups = p.xgroups;
    if (p.want_f) b.xf.resize(std::size_t(M * ldxp));
    if (p.want_b) b.xb.resize(std::size_t(M * ldxp));
    if (p.want_q) {
        b.xq.resize(std::size_t(M * ldxp));
        b.xs.resize(std::size_t(M * xgroups));
        b.xsum.resize(std::size_t(M * xgroups));
        if (p.want_hl) b.xhl.resize(std::size_t(M * ldxp * 2));
    }
    for (int64_t m = 0; m < M; ++m) {
        const float *sf = static_cast<const float *>(p.x) + m * p.ldx;
        const uint16_t *sb = static_cast<const uint16_t *>(p.x) + m * p.ldx;
        if (p.want_f) {
            float *xr = b.xf.data() + m * ldxp;
            if (p.x_type == Act::F32)
                std::copy(sf, sf + K, xr);
            else
                for (int64_t i = 0; i < K; ++i) xr[i] = bf16_to_f32(sb[i]);
            std::fill(xr + K, xr + ldxp, 0.0f);
        }
        if (p.want_b) {
            uint16_t *br = b.xb.data() + m * ldxp;
            if (p.x_type == Act::BF16)
                std::copy_n(sb, K, br);
            else
                for (int64_t i = 0; i < K; ++i) br[i] = f32_to_bf16(sf[i]);
            std::fill(br + K, br + ldxp, uint16_t(0));
        }
        if (p.want_q)
            p.k->quantize_x(b.xf.data() + m * ldxp, xgroups, b.xq.data() + m * ldxp,
                            b.xs.data() + m * xgroups, b.xsum.data() + m * xgroups,
                            p.want_hl ? b.xhl.data() + m * 2 * ldxp : nullptr, p.code_max);
    }
}

// Points a job's x fields at b (the fields the plan did not ask for stay null).
void bind_x(detail::LinearJob &j, const XPlan &p, const PreparedX &b) {
    j.xf = p.want_f ? b.xf.data() : nullptr;
    j.xb = p.want_b ? b.xb.data() : nullptr;
    j.xq = p.want_q ? b.xq.data() : nullptr;
    j.xs = p.want_q ? b.xs.data() : nullptr;
    j.xsum = p.want_q ? b.xsum.data() : nullptr;
    j.xhl = p.want_hl ? b.xhl.data() : nullptr;
}

// Whether x's and y's bytes overlap (then x is prepared before any member writes y).
bool overlaps(const void *x, std::size_t x_bytes, const void *y, std::size_t y_bytes) {
    const auto a = reinterpret_cast<std::uintptr_t>(x), b = reinterpret_cast<std::uintptr_t>(y);
    return a < b + y_bytes && b < a + x_bytes;
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
    XPlan plan{
        x, x_type, ldx, M, K, 0, 0, false, false, false, false, detail::x_code_max(w.format()), &k};
    plan.ldxp = (std::max(K, w.padded_cols()) + detail::kXPad - 1) / detail::kXPad * detail::kXPad;
    plan.xgroups = plan.ldxp / detail::kGroup;
    plan.want_b = w.format() == Format::BF16 && k.wants_bf16_x;
    plan.want_f = !plan.want_b; // every other kernel, and quantize_x, reads x in fp32
    plan.want_q = w.format() != Format::BF16 && k.wants_int16_x;
    plan.want_hl = plan.want_q && k.wants_x_split;
    // Each member of the parallel loop prepares x for itself, in its own buffers, on its first
    // piece of the call. Prepared once by the caller and read by the others, x's buffers (~50
    // cache lines at K = 768) were written by one core and read by another on every call, and
    // each write waited for the line to come back from the other core: when the development
    // VM's two vCPUs were two cores with ~60 GB/s between them, the caller's preparation took
    // 2.2 us a call instead of 0.65. Old and new alternating, 2 threads, int8 K = 768, in that
    // state (docs/cpu-inference.md, "Calls by size"): 256 rows 0.39 -> 0.47 of the read, 1024
    // rows 0.72 -> 0.76, 4096 rows 0.96 -> 0.97; unchanged otherwise. The copies cost each
    // member M x K conversions, done side by side. If x and y overlap, the caller prepares x
    // before any member writes y, and the members share it.
    static std::atomic<uint64_t> next_call{1};
    const uint64_t call = next_call.fetch_add(1, std::memory_order_relaxed);
    const std::size_t x_elem = x_type == Act::F32 ? sizeof(float) : sizeof(uint16_t);
    const std::size_t y_elem = y_type == Act::F32 ? sizeof(float) : sizeof(uint16_t);
    const PreparedX *shared = nullptr;
    if (overlaps(x, std::size_t((M - 1) * ldx + K) * x_elem, y,
                 std::size_t((M - 1) * ldy + N) * y_elem)) {
        prepare_x(plan, tl_prepared);
        tl_prepared.call = 0; // not "this call's": a member's own copy would read a written y
        shared = &tl_prepared;
    }
    // One job per matrix (x bound per member); each writes its columns of y.
    thread_local std::vector<detail::LinearJob> jobs;
    thread_local std::vector<int64_t> first; // each matrix's first block in the joint range
    jobs.clear();
    first.assign(1, 0);
    const int64_t B = detail::kBlockRows;
    for (int64_t i = 0, off = 0; i < count; off += ws[i]->rows(), ++i) {
        jobs.push_back({ws[i], nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, plan.ldxp, M,
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
    // Plain pointers: inside a lambda run by another thread, a thread_local's name means that
    // thread's own (tl_prepared: on purpose; jobs and first: the caller's, through these).
    const detail::LinearJob *job = jobs.data();
    const int64_t *start = first.data();
    auto run = [&](int64_t b, int64_t e) {
        const PreparedX *px = shared;
        if (!px) {
            if (tl_prepared.call != call) {
                prepare_x(plan, tl_prepared);
                tl_prepared.call = call;
            }
            px = &tl_prepared;
        }
        for (int64_t i = 0; i < count; ++i) {
            const int64_t lo = std::max(b, start[i]), hi = std::min(e, start[i + 1]);
            if (lo >= hi) continue;
            detail::LinearJob j = job[i];
            bind_x(j, plan, *px);
            fn(j, (lo - start[i]) * B, std::min(ws[i]->rows(), (hi - start[i]) * B));
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
