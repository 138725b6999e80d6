// Portable kernels (any CPU): each weight row is widened to fp32 once into a small buffer, then
// dotted with all M activation rows (x in fp32), so the matrix is still streamed once per call
// (a block's rows read the same cache lines one after another).
#include "detail.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace llmhost::kernels::detail {
namespace {

// The dot products of one decoded fp32 row with all M activation rows.
void dot_row(const LinearJob &job, const float *row, int64_t K, int64_t n) {
    for (int64_t m = 0; m < job.M; ++m) {
        const float *x = job.xf + m * job.ldxp;
        // Four partial sums: lets the compiler vectorise without -ffast-math reassociation.
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        int64_t c = 0;
        for (; c + 4 <= K; c += 4) {
            a0 += row[c] * x[c];
            a1 += row[c + 1] * x[c + 1];
            a2 += row[c + 2] * x[c + 2];
            a3 += row[c + 3] * x[c + 3];
        }
        for (; c < K; ++c) a0 += row[c] * x[c];
        store_out(job, m, n, (a0 + a1) + (a2 + a3));
    }
}

// BF16: each row of [n0, n1) widened to fp32 from its block's column pairs (dequantize), then
// dotted.
void bf16_rows(const LinearJob &job, int64_t n0, int64_t n1) {
    const PackedMatrix &w = *job.w;
    const int64_t K = w.cols();
    thread_local std::vector<float> row;
    row.resize(std::size_t(K));
    for (int64_t n = n0; n < n1; ++n) {
        w.dequantize(n, 1, row.data());
        dot_row(job, row.data(), K, n);
    }
}

// Q8/Q4: one 16-row block is decoded to fp32 in a single sequential pass over its bytes
// (layout in linear.hpp), then each of its rows in [n0, n1) is dotted.
template <Format F>
void q_rows(const LinearJob &job, int64_t n0, int64_t n1) {
    const PackedMatrix &w = *job.w;
    const int64_t K = w.cols(), kp = w.padded_cols(), groups = kp / kGroup;
    const int64_t gb = group_block_bytes(F);
    thread_local std::vector<float> dec;
    dec.resize(std::size_t(kBlockRows * kp));
    for (int64_t blk = n0 / kBlockRows; blk * kBlockRows < n1; ++blk) {
        const auto *base = static_cast<const uint8_t *>(w.data()) + block_offset(F, groups, blk);
        for (int64_t g = 0; g < groups; ++g) {
            const uint8_t *q = base + codes_in_block(F, g);
            const uint8_t *sc = base + scales_in_block(F, g);
            float s[kBlockRows];
            for (int64_t r = 0; r < kBlockRows; ++r) {
                uint16_t h;
                std::memcpy(&h, sc + 2 * r, 2);
                s[r] = fp16_to_f32(h);
            }
            // Vector v: 16 rows x 4 columns, byte 4 r + j (Q4: two nibbles, columns 16 apart).
            for (int64_t v = 0; v < gb / 64; ++v)
                for (int64_t r = 0; r < kBlockRows; ++r)
                    for (int64_t j = 0; j < 4; ++j) {
                        const unsigned b = q[v * 64 + r * 4 + j];
                        float *d = dec.data() + r * kp + g * kGroup + 4 * v + j;
                        if constexpr (F == Format::Q8) {
                            d[0] = float(int(b) - 128) * s[r];
                        } else {
                            d[0] = float(int(b & 15u) - 8) * s[r];
                            d[16] = float(int(b >> 4) - 8) * s[r];
                        }
                    }
        }
        const int64_t lo = std::max(n0, blk * kBlockRows),
                      hi = std::min(n1, (blk + 1) * kBlockRows);
        for (int64_t n = lo; n < hi; ++n)
            dot_row(job, dec.data() + (n - blk * kBlockRows) * kp, K, n);
    }
}

double read_sum(const void *p, std::size_t n) {
    auto *q = static_cast<const uint64_t *>(p);
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (std::size_t i = 0; i < n / 8; i += 4) {
        a0 += q[i];
        a1 += q[i + 1];
        a2 += q[i + 2];
        a3 += q[i + 3];
    }
    return double(a0 + a1 + a2 + a3);
}

double read_sum_busy(const void *p, std::size_t n) {
    auto *q = static_cast<const uint64_t *>(p);
    uint64_t a0 = 0, a1 = 0;
    for (std::size_t i = 0; i < n / 8; i += 2) { // a multiply per 8 bytes
        a0 += q[i] * 3u;
        a1 += q[i + 1] * 5u;
    }
    return double(a0 + a1);
}

} // namespace

IsaKernels scalar_kernels() {
    return {bf16_rows, q_rows<Format::Q8>, q_rows<Format::Q4>, false,        false,
            false,     quantize_x_scalar,  read_sum,           read_sum_busy};
}

} // namespace llmhost::kernels::detail
