// Portable kernels (any CPU): each weight row is widened to fp32 once into a small buffer, then
// dotted with all M activation rows (x in fp32), so the matrix is still streamed once per call.
#include "detail.hpp"

#include <vector>

namespace llmhost::kernels::detail {
namespace {

template <Format F>
void rows(const LinearJob &job, int64_t n0, int64_t n1) {
    const PackedMatrix &w = *job.w;
    const int64_t K = w.cols(), kp = w.padded_cols();
    thread_local std::vector<float> row;
    row.resize(std::size_t(kp));
    for (int64_t n = n0; n < n1; ++n) {
        if constexpr (F == Format::BF16) {
            auto *p = static_cast<const uint16_t *>(w.data()) + n * kp;
            for (int64_t c = 0; c < K; ++c) row[c] = bf16_to_f32(p[c]);
        } else {
            w.dequantize(n, 1, row.data()); // the blocked layout's decoder, exact fp32
        }
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

} // namespace

IsaKernels scalar_kernels() {
    return {rows<Format::BF16>, rows<Format::Q8>, rows<Format::Q4>, false, false,
            quantize_x_scalar,  read_sum};
}

} // namespace llmhost::kernels::detail
