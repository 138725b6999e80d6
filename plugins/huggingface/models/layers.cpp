// Shared building blocks of the model files: the static KV cache, RMSNorm, SwiGLU,
// the causal mask, cached (grouped-query) attention and rotary embeddings.
#include "model.hpp"

#include "decode_ops.hpp"

#include <llmhost/kernels/weight_arena.hpp>

#include <ATen/TensorIndexing.h>
#include <torch/version.h>

#include <cmath>
#include <cstring>

namespace llmhost::engine {

// ---- KV cache ---------------------------------------------------------------------------------

KVCache KVCache::allocate(std::int64_t layers, std::int64_t batch, std::int64_t kv_heads,
                          std::int64_t max_ctx, std::int64_t head_dim, const at::TensorOptions &o) {
    KVCache c;
    c.batch = batch;
    c.max_ctx = max_ctx;
    const std::vector<std::int64_t> shape = {batch, kv_heads, max_ctx, head_dim};
    // On the CPU the layers' K and V side by side on huge pages, as the packed weights are
    // (kernels/weight_arena.hpp): a decode step at a long context streams the cache like a
    // weight matrix, and one tensor per layer is mostly below the 2 MiB a huge page needs.
    std::shared_ptr<kernels::WeightArena> arena;
    if (o.device().is_cpu()) arena = std::make_shared<kernels::WeightArena>();
    auto make = [&] {
        // Zeroed, not empty: masked positions get probability 0, and 0 * NaN would still be NaN.
        if (!arena) return at::zeros(shape, o);
        const std::size_t bytes =
            std::size_t(batch * kv_heads * max_ctx * head_dim) *
            std::size_t(c10::elementSize(c10::typeMetaToScalarType(o.dtype())));
        void *p = arena->allocate(bytes);
        std::memset(p, 0, bytes);
        return at::from_blob(
            p, shape, [arena](void *) {}, o);
    };
    for (std::int64_t l = 0; l < layers; ++l) {
        c.k.push_back(make());
        c.v.push_back(make());
    }
    return c;
}

std::size_t KVCache::bytes() const {
    std::size_t n = 0;
    for (const auto &t : k) n += t.numel() * t.element_size();
    for (const auto &t : v) n += t.numel() * t.element_size();
    return n;
}

KVCache KVCache::rows(std::int64_t first, std::int64_t n) const {
    KVCache c;
    c.batch = n;
    c.max_ctx = max_ctx;
    for (const auto &t : k) c.k.push_back(t.narrow(0, first, n));
    for (const auto &t : v) c.v.push_back(t.narrow(0, first, n));
    return c;
}

KVCache &KVCacheRows::operator()(std::int64_t first, std::int64_t n) {
    auto it = views_.find({first, n});
    if (it == views_.end()) it = views_.emplace(std::pair{first, n}, cache_.rows(first, n)).first;
    return it->second;
}

// ---- normalisation, mask, attention ---------------------------------------------------------

at::Tensor rms_norm(const at::Tensor &x, const at::Tensor &weight, double eps) {
    if (decode_ops::applies(x) && weight.scalar_type() == x.scalar_type())
        return decode_ops::rms_norm(x, weight, eps);
#if LLMHOST_TORCH_RMS_NORM &&                                                                      \
    (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))
    // Off the CPU torch's own RMSNorm: the eight element-wise kernels below (widen, square,
    // mean, add, rsqrt, scale, narrow, weight) cost more than their arithmetic on a GPU's step.
    // It computes in fp32 too; its last multiply may round differently (linear.hpp).
    if (!x.is_cpu() && device_fusion_enabled() && weight.scalar_type() == x.scalar_type())
        return at::rms_norm(x, {x.size(-1)}, weight, eps);
#endif
    at::Tensor h = x.to(at::kFloat);
    h = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
    return weight * h.to(x.scalar_type());
}

at::Tensor swiglu(const at::Tensor &gate, const at::Tensor &up) {
    if (decode_ops::applies(gate) && up.scalar_type() == gate.scalar_type())
        return decode_ops::swiglu(gate, up);
    return at::silu(gate) * up;
}

at::Tensor attention_mask(const at::Tensor &positions, std::int64_t kv_len,
                          std::optional<std::int64_t> sliding_window) {
    at::Tensor key_pos = at::arange(kv_len, positions.options()).view({1, 1, kv_len});
    at::Tensor q_pos = positions.unsqueeze(-1); // [B, T, 1]
    at::Tensor visible = key_pos <= q_pos;      // causal
    if (sliding_window) visible = visible & ((q_pos - key_pos) < *sliding_window);
    return visible.unsqueeze(1); // [B, 1, T, S]
}

at::Tensor cached_attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                            const at::Tensor &positions, const at::Tensor &mask,
                            std::int64_t kv_len, KVCache &cache, std::int64_t layer) {
    using at::indexing::Slice;
    const std::int64_t B = q.size(0), T = q.size(1), H = q.size(2), hd = q.size(3);
    const std::int64_t KV = cache.k[layer].size(1), groups = H / KV;
    // The paths below that take a mask tensor build the causal one when the caller left it out.
    auto mask_of = [&] {
        return mask.defined() ? mask : attention_mask(positions, kv_len, std::nullopt);
    };

    if (decode_ops::applies(q) && k.defined() && k.scalar_type() == q.scalar_type() &&
        (cache.k[layer].scalar_type() == at::kFloat ||
         cache.k[layer].scalar_type() == at::kBFloat16)) {
        decode_ops::write_cache(cache.k[layer], k, positions);
        decode_ops::write_cache(cache.v[layer], v, positions);
        return decode_ops::attention(q, cache.k[layer], cache.v[layer], mask_of(), kv_len);
    }
    // Scatter this call's keys/values to their absolute positions: cache[b, :, pos[b, t], :]
    // (unless the caller's kernel already did: device_rope_cache.hpp).
    if (k.defined()) {
        at::Tensor rows = at::arange(B, positions.options()).unsqueeze(1).expand({B, T});
        cache.k[layer].index_put_({rows, Slice(), positions}, k.to(cache.k[layer].scalar_type()));
        cache.v[layer].index_put_({rows, Slice(), positions}, v.to(cache.v[layer].scalar_type()));
    }
    // A bf16 cache under fp32 activations (int8/int4) is widened for the matmuls.
    at::Tensor keys = cache.k[layer].narrow(2, 0, kv_len).to(q.scalar_type()); // [B, KV, S, hd]
    at::Tensor values = cache.v[layer].narrow(2, 0, kv_len).to(q.scalar_type());

#if TORCH_VERSION_MAJOR >= 2
    if (!mask.defined()) {
        // A fresh prompt: is_causal and no mask tensor, which lets SDPA take flash attention on
        // CUDA (a mask rules it out). Its causal mask is the top-left one (query t sees keys
        // <= t), which is this one since kv_len == T. K/V are repeated to every query head: the
        // folded GQA layout below would break causality, and `enable_gqa` is torch >= 2.5 only.
        at::Tensor kh = keys.repeat_interleave(groups, 1), vh = values.repeat_interleave(groups, 1);
        at::Tensor o = at::scaled_dot_product_attention(q.transpose(1, 2), kh, vh, {}, 0.0,
                                                        /*is_causal=*/true); // [B, H, T, hd]
        return o.transpose(1, 2).reshape({B, T, H * hd});
    }
#endif
    // GQA without copying the cache: fold the query heads that share a KV head into the
    // sequence dimension, so one KV head serves `groups * T` query rows.
    at::Tensor qg = q.transpose(1, 2).reshape({B, KV, groups * T, hd});
    at::Tensor m = mask_of()
                       .unsqueeze(2)
                       .expand({B, 1, groups, T, kv_len})
                       .reshape({B, 1, groups * T, kv_len});
    at::Tensor out;
#if TORCH_VERSION_MAJOR >= 2
    out = at::scaled_dot_product_attention(qg, keys, values, m);
#else
    at::Tensor scores = at::matmul(qg, keys.transpose(-1, -2)).to(at::kFloat) / std::sqrt(double(hd));
    scores = scores.masked_fill(m.logical_not(), -std::numeric_limits<float>::infinity());
    at::Tensor probs = at::softmax(scores, -1).to(values.scalar_type());
    out = at::matmul(probs, values);
#endif
    // [B, KV, groups*T, hd] -> [B, H, T, hd] -> [B, T, H*hd]
    return out.reshape({B, H, T, hd}).transpose(1, 2).reshape({B, T, H * hd});
}

// ---- rotary embeddings --------------------------------------------------------------------

RopeTables RopeTables::build(const ModelConfig &cfg, std::int64_t max_positions, at::Device device,
                             at::ScalarType dtype) {
    const std::int64_t hd = cfg.head_dim;
    // inv_freq in fp32 exactly as transformers computes it.
    at::Tensor inv_freq =
        1.0 / at::pow(at::scalar_tensor(cfg.rope_theta, at::kFloat),
                      at::arange(0, hd, 2, at::kLong).to(at::kFloat) / float(hd));
    const RopeScaling &rs = cfg.rope_scaling;
    if (rs.type == "linear") {
        inv_freq = inv_freq / rs.factor;
    } else if (rs.type == "llama3") {
        const double old_ctx = rs.original_max_position_embeddings;
        const double low_wavelen = old_ctx / rs.low_freq_factor;
        const double high_wavelen = old_ctx / rs.high_freq_factor;
        at::Tensor wavelen = 2 * M_PI / inv_freq;
        at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / rs.factor, inv_freq);
        at::Tensor smooth = (old_ctx / wavelen - rs.low_freq_factor) /
                            (rs.high_freq_factor - rs.low_freq_factor);
        at::Tensor smoothed = (1 - smooth) * scaled / rs.factor + smooth * scaled;
        at::Tensor medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen);
        inv_freq = at::where(medium, smoothed, scaled);
    }
    at::Tensor pos = at::arange(max_positions, at::kLong).to(at::kFloat);
    at::Tensor freqs = at::outer(pos, inv_freq);           // [P, hd/2]
    at::Tensor emb = at::cat({freqs, freqs}, -1);          // rotate-half layout
    RopeTables t;
    t.cos = emb.cos().to(dtype).to(device);
    // The plain sine only for the CPU's decode ops (decode_ops::rope, the CPU step); every other
    // path reads sin_signed.
    if (device.is_cpu()) t.sin = emb.sin().to(dtype);
    at::Tensor half_sin = freqs.sin().to(dtype);
    t.sin_signed = at::cat({-half_sin, half_sin}, -1).to(device);
    return t;
}

RopeTables::Rows RopeTables::rows(const at::Tensor &positions) const {
    const std::int64_t B = positions.size(0), T = positions.size(1), hd = cos.size(1);
    const at::Tensor flat = positions.reshape({-1});
    return {cos.index_select(0, flat).view({B, T, 1, hd}),
            sin_signed.index_select(0, flat).view({B, T, 1, hd})};
}

namespace {

// x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x2, x1) = roll(x, hd / 2) with the
// sign in sin_signed: four element-wise kernels, rounded as transformers' three ops round.
at::Tensor rotate(const at::Tensor &x, const RopeTables::Rows &r) {
    return x * r.cos + x.roll(x.size(-1) / 2, -1) * r.sin_signed;
}

} // namespace

at::Tensor RopeTables::apply(const at::Tensor &x, const at::Tensor &positions,
                             const Rows *r) const {
    if (decode_ops::applies(x) && cos.scalar_type() == x.scalar_type())
        return decode_ops::rope(x, cos, sin, positions);
    return rotate(x, r ? *r : rows(positions));
}

std::pair<at::Tensor, at::Tensor> RopeTables::apply_qk(const at::Tensor &q, const at::Tensor &k,
                                                       const at::Tensor &positions,
                                                       const Rows &r) const {
    const std::int64_t H = q.size(2), KV = k.size(2), hd = q.size(3);
    // k's heads right after q's, in the same rows: the output of one fused projection.
    const bool joined =
        !decode_ops::applies(q) && q.dim() == 4 && k.dim() == 4 &&
        q.scalar_type() == k.scalar_type() && k.size(3) == hd && q.stride(3) == 1 &&
        k.stride(3) == 1 && q.stride(2) == hd && k.stride(2) == hd && q.stride(0) == k.stride(0) &&
        q.stride(1) == k.stride(1) && q.size(0) == k.size(0) && q.size(1) == k.size(1) &&
        q.storage().is_alias_of(k.storage()) && k.storage_offset() == q.storage_offset() + H * hd;
    if (!joined) return {apply(q, positions, &r), apply(k, positions, &r)};
    const at::Tensor qk =
        q.as_strided({q.size(0), q.size(1), H + KV, hd}, {q.stride(0), q.stride(1), hd, 1});
    const at::Tensor out = rotate(qk, r);
    return {out.narrow(2, 0, H), out.narrow(2, H, KV)};
}

} // namespace llmhost::engine
