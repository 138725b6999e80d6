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

kernels::Format kernel_format(WeightQuant q) {
    switch (q) {
    case WeightQuant::None: return kernels::Format::BF16;
    case WeightQuant::Int8: return kernels::Format::Q8;
    case WeightQuant::Int4: return kernels::Format::Q4;
    }
    return kernels::Format::BF16;
}
} // namespace

Weights::Weights(const SafetensorsCheckpoint &ckpt, at::Device device, at::ScalarType dtype,
                 WeightQuant quant)
    : ckpt_(ckpt), device_(device), dtype_(dtype), quant_(quant) {
    if (packs()) arena_ = std::make_shared<kernels::WeightArena>();
}

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
    if (!packs()) {
        // Dense: CUDA, and CPU float32 (BLAS's gemv streams fp32 about as fast as it can go).
        if (w.scalar_type() != dtype_) w = w.to(dtype_), all_views_ = false;
        if (device_ != w.device()) w = w.to(device_), all_views_ = false;
        loaded_bytes_ += w.numel() * w.element_size();
        l.weight = w;
        return l;
    }
    // CPU bfloat16, int8, int4: packed for the decode kernels (bf16's bits unchanged, int8/int4
    // quantized from the file's values). No dense copy is kept: a prefill unpacks or dequantizes
    // the weights for its call (Linear::operator()).
    all_views_ = false;
    const kernels::Format f = kernel_format(quant_);
    kernels::PackedMatrix m = [&] {
        // bf16: the bits, rounded from other dtypes as the dense path rounds (at::Tensor::to).
        // int8/int4: quantized from the file's own values. Transposed views (GPT-2's Conv1D)
        // are made contiguous first.
        if (f == kernels::Format::BF16 || w.scalar_type() == at::kBFloat16) {
            const at::Tensor b = w.to(at::kBFloat16).contiguous();
            return kernels::PackedMatrix::from_bf16(
                reinterpret_cast<const std::uint16_t *>(b.data_ptr<at::BFloat16>()), b.size(0),
                b.size(1), f, arena_);
        }
        const at::Tensor f32 = w.to(at::kFloat).contiguous(); // fp32 and fp16 files
        return kernels::PackedMatrix::from_f32(f32.data_ptr<float>(), w.size(0), w.size(1), f,
                                               arena_);
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
    if (packs()) return pack(weight, at::Tensor()); // a packed head next to the lookup table
    Linear l;
    l.out_features = weight.size(0);
    l.in_features = weight.size(1);
    l.weight = weight; // the same tensor, no second copy
    return l;
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
