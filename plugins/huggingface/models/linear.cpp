// Linear::operator(): the packed kernels for decode-sized inputs, BLAS for the rest (linear.hpp).
#include "linear.hpp"
#include "device_gemv.hpp"
#include "env_switch.hpp"
#include "parallel.hpp"

#include <llmhost/kernels/linear.hpp>

#include <cstdlib>
#include <string>
#include <vector>

namespace llmhost::engine {

// The kernels split their rows over the engine's pool, so both share one thread count.
const kernels::ParallelFor &kernel_parallel_for() {
    static const kernels::ParallelFor pf =
        [](std::int64_t n, std::int64_t grain,
           const std::function<void(std::int64_t, std::int64_t)> &body) {
            parallel_for(0, n, grain, [&](std::int64_t b, std::int64_t e) { body(b, e); });
        };
    return pf;
}

namespace {

kernels::Act act_of(const at::Tensor &t) {
    return t.scalar_type() == at::kBFloat16 ? kernels::Act::BF16 : kernels::Act::F32;
}

} // namespace

at::Tensor Linear::operator()(const at::Tensor &x) const {
    const std::int64_t rows = x.numel() / in_features;
    const bool kernel_dtype = x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16;
    if (packed && x.is_cpu() && kernel_dtype && rows <= kKernelMaxRows) {
        at::Tensor in = x.contiguous();
        std::vector<std::int64_t> shape = x.sizes().vec();
        shape.back() = out_features;
        at::Tensor out = at::empty(shape, x.options());
        kernels::linear(*packed, in.data_ptr(), act_of(in), in_features, rows, out.data_ptr(),
                        act_of(out), out_features,
                        bias_f32.defined() ? bias_f32.data_ptr<float>() : nullptr,
                        kernel_parallel_for());
        return out;
    }
    if (weight.defined() && x.is_cpu() && x.scalar_type() == at::kFloat && rows <= 2) {
        // fp32 decode: BLAS gemv streams the weights once per row. at::linear would call gemm,
        // which OpenBLAS starts by copying the whole weight matrix into its packed layout: three
        // passes over the weights per token instead of one.
        at::Tensor in = x.reshape({rows, in_features});
        std::vector<std::int64_t> shape = x.sizes().vec();
        shape.back() = out_features;
        at::Tensor out = at::empty({rows, out_features}, x.options());
        for (std::int64_t r = 0; r < rows; ++r) {
            at::Tensor o = out[r];
            if (bias.defined())
                at::addmv_out(o, bias, weight, in[r]);
            else
                at::mv_out(o, weight, in[r]);
        }
        return out.view(shape);
    }
    // A GPU decode step: device_gemv.hpp. Asked first whether the kernel is built and on, so a
    // build without it allocates no output it would not use.
    if (weight.defined() && rows <= cuda::kGemvMaxRows && !x.is_cpu() && device_gemv_available()) {
        std::vector<std::int64_t> shape = x.sizes().vec();
        shape.back() = out_features;
        at::Tensor out = at::empty(shape, x.options());
        if (device_gemv(x, weight, bias, out, /*accumulate=*/false)) return out;
    }
    if (weight.defined()) return at::linear(x, weight, bias);
    // A packed weight and many rows (prefill): unpacked for this call and multiplied as a dense
    // one would be. The copy costs one pass over the weights, small next to the matmul it feeds.
    if (packed->format() == kernels::Format::BF16) { // bit for bit the file's bf16 weights
        at::Tensor w = at::empty({out_features, in_features}, at::kBFloat16);
        auto *dst = reinterpret_cast<std::uint16_t *>(w.data_ptr<at::BFloat16>());
        parallel_for(0, out_features, 64, [&](std::int64_t b, std::int64_t e) {
            packed->unpack_bf16(b, e - b, dst + b * in_features);
        });
        return at::linear(x.to(at::kBFloat16), w, bias.defined() ? bias.to(at::kBFloat16) : bias)
            .to(x.scalar_type());
    }
    at::Tensor w = at::empty({out_features, in_features}, at::kFloat);
    parallel_for(0, out_features, 64, [&](std::int64_t b, std::int64_t e) {
        packed->dequantize(b, e - b, w.data_ptr<float>() + b * in_features);
    });
    at::Tensor b = bias_f32.defined() ? bias_f32 : at::Tensor();
    return at::linear(x.to(at::kFloat), w, b).to(x.scalar_type());
}

void Linear::add_into(const at::Tensor &x, at::Tensor &out) const {
    const std::int64_t rows = x.numel() / in_features;
    const bool kernel_dtype = x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16;
    if (packed && x.is_cpu() && kernel_dtype && rows <= kKernelMaxRows && out.is_cpu() &&
        out.scalar_type() == x.scalar_type() && out.is_contiguous() &&
        out.numel() == rows * out_features) {
        const at::Tensor in = x.contiguous();
        kernels::linear_add(*packed, in.data_ptr(), act_of(in), in_features, rows, out.data_ptr(),
                            act_of(out), out_features,
                            bias_f32.defined() ? bias_f32.data_ptr<float>() : nullptr,
                            kernel_parallel_for());
        return;
    }
    if (weight.defined() && rows <= cuda::kGemvMaxRows && !x.is_cpu() &&
        device_gemv(x, weight, bias, out, true))
        return;
    if (weight.defined() && !x.is_cpu() && !bias.defined() && device_fusion_enabled() &&
        out.is_contiguous() && out.scalar_type() == x.scalar_type() &&
        weight.scalar_type() == x.scalar_type() && out.numel() == rows * out_features) {
        at::Tensor acc = out.view({rows, out_features}); // a view: the GEMM writes into out
        acc.addmm_(x.reshape({rows, in_features}), weight.t());
        return;
    }
    out.add_((*this)(x));
}

bool device_fusion_enabled() {
    static const bool on = env_switch_on("LLMHOST_DEVICE_FUSION");
    return on;
}

// LLMHOST_FUSED_PROJECTIONS=0 calls each part on its own (for A/B timing of the fusion; the
// results are the same either way, bit for bit: tests/kernels/concat_test.cpp).
static bool fusion_enabled() {
    static const bool on = env_switch_on("LLMHOST_FUSED_PROJECTIONS");
    return on;
}

void join_linears(Linear *parts, std::size_t n, Linear &joined) {
    joined = Linear{};
    if (n < 2 || !fusion_enabled() || !device_fusion_enabled()) return;
    const Linear &first = parts[0];
    std::vector<at::Tensor> weights, biases;
    std::int64_t rows = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const Linear &p = parts[i];
        if (!p.weight.defined() || p.packed || p.in_features != first.in_features ||
            p.weight.scalar_type() != first.weight.scalar_type() ||
            p.weight.device() != first.weight.device() || p.bias.defined() != first.bias.defined())
            return;
        weights.push_back(p.weight);
        if (p.bias.defined()) biases.push_back(p.bias);
        rows += p.out_features;
    }
    joined.weight = at::cat(weights, 0);
    joined.in_features = first.in_features;
    joined.out_features = rows;
    if (!biases.empty()) {
        joined.bias = at::cat(biases, 0);
        joined.bias_f32 = joined.bias.to(at::kFloat).contiguous();
    }
    std::int64_t at = 0;
    for (std::size_t i = 0; i < n; at += parts[i].out_features, ++i) {
        parts[i].weight = joined.weight.narrow(0, at, parts[i].out_features);
        if (joined.bias.defined()) parts[i].bias = joined.bias.narrow(0, at, parts[i].out_features);
    }
}

void fused_linear(const Linear *parts, std::size_t n, const at::Tensor &x, at::Tensor *out) {
    const std::int64_t K = parts[0].in_features, rows = x.numel() / K;
    bool fused = fusion_enabled() && n > 1 && x.is_cpu() && rows <= kKernelMaxRows &&
                 (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16);
    std::int64_t N = 0;
    std::vector<const kernels::PackedMatrix *> ws(n);
    std::vector<const float *> biases(n);
    for (std::size_t i = 0; i < n && fused; ++i) {
        const Linear &p = parts[i];
        fused = p.packed && p.in_features == K && p.packed->format() == parts[0].packed->format();
        ws[i] = p.packed.get();
        biases[i] = p.bias_f32.defined() ? p.bias_f32.data_ptr<float>() : nullptr;
        N += p.out_features;
    }
    if (!fused) {
        for (std::size_t i = 0; i < n; ++i) out[i] = parts[i](x);
        return;
    }
    at::Tensor in = x.contiguous();
    std::vector<std::int64_t> shape = x.sizes().vec();
    shape.back() = N;
    at::Tensor y = at::empty(shape, x.options());
    kernels::linear_concat(ws.data(), int(n), in.data_ptr(), act_of(in), K, rows, y.data_ptr(),
                           act_of(y), N, biases.data(), kernel_parallel_for());
    for (std::size_t i = 0, off = 0; i < n; off += std::size_t(parts[i].out_features), ++i)
        out[i] = y.narrow(-1, std::int64_t(off), parts[i].out_features);
}

} // namespace llmhost::engine
