// Weights: tensors of a checkpoint placed on the device in the model dtype, and projections
// (Linear) made dense or packed for the CPU decode kernels.
#include "model.hpp"

#include <llmhost/kernels/linear.hpp>

namespace llmhost::engine {

namespace {
at::ScalarType to_scalar(DType d) {
    switch (d) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    }
    return at::kFloat;
}

std::string shape_str(const std::vector<std::int64_t> &s) {
    std::string r = "[";
    for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

// A bf16 [out, in] tensor streamed in place by the kernels (no copy: `w` must outlive it).
std::shared_ptr<kernels::PackedMatrix> bf16_view(const at::Tensor &w) {
    return std::make_shared<kernels::PackedMatrix>(kernels::PackedMatrix::view_bf16(
        reinterpret_cast<const std::uint16_t *>(w.data_ptr<at::BFloat16>()), w.size(0),
        w.size(1)));
}

kernels::Format kernel_format(WeightQuant q) {
    return q == WeightQuant::Int8 ? kernels::Format::Q8 : kernels::Format::Q4;
}
} // namespace

Weights::Weights(const SafetensorsCheckpoint &ckpt, at::Device device, at::ScalarType dtype,
                 WeightQuant quant)
    : ckpt_(ckpt), device_(device), dtype_(dtype), quant_(quant) {}

at::Tensor Weights::view(const std::string &name, const std::vector<std::int64_t> &shape) const {
    const TensorView &v = ckpt_.get(name);
    if (v.shape != shape)
        throw ModelFileError(ckpt_.origin() + ": tensor '" + name + "' has shape " +
                             shape_str(v.shape) + " but config.json implies " + shape_str(shape));
    // A view of the mapping; the deleter holds the mapping alive as long as the tensor lives.
    auto keep = v.file;
    return at::from_blob(const_cast<void *>(v.data), v.shape,
                         [keep](void *) mutable { keep.reset(); },
                         at::TensorOptions().dtype(to_scalar(v.dtype)));
}

at::Tensor Weights::get(const std::string &name, std::vector<std::int64_t> shape) const {
    at::Tensor t = view(name, shape);
    if (t.scalar_type() != dtype_) t = t.to(dtype_), all_views_ = false; // converted copy
    if (device_ != t.device()) t = t.to(device_), all_views_ = false;     // device copy
    loaded_bytes_ += t.numel() * t.element_size();
    return t;
}

std::optional<at::Tensor> Weights::get_optional(const std::string &name,
                                                std::vector<std::int64_t> shape) const {
    if (!has(name)) return std::nullopt;
    return get(name, std::move(shape));
}

// `w` is [out, in] on the CPU in any float dtype (a view of the file, or a transposed copy).
Linear Weights::pack(at::Tensor w, at::Tensor bias) const {
    Linear l;
    l.out_features = w.size(0);
    l.in_features = w.size(1);
    if (bias.defined()) {
        l.bias = bias;
        l.bias_f32 = bias.to(at::kFloat).contiguous();
    }
    const bool cpu = device_.is_cpu();
    const bool dense_only =
        quant_ == WeightQuant::None && (dtype_ != at::kBFloat16 || !w.is_contiguous());
    if (!cpu || dense_only) {
        // Dense: CUDA; CPU float32 (BLAS's gemv streams fp32 about as fast as it can go); and
        // GPT-2's transposed Conv1D views in bf16, whose packed copy would double their memory.
        if (w.scalar_type() != dtype_) w = w.to(dtype_), all_views_ = false;
        if (device_ != w.device()) w = w.to(device_), all_views_ = false;
        loaded_bytes_ += w.numel() * w.element_size();
        l.weight = w;
        return l;
    }
    if (quant_ == WeightQuant::None) { // CPU bfloat16: BLAS for prefill, the kernel for decode
        if (w.scalar_type() != at::kBFloat16) w = w.to(at::kBFloat16), all_views_ = false;
        loaded_bytes_ += w.numel() * w.element_size();
        l.weight = w; // keeps the memory the packed view streams alive
        l.packed = bf16_view(w);
        return l;
    }
    // int8 / int4: quantized from the file's values; no dense copy is kept.
    all_views_ = false;
    const kernels::Format f = kernel_format(quant_);
    kernels::PackedMatrix m = [&] {
        if (w.scalar_type() == at::kBFloat16 && w.is_contiguous())
            return kernels::PackedMatrix::from_bf16(
                reinterpret_cast<const std::uint16_t *>(w.data_ptr<at::BFloat16>()), w.size(0),
                w.size(1), f);
        at::Tensor f32 = w.to(at::kFloat).contiguous(); // fp16 files, transposed views
        return kernels::PackedMatrix::from_f32(f32.data_ptr<float>(), w.size(0), w.size(1), f);
    }();
    loaded_bytes_ += m.bytes();
    l.packed = std::make_shared<kernels::PackedMatrix>(std::move(m));
    return l;
}

Linear Weights::linear(const std::string &name, std::int64_t out, std::int64_t in,
                       const std::string &bias_name, bool conv1d) const {
    at::Tensor w = conv1d ? view(name, {in, out}).t() : view(name, {out, in});
    at::Tensor b = bias_name.empty() ? at::Tensor() : get(bias_name, {out});
    return pack(std::move(w), std::move(b));
}

Linear Weights::tied_linear(const at::Tensor &weight) const {
    Linear l;
    l.out_features = weight.size(0);
    l.in_features = weight.size(1);
    if (!device_.is_cpu() || (quant_ == WeightQuant::None && dtype_ != at::kBFloat16)) {
        l.weight = weight; // the same tensor, no second copy
        return l;
    }
    if (quant_ == WeightQuant::None && weight.scalar_type() == at::kBFloat16 &&
        weight.is_contiguous()) { // CPU bfloat16: the kernel streams the table itself
        l.weight = weight;
        l.packed = bf16_view(weight);
        return l;
    }
    return pack(weight, at::Tensor()); // a quantized head next to the table used for lookups
}

at::Tensor Weights::table(const std::string &name, std::vector<std::int64_t> shape) const {
    // Quantized models compute in fp32, but a lookup table read one row per token need not be
    // widened whole: it stays a view of the file and the model converts the rows it gathers.
    if (quant_ == WeightQuant::None || !device_.is_cpu()) return get(name, std::move(shape));
    at::Tensor t = view(name, shape);
    loaded_bytes_ += t.numel() * t.element_size();
    return t;
}

} // namespace llmhost::engine
