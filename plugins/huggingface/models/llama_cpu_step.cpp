// The Llama family's forward pass for a decode step on the CPU (llama_parts.hpp says when and
// why): llama.cpp's forward, line for line, on buffers allocated once per call.
#include "decode_ops.hpp"
#include "llama_parts.hpp"
#include "parallel.hpp"

#include <llmhost/kernels/activation.hpp>
#include <llmhost/kernels/linear.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace llmhost::engine {

namespace {

using decode_ops::Act;

std::atomic<bool> &step_switch() {
    static std::atomic<bool> on{[] {
        const char *v = std::getenv("LLMHOST_CPU_DECODE_STEP");
        return !(v && std::string(v) == "0");
    }()};
    return on;
}

std::atomic<std::uint64_t> steps_taken{0};

bool packed(const Linear &l) { return l.packed != nullptr; }

const float *bias_of(const Linear &l) {
    return l.bias_f32.defined() ? l.bias_f32.data_ptr<float>() : nullptr;
}

// The step's buffers carved from one allocation, each on its own cache line; take(n) counts n
// elements of `elem` bytes.
struct Scratch {
    at::Tensor block;
    std::size_t elem, used = 0;
    char *take(std::int64_t elements) {
        char *p = static_cast<char *>(block.data_ptr()) + used;
        used += (std::size_t(elements) * elem + 63) / 64 * 64; // each buffer on a cache line
        return p;
    }
};

} // namespace

bool cpu_decode_step_enabled() { return step_switch().load(std::memory_order_relaxed); }
void set_cpu_decode_step_enabled(bool on) { step_switch().store(on, std::memory_order_relaxed); }
std::uint64_t cpu_decode_steps_taken() { return steps_taken.load(std::memory_order_relaxed); }

bool llama_cpu_step_supported(const LlamaWeights &w) {
    const at::ScalarType t = w.dtype;
    if (w.layers.empty() || (t != at::kFloat && t != at::kBFloat16)) return false;
    // Norm weights and RoPE tables are read as raw rows: the model's dtype, contiguous.
    auto rows_ok = [t](const at::Tensor &x) { return x.scalar_type() == t && x.is_contiguous(); };
    if (!packed(w.lm_head) || !rows_ok(w.final_norm) || !rows_ok(w.rope.cos) ||
        !rows_ok(w.rope.sin))
        return false;
    for (const LlamaLayer &L : w.layers) {
        for (const Linear &p : L.qkv.parts)
            if (!packed(p) || p.packed->format() != L.qkv.parts[0].packed->format()) return false;
        for (const Linear &p : L.gate_up.parts)
            if (!packed(p) || p.packed->format() != L.gate_up.parts[0].packed->format())
                return false;
        if (!packed(L.o) || !packed(L.down) || !rows_ok(L.input_norm) || !rows_ok(L.post_attn_norm))
            return false;
        if (L.q_norm.defined() != L.k_norm.defined() ||
            (L.q_norm.defined() && (!rows_ok(L.q_norm) || !rows_ok(L.k_norm))))
            return false;
    }
    return true;
}

bool llama_cpu_step_applies(const ModelConfig &cfg, const LlamaWeights &w, const at::Tensor &tokens,
                            const KVCache &cache) {
    if (!w.cpu_step || !cpu_decode_step_enabled() || !tokens.is_cpu() || tokens.dim() != 2 ||
        tokens.numel() > decode_ops::kMaxRows || tokens.numel() < 1)
        return false;
    if (cache.k.size() != w.layers.size() || cache.v.size() != w.layers.size()) return false;
    // The cache rows as decode_ops::attention reads them.
    const at::Tensor &k = cache.k[0];
    const at::ScalarType c = k.scalar_type();
    return (c == at::kFloat || c == at::kBFloat16) && k.is_cpu() && k.dim() == 4 &&
           k.stride(3) == 1 && k.stride(2) == cfg.head_dim && cache.v[0].strides() == k.strides() &&
           cache.v[0].scalar_type() == c;
}

at::Tensor llama_cpu_step(const ModelConfig &cfg, const LlamaWeights &w, const at::Tensor &tokens,
                          const at::Tensor &positions, std::int64_t kv_len, KVCache &cache,
                          bool all_logits) {
    const std::int64_t B = tokens.size(0), T = tokens.size(1), R = B * T;
    const std::int64_t D = cfg.hidden_size, H = cfg.num_attention_heads,
                       KV = cfg.num_key_value_heads, hd = cfg.head_dim, F = cfg.intermediate_size,
                       V = cfg.vocab_size;
    const std::int64_t Nq = H * hd, Nkv = KV * hd, Nqkv = Nq + 2 * Nkv;
    const float eps = float(cfg.rms_norm_eps);
    const Act act = w.dtype == at::kFloat ? Act::F32 : Act::BF16;
    const std::size_t elem = act == Act::F32 ? 4 : 2;
    const Act cache_t = cache.k[0].scalar_type() == at::kFloat ? Act::F32 : Act::BF16;
    const kernels::ParallelFor &pf = kernel_parallel_for();
    steps_taken.fetch_add(1, std::memory_order_relaxed);

    // The residual stream [R, D]: this step's embedding rows in the compute dtype (a fresh tensor
    // that the layers add into).
    at::Tensor x = w.embed.index_select(0, tokens.reshape({-1})).to(w.dtype).contiguous();
    char *xp = static_cast<char *>(x.data_ptr());
    const at::Tensor pos_t = positions.contiguous();
    const std::int64_t *pos = pos_t.data_ptr<std::int64_t>();

    // Every buffer of the step in one allocation.
    const bool qk_norm = w.layers[0].q_norm.defined();
    const std::int64_t out_rows = all_logits ? R : B;
    Scratch s{at::empty({std::int64_t(64) * 12 + R * kv_len +
                         std::int64_t(elem) * (R * (D + Nqkv + 2 * Nq + Nkv + 3 * F) +
                                               (qk_norm ? R * (Nq + Nkv) : 0) + out_rows * V)},
                        at::kByte),
              elem};
    char *h = s.take(R * D), *qkv = s.take(R * Nqkv), *q = s.take(R * Nq), *k = s.take(R * Nkv);
    char *a = s.take(R * Nq), *gu = s.take(R * 2 * F), *act_out = s.take(R * F);
    char *qn = qk_norm ? s.take(R * Nq) : nullptr, *kn = qk_norm ? s.take(R * Nkv) : nullptr;
    s.elem = 1;
    bool *mask = reinterpret_cast<bool *>(s.take(R * kv_len));
    // attention_mask (layers.cpp): causal, and within the sliding window where there is one.
    for (std::int64_t r = 0; r < R; ++r)
        for (std::int64_t j = 0; j < kv_len; ++j)
            mask[r * kv_len + j] =
                j <= pos[r] && (!cfg.sliding_window || pos[r] - j < *cfg.sliding_window);

    for (std::size_t i = 0; i < w.layers.size(); ++i) {
        const LlamaLayer &L = w.layers[i];
        // Attention block.
        decode_ops::rms_norm(act, xp, L.input_norm.data_ptr(), h, R, D, eps);
        const kernels::PackedMatrix *qkv_w[3] = {
            L.qkv.parts[0].packed.get(), L.qkv.parts[1].packed.get(), L.qkv.parts[2].packed.get()};
        const float *qkv_b[3] = {bias_of(L.qkv.parts[0]), bias_of(L.qkv.parts[1]),
                                 bias_of(L.qkv.parts[2])};
        kernels::linear_concat(qkv_w, 3, h, act, D, R, qkv, act, Nqkv, qkv_b, pf);
        const char *q_in = qkv, *k_in = qkv + Nq * elem;
        std::int64_t ldq = Nqkv, ldk = Nqkv;
        if (qk_norm) { // Qwen3: each head normalised before RoPE
            for (std::int64_t r = 0; r < R; ++r) {
                decode_ops::rms_norm(act, qkv + r * Nqkv * elem, L.q_norm.data_ptr(),
                                     qn + r * Nq * elem, H, hd, eps);
                decode_ops::rms_norm(act, qkv + (r * Nqkv + Nq) * elem, L.k_norm.data_ptr(),
                                     kn + r * Nkv * elem, KV, hd, eps);
            }
            q_in = qn, ldq = Nq, k_in = kn, ldk = Nkv;
        }
        decode_ops::rope(act, q_in, ldq, w.rope.cos.data_ptr(), w.rope.sin.data_ptr(), pos, q, Nq,
                         R, H, hd);
        decode_ops::rope(act, k_in, ldk, w.rope.cos.data_ptr(), w.rope.sin.data_ptr(), pos, k, Nkv,
                         R, KV, hd);
        at::Tensor &kc = cache.k[i], &vc = cache.v[i];
        decode_ops::write_cache(cache_t, kc.data_ptr(), kc.stride(0), kc.stride(1), act, k, Nkv,
                                pos, B, T, KV, hd);
        decode_ops::write_cache(cache_t, vc.data_ptr(), vc.stride(0), vc.stride(1), act,
                                qkv + (Nq + Nkv) * elem, Nqkv, pos, B, T, KV, hd);
        const decode_ops::CacheRows rows{kc.data_ptr(), vc.data_ptr(), cache_t, kc.stride(0),
                                         kc.stride(1)};
        decode_ops::attention(act, q, B, T, H, hd, rows, KV, mask, kv_len, a);
        kernels::linear_add(*L.o.packed, a, act, Nq, R, xp, act, D, bias_of(L.o), pf);
        // Feed-forward block (SwiGLU).
        decode_ops::rms_norm(act, xp, L.post_attn_norm.data_ptr(), h, R, D, eps);
        const kernels::PackedMatrix *gu_w[2] = {L.gate_up.parts[0].packed.get(),
                                                L.gate_up.parts[1].packed.get()};
        const float *gu_b[2] = {bias_of(L.gate_up.parts[0]), bias_of(L.gate_up.parts[1])};
        kernels::linear_concat(gu_w, 2, h, act, D, R, gu, act, 2 * F, gu_b, pf);
        kernels::swiglu(gu, 2 * F, gu + F * elem, 2 * F, act, R, F, act_out);
        kernels::linear_add(*L.down.packed, act_out, act, F, R, xp, act, D, bias_of(L.down), pf);
    }

    // The final norm of the rows whose logits are wanted: all, or each row's last token.
    for (std::int64_t r = 0; r < out_rows; ++r) {
        const std::int64_t src = all_logits ? r : r * T + T - 1;
        decode_ops::rms_norm(act, xp + src * D * elem, w.final_norm.data_ptr(), h + r * D * elem, 1,
                             D, eps);
    }
    at::Tensor logits = at::empty({B, all_logits ? T : 1, V}, at::kFloat);
    if (act == Act::F32) {
        kernels::linear(*w.lm_head.packed, h, act, D, out_rows, logits.data_ptr(), Act::F32, V,
                        bias_of(w.lm_head), pf);
        return logits;
    }
    // bf16 models round their logits to bf16, as the op-by-op path (lm_head in bf16, then fp32).
    s.elem = 2;
    char *lb = s.take(out_rows * V);
    kernels::linear(*w.lm_head.packed, h, act, D, out_rows, lb, Act::BF16, V, bias_of(w.lm_head),
                    pf);
    const auto *bits = reinterpret_cast<const std::uint16_t *>(lb);
    float *out = logits.data_ptr<float>();
    for (std::int64_t i = 0; i < out_rows * V; ++i) {
        const std::uint32_t u = std::uint32_t(bits[i]) << 16;
        std::memcpy(out + i, &u, sizeof u);
    }
    return logits;
}

} // namespace llmhost::engine
