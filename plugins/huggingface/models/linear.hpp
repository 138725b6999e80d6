// A projection y = x Wᵀ + b as the model files call it: `L.q(h)` reads like `at::linear(h, wq)`.
//
// Where the weight lives and how it is multiplied is decided once, at load (Weights::linear):
//   dense  - a torch tensor in the model dtype (CUDA; CPU float32): at::linear (OpenBLAS on CPU).
//   packed - CPU bfloat16 (the file's bits in the kernels' blocked layout), int8 or int4
//            (quantized at load): the weight-streaming kernels of llmhost/kernels/linear.hpp for
//            the few rows of a decode step, which read every weight once at the memory-bandwidth
//            limit. A prefill's many rows are compute-bound instead: they go through at::linear
//            on the weights unpacked for the call (bf16, bit for bit) or dequantized to fp32
//            (int8/int4), a copy that is cheap next to the matmul it feeds.
// The CUDA path never sees a packed weight.
#pragma once

#include <ATen/ATen.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace llmhost::kernels {
class PackedMatrix; // llmhost/kernels/linear.hpp
class WeightArena;  // llmhost/kernels/weight_arena.hpp
}

namespace llmhost::engine {

struct Linear {
    at::Tensor weight; // [N, K] in the model dtype; undefined when the weight is packed
    std::shared_ptr<const kernels::PackedMatrix> packed; // the CPU kernels' copy; may be null
    at::Tensor bias;                                     // [N] in the model dtype, or undefined
    at::Tensor bias_f32; // the same as contiguous fp32, for the kernels
    std::int64_t out_features = 0, in_features = 0;

    at::Tensor operator()(const at::Tensor &x) const;
    // out += (*this)(x), a decoder layer's residual add: `L.o.add_into(a, h)` is `h = h + L.o(a)`,
    // rounded the same way. On the kernel path the product is added as it is stored
    // (kernels::linear_add): no product tensor and no separate add. A dense weight off the CPU
    // with device_fusion_enabled() adds inside the GEMM (addmm, beta 1): one kernel, the sum
    // rounded once where the separate add rounds the product first. out: x's dtype and device.
    void add_into(const at::Tensor &x, at::Tensor &out) const;
};

// A GPU's decode step is bound by how many kernels it launches more than by their arithmetic
// (docs/performance.md, "GPU"). Where this is on, the models cut that count off the CPU: dense
// q/k/v and gate/up weights joined into one matrix at load (FusedLinear::join: one GEMM instead
// of three or two), the residual add inside the o/down GEMM (Linear::add_into), RMSNorm as
// torch's at::rms_norm (torch >= 2.4; layers.cpp). LLMHOST_DEVICE_FUSION=0 (read once) turns
// them off, to time them against the op-by-op step. The CPU never takes these paths.
bool device_fusion_enabled();

// Rows at or below this many go through the packed kernels; more go through BLAS. The kernels
// stream the weights once for all rows, so they win while the step is bandwidth-bound.
inline constexpr std::int64_t kKernelMaxRows = 16;

// Projections of the same input (q/k/v, gate/up), called together: `auto [q, k, v] = L.qkv(h)`.
// On the kernel path (every part packed in one format, <= kKernelMaxRows rows) one
// kernels::linear_concat call streams all their weights into one output - x prepared once, one
// parallel region instead of one per projection - and the parts are views of it (each part's
// columns; contiguous when there is one row). Otherwise (prefill, CUDA, fp32) each part is its
// own Linear call, as before. The weights stay where Weights::linear put them: no copy.
// LLMHOST_FUSED_PROJECTIONS=0 (read once) turns the fusion off, to time it against separate calls.
void fused_linear(const Linear *parts, std::size_t n, const at::Tensor &x, at::Tensor *out);

// Joins dense parts (one dtype, device and in_features; biases on all or none) into `joined`, and
// makes each part's weight and bias views of it: once the parts' own tensors are released the
// join costs no memory. Leaves `joined` empty where any part is packed or differs, and where
// LLMHOST_FUSED_PROJECTIONS=0 or LLMHOST_DEVICE_FUSION=0.
void join_linears(Linear *parts, std::size_t n, Linear &joined);

template <std::size_t N>
struct FusedLinear {
    std::array<Linear, N> parts;
    Linear joined; // every part's rows in one dense matrix (join()), or empty

    // The models call this for weights off the CPU (device_fusion_enabled()).
    void join() { join_linears(parts.data(), N, joined); }

    std::array<at::Tensor, N> operator()(const at::Tensor &x) const {
        if (joined.weight.defined()) return split(joined(x)); // one product
        std::array<at::Tensor, N> out;
        fused_linear(parts.data(), N, x, out.data());
        return out;
    }

    // The parts' outputs in y, joined's output: its column ranges, views.
    std::array<at::Tensor, N> split(const at::Tensor &y) const {
        std::array<at::Tensor, N> out;
        std::int64_t first = 0;
        for (std::size_t i = 0; i < N; first += parts[i].out_features, ++i)
            out[i] = y.narrow(-1, first, parts[i].out_features);
        return out;
    }
};

} // namespace llmhost::engine
