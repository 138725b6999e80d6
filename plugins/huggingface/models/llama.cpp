// The Llama family, top to bottom: LlamaForCausalLM (Llama 2, 3, 3.1, 3.2), MistralForCausalLM,
// Qwen2ForCausalLM and Qwen3ForCausalLM. They are one decoder with small switches:
//   Qwen2: biases on q/k/v projections.   Qwen3: RMSNorm on each head of q and k before RoPE.
//   Mistral: sliding-window attention.    Llama 3.1+: rope_scaling "llama3" (in RopeTables).
// Weight names are transformers' (model.layers.N.self_attn.q_proj.weight, ...).
#include "device_rope_cache.hpp"
#include "llama_parts.hpp"

#include <array>
#include <optional>
#include <tuple>

namespace llmhost::engine {
namespace {

class LlamaFamily final : public CausalLM {
public:
    LlamaFamily(const ModelConfig &cfg, const Weights &w, std::int64_t max_context)
        : CausalLM(cfg) {
        const std::int64_t D = cfg.hidden_size, H = cfg.num_attention_heads,
                           KV = cfg.num_key_value_heads, hd = cfg.head_dim,
                           F = cfg.intermediate_size, V = cfg.vocab_size;
        const bool qkv_bias = cfg.architecture == "Qwen2ForCausalLM";
        const bool qk_norm = cfg.architecture == "Qwen3ForCausalLM";
        if (cfg.hidden_act != "silu")
            throw ModelFileError(cfg.architecture + ": hidden_act '" + cfg.hidden_act +
                                 "' is not supported (this family uses silu)");
        w_.embed = w.table("model.embed_tokens.weight", {V, D});
        for (std::int64_t i = 0; i < cfg.num_hidden_layers; ++i) {
            const std::string p = "model.layers." + std::to_string(i) + ".";
            LlamaLayer L;
            L.input_norm = w.get(p + "input_layernorm.weight", {D});
            L.post_attn_norm = w.get(p + "post_attention_layernorm.weight", {D});
            const bool in_bias = qkv_bias || cfg.attention_bias;
            auto proj = [&](const std::string &name, std::int64_t out, std::int64_t in, bool bias) {
                return w.linear(p + name + ".weight", out, in, bias ? p + name + ".bias" : "");
            };
            L.qkv.parts = {proj("self_attn.q_proj", H * hd, D, in_bias),
                           proj("self_attn.k_proj", KV * hd, D, in_bias),
                           proj("self_attn.v_proj", KV * hd, D, in_bias)};
            L.o = proj("self_attn.o_proj", D, H * hd, cfg.attention_bias);
            if (qk_norm) {
                L.q_norm = w.get(p + "self_attn.q_norm.weight", {hd});
                L.k_norm = w.get(p + "self_attn.k_norm.weight", {hd});
            }
            L.gate_up.parts = {proj("mlp.gate_proj", F, D, false),
                               proj("mlp.up_proj", F, D, false)};
            L.down = proj("mlp.down_proj", D, F, false);
            if (!w.device().is_cpu()) { // one matrix each (linear.hpp says why)
                L.qkv.join();
                L.gate_up.join();
            }
            w_.layers.push_back(std::move(L));
        }
        w_.final_norm = w.get("model.norm.weight", {D});
        // Tied checkpoints usually omit lm_head.weight; when both exist the file wins.
        if (w.has("lm_head.weight") || !cfg.tie_word_embeddings)
            w_.lm_head = w.linear("lm_head.weight", V, D); // absent and untied: throws, naming it
        else
            w_.lm_head = w.tied_linear(w_.embed);
        w_.rope = RopeTables::build(cfg, max_context, w.device(), w.dtype());
        w_.dtype = w.dtype();
        w_.cpu_step = llama_cpu_step_supported(w_);
        kv_dtype_ = w.kv_dtype();
        device_ = w.device();
    }

    KVCache make_cache(std::int64_t batch, std::int64_t max_ctx) const override {
        return KVCache::allocate(cfg_.num_hidden_layers, batch, cfg_.num_key_value_heads, max_ctx,
                                 cfg_.head_dim,
                                 at::TensorOptions().dtype(kv_dtype_).device(device_));
    }

    at::Tensor forward(const at::Tensor &tokens, const at::Tensor &positions, std::int64_t kv_len,
                       KVCache &cache, bool all_logits) override {
        if (llama_cpu_step_applies(cfg_, w_, tokens, cache))
            return llama_cpu_step(cfg_, w_, tokens, positions, kv_len, cache, all_logits);
        const std::int64_t B = tokens.size(0), T = tokens.size(1);
        const double eps = cfg_.rms_norm_eps;
        // No mask tensor for a fresh prompt: attention runs causal (flash on CUDA).
        at::Tensor mask = causal_prefill(T, kv_len, cfg_.sliding_window)
                              ? at::Tensor()
                              : attention_mask(positions, kv_len, cfg_.sliding_window);
        at::Tensor x = w_.embed.index_select(0, tokens.reshape({-1})).view({B, T, -1}).to(w_.dtype);
        std::optional<RopeTables::Rows> rope_rows; // picked once, by the first layer needing them
        for (std::size_t i = 0; i < w_.layers.size(); ++i) {
            const LlamaLayer &L = w_.layers[i];
            // Attention block.
            at::Tensor h = rms_norm(x, L.input_norm, eps);
            at::Tensor a =
                attention_block(L, h, positions, mask, kv_len, cache, std::int64_t(i), rope_rows);
            L.o.add_into(a, x); // x = x + o(a)
            // Feed-forward block (SwiGLU).
            h = rms_norm(x, L.post_attn_norm, eps);
            auto [gate, up] = L.gate_up(h);
            L.down.add_into(swiglu(gate, up), x); // x = x + down(silu(gate) * up)
        }
        if (!all_logits) x = x.narrow(1, T - 1, 1);
        x = rms_norm(x, w_.final_norm, eps);
        return w_.lm_head(x).to(at::kFloat);
    }

private:
    // q/k/v, RoPE, the cache write and attention of one layer: [B, T, H * hd].
    at::Tensor attention_block(const LlamaLayer &L, const at::Tensor &h,
                               const at::Tensor &positions, const at::Tensor &mask,
                               std::int64_t kv_len, KVCache &cache, std::int64_t layer,
                               std::optional<RopeTables::Rows> &rope_rows) const {
        const std::int64_t B = h.size(0), T = h.size(1), H = cfg_.num_attention_heads,
                           KV = cfg_.num_key_value_heads, hd = cfg_.head_dim;
        std::array<at::Tensor, 3> parts;
        if (L.qkv.joined.weight.defined()) { // one product (a GPU's weights: linear.hpp)
            const at::Tensor y = L.qkv.joined(h);
            if (!L.q_norm.defined()) { // RoPE and the cache write in one kernel, where it applies
                const at::Tensor q_rot =
                    device_rope_cache(y, H, KV, hd, positions, w_.rope, cache, layer);
                if (q_rot.defined())
                    return cached_attention(q_rot, {}, {}, positions, mask, kv_len, cache, layer);
            }
            parts = L.qkv.split(y);
        } else {
            parts = L.qkv(h);
        }
        at::Tensor q = parts[0], k = parts[1], v = parts[2];
        q = q.view({B, T, H, hd});
        k = k.view({B, T, KV, hd});
        v = v.view({B, T, KV, hd});
        if (L.q_norm.defined()) {
            q = rms_norm(q, L.q_norm, cfg_.rms_norm_eps);
            k = rms_norm(k, L.k_norm, cfg_.rms_norm_eps);
        }
        if (!rope_rows) rope_rows = w_.rope.rows(positions);
        std::tie(q, k) = w_.rope.apply_qk(q, k, positions, *rope_rows);
        return cached_attention(q, k, v, positions, mask, kv_len, cache, layer);
    }

    LlamaWeights w_;
    at::ScalarType kv_dtype_ = at::kFloat;
    at::Device device_ = at::kCPU;
};

} // namespace

std::unique_ptr<CausalLM> make_llama_family(const ModelConfig &cfg, const Weights &w,
                                            std::int64_t max_context) {
    return std::make_unique<LlamaFamily>(cfg, w, max_context);
}

} // namespace llmhost::engine
