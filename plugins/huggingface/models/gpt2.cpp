// GPT2LMHeadModel, top to bottom: learned absolute positions, LayerNorm with bias, fused qkv
// projection, GELU (tanh) MLP, tied lm_head. GPT-2 stores its projections as Conv1D weights
// [in, out]; we use them through a transposed view ([out, in], no copy) with at::linear.
// Accepts both checkpoint spellings: "transformer.h.0..." (save_pretrained) and "h.0..." (the
// original openai-community/gpt2 files). int8/int4 weights are quantized from the transposed
// view; bf16 stays the transposed view (BLAS), since a packed copy would double its memory.
#include "model.hpp"

namespace llmhost::engine {
namespace {

struct Block {
    at::Tensor ln1_w, ln1_b, ln2_w, ln2_b;
    Linear attn, proj, fc, out; // weights as [out, in], with biases
};

class GPT2 final : public CausalLM {
public:
    GPT2(const ModelConfig &cfg, const Weights &w) : CausalLM(cfg) {
        const std::int64_t D = cfg.hidden_size, F = cfg.intermediate_size, V = cfg.vocab_size,
                           P = cfg.max_position_embeddings;
        if (cfg.hidden_act != "gelu_new" && cfg.hidden_act != "gelu_pytorch_tanh")
            throw ModelFileError("GPT2LMHeadModel: activation_function '" + cfg.hidden_act +
                                 "' is not supported (supported: gelu_new)");
        const std::string pre = w.has("transformer.wte.weight") ? "transformer." : "";
        auto conv1d = [&](const std::string &name, std::int64_t in, std::int64_t out) {
            return w.linear(name + ".weight", out, in, name + ".bias", /*conv1d=*/true);
        };
        wte_ = w.table(pre + "wte.weight", {V, D});
        wpe_ = w.table(pre + "wpe.weight", {P, D});
        for (std::int64_t i = 0; i < cfg.num_hidden_layers; ++i) {
            const std::string p = pre + "h." + std::to_string(i) + ".";
            Block b;
            b.ln1_w = w.get(p + "ln_1.weight", {D});
            b.ln1_b = w.get(p + "ln_1.bias", {D});
            b.attn = conv1d(p + "attn.c_attn", D, 3 * D);
            b.proj = conv1d(p + "attn.c_proj", D, D);
            b.ln2_w = w.get(p + "ln_2.weight", {D});
            b.ln2_b = w.get(p + "ln_2.bias", {D});
            b.fc = conv1d(p + "mlp.c_fc", D, F);
            b.out = conv1d(p + "mlp.c_proj", F, D);
            blocks_.push_back(std::move(b));
        }
        lnf_w_ = w.get(pre + "ln_f.weight", {D});
        lnf_b_ = w.get(pre + "ln_f.bias", {D});
        if (w.has("lm_head.weight") || !cfg.tie_word_embeddings)
            lm_head_ = w.linear("lm_head.weight", V, D);
        else
            lm_head_ = w.tied_linear(wte_);
        dtype_ = w.dtype();
        kv_dtype_ = w.kv_dtype();
        device_ = w.device();
    }

    KVCache make_cache(std::int64_t batch, std::int64_t max_ctx) const override {
        return KVCache::allocate(cfg_.num_hidden_layers, batch, cfg_.num_attention_heads, max_ctx,
                                 cfg_.head_dim,
                                 at::TensorOptions().dtype(kv_dtype_).device(device_));
    }

    at::Tensor forward(const at::Tensor &tokens, const at::Tensor &positions, std::int64_t kv_len,
                       KVCache &cache, bool all_logits) override {
        const std::int64_t B = tokens.size(0), T = tokens.size(1), D = cfg_.hidden_size;
        const std::int64_t H = cfg_.num_attention_heads, hd = cfg_.head_dim;
        const double eps = cfg_.rms_norm_eps; // layer_norm_epsilon
        at::Tensor mask = causal_prefill(T, kv_len, std::nullopt)
                              ? at::Tensor() // a fresh prompt: causal attention, no mask tensor
                              : attention_mask(positions, kv_len, std::nullopt);
        at::Tensor x = (wte_.index_select(0, tokens.reshape({-1})).view({B, T, D}) +
                        wpe_.index_select(0, positions.reshape({-1})).view({B, T, D}))
                           .to(dtype_);
        for (std::size_t i = 0; i < blocks_.size(); ++i) {
            const Block &b = blocks_[i];
            at::Tensor h = at::layer_norm(x, {D}, b.ln1_w, b.ln1_b, eps);
            at::Tensor qkv = b.attn(h);
            at::Tensor q = qkv.narrow(-1, 0, D).view({B, T, H, hd});
            at::Tensor k = qkv.narrow(-1, D, D).view({B, T, H, hd});
            at::Tensor v = qkv.narrow(-1, 2 * D, D).view({B, T, H, hd});
            at::Tensor a = cached_attention(q, k, v, positions, mask, kv_len, cache, (std::int64_t)i);
            b.proj.add_into(a, x); // x = x + proj(a)
            h = at::layer_norm(x, {D}, b.ln2_w, b.ln2_b, eps);
            b.out.add_into(at::gelu(b.fc(h), "tanh"), x);
        }
        if (!all_logits) x = x.narrow(1, T - 1, 1);
        x = at::layer_norm(x, {D}, lnf_w_, lnf_b_, eps);
        return lm_head_(x).to(at::kFloat);
    }

private:
    at::Tensor wte_, wpe_, lnf_w_, lnf_b_;
    Linear lm_head_;
    std::vector<Block> blocks_;
    at::ScalarType dtype_ = at::kFloat, kv_dtype_ = at::kFloat;
    at::Device device_ = at::kCPU;
};

} // namespace

std::unique_ptr<CausalLM> make_gpt2(const ModelConfig &cfg, const Weights &w) {
    return std::make_unique<GPT2>(cfg, w);
}

} // namespace llmhost::engine
