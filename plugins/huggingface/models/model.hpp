// The model interface the engine drives, and what every architecture file shares: the static KV
// cache, the weight source, and the attention/normalisation/RoPE building blocks.
//
// Shapes: B = batch rows (= KV-cache rows), T = tokens per row in this call, S = cache positions
// attended to (kv_len), H = query heads, KV = key/value heads (GQA: H = KV * groups), hd = head dim.
// A forward call writes the keys/values of its T tokens into the cache at their absolute
// positions, then attends to cache positions [0, kv_len) under a causal mask built from the
// positions tensor. Because every row carries its own positions, rows can sit at different
// points of their sequences (continuous batching), and because the cache never grows or moves,
// the decode step has static shapes (CUDA graphs) when kv_len is fixed to the cache length.
#pragma once

#include "linear.hpp"

#include <llmhost/engine/model_config.hpp>
#include <llmhost/engine/safetensors.hpp>

#include <ATen/ATen.h>
#include <torch/version.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmhost::engine {

// Preallocated (static) KV cache: per layer, keys and values of shape [B, KV, max_ctx, hd].
struct KVCache {
    std::vector<at::Tensor> k, v;
    std::int64_t batch = 0, max_ctx = 0;

    static KVCache allocate(std::int64_t layers, std::int64_t batch, std::int64_t kv_heads,
                            std::int64_t max_ctx, std::int64_t head_dim, const at::TensorOptions &o);
    std::size_t bytes() const;
    // Rows [first, first + n) as a cache of their own: views, no copy (writes land in this one).
    // The batch scheduler gives each sequence one row (a slot) and runs a step over a row range.
    KVCache rows(std::int64_t first, std::int64_t n) const;
};

// KVCache::rows() made once per row range and kept, for the callers that run a step every few
// milliseconds: a view per layer's K and V is ~20 libtorch ops a step (16-23 µs for 10 layers,
// 1-2 % of a CPU decode step at 2 threads), and the cache never moves. Holds at most one entry
// per (first, n); not thread-safe (one per calling thread).
class KVCacheRows {
public:
    explicit KVCacheRows(const KVCache &cache) : cache_(cache) {}
    KVCache &operator()(std::int64_t first, std::int64_t n);

private:
    const KVCache &cache_;
    std::map<std::pair<std::int64_t, std::int64_t>, KVCache> views_;
};

// Weight-only quantization of the projections (CPU): int8 or int4 with grouped scales, made at
// load from the checkpoint (llmhost/kernels/linear.hpp has the formats).
enum class WeightQuant { None, Int8, Int4 };

// Where the CPU kernels take the projections (Weights::linear) and the KV cache's dtype: stated
// once here for the loaded model and for the engine's memory estimate made from the headers.
// Projections are packed for the kernels on the CPU in bfloat16, int8 and int4, else dense.
inline bool packs_projections(at::Device device, at::ScalarType dtype, WeightQuant quant) {
    return device.is_cpu() && (quant != WeightQuant::None || dtype == at::kBFloat16);
}
// The compute dtype, except bfloat16 for int8/int4 on the CPU (their activations are fp32; a bf16
// cache halves what attention reads, as llama.cpp's f16 cache).
inline at::ScalarType kv_cache_dtype(at::Device device, at::ScalarType dtype, WeightQuant quant) {
    return quant != WeightQuant::None && device.is_cpu() ? at::kBFloat16 : dtype;
}

// Where the model code takes its weights from: a checkpoint, placed on the target device in the
// target dtype. On CPU, a tensor whose file dtype already matches is a view of the mmap (no
// copy); otherwise it is converted once.
class Weights {
public:
    Weights(const SafetensorsCheckpoint &ckpt, at::Device device, at::ScalarType dtype,
            WeightQuant quant = WeightQuant::None);
    bool has(const std::string &name) const { return ckpt_.contains(name); }
    // Throws ModelFileError naming the tensor when absent or when its shape is not `shape`.
    at::Tensor get(const std::string &name, std::vector<std::int64_t> shape) const;
    // A projection [out, in] and its optional bias (empty name: none), dense or packed for the
    // CPU kernels (linear.hpp). conv1d: the file stores [in, out] (GPT-2's Conv1D).
    Linear linear(const std::string &name, std::int64_t out, std::int64_t in,
                  const std::string &bias_name = {}, bool conv1d = false) const;
    // An embedding table: get(), except that quantized CPU models keep it in the file's dtype
    // (rows are converted as they are gathered: callers write `table.index_select(..).to(dtype)`).
    at::Tensor table(const std::string &name, std::vector<std::int64_t> shape) const;
    // lm_head tied to an embedding table: the same tensor when dense, else a packed copy of it.
    Linear tied_linear(const at::Tensor &weight) const;
    std::optional<at::Tensor> get_optional(const std::string &name,
                                           std::vector<std::int64_t> shape) const;
    at::Device device() const { return device_; }
    at::ScalarType dtype() const { return dtype_; }
    WeightQuant quant() const { return quant_; }
    std::size_t loaded_bytes() const { return loaded_bytes_; } // as placed on the device
    bool all_views() const { return all_views_; } // every tensor so far views the mmap
    at::ScalarType kv_dtype() const { return kv_cache_dtype(device_, dtype_, quant_); }

private:
    at::Tensor view(const std::string &name, const std::vector<std::int64_t> &shape) const;
    Linear pack(at::Tensor w, at::Tensor bias) const;
    bool packs() const { return packs_projections(device_, dtype_, quant_); }

    const SafetensorsCheckpoint &ckpt_;
    // Where the packed matrices go: side by side on huge pages (weight_arena.hpp), null when
    // nothing is packed. Each matrix holds it alive.
    std::shared_ptr<kernels::WeightArena> arena_;
    mutable std::size_t loaded_bytes_ = 0;
    mutable bool all_views_ = true;
    at::Device device_;
    at::ScalarType dtype_;
    WeightQuant quant_;
};

class CausalLM {
public:
    virtual ~CausalLM() = default;
    // tokens, positions: [B, T] int64 on the model's device. Returns fp32 logits [B, T, V], or
    // [B, 1, V] for the last token of each row only when all_logits is false.
    virtual at::Tensor forward(const at::Tensor &tokens, const at::Tensor &positions,
                               std::int64_t kv_len, KVCache &cache, bool all_logits) = 0;
    virtual KVCache make_cache(std::int64_t batch, std::int64_t max_ctx) const = 0;
    const ModelConfig &config() const { return cfg_; }

protected:
    explicit CausalLM(ModelConfig cfg) : cfg_(std::move(cfg)) {}
    ModelConfig cfg_;
};

// Architectures by their config.json name; unknown ones are refused naming the supported list.
// max_context: the longest sequence the caller will run (sizes position tables).
std::unique_ptr<CausalLM> make_model(const ModelConfig &cfg, const Weights &w,
                                     std::int64_t max_context);
const std::vector<std::string> &supported_architectures();
// Throws llmh::Error(unsupported) naming `architecture` and the supported list.
void require_supported_architecture(const std::string &architecture);

// One factory per architecture family file.
std::unique_ptr<CausalLM> make_llama_family(const ModelConfig &cfg, const Weights &w,
                                            std::int64_t max_context);
std::unique_ptr<CausalLM> make_gpt2(const ModelConfig &cfg, const Weights &w);

// ---- building blocks (layers.cpp) ----------------------------------------------------------

// RMSNorm as transformers computes it: in fp32, cast back, then scaled by the weight.
at::Tensor rms_norm(const at::Tensor &x, const at::Tensor &weight, double eps);
// silu(gate) * up (the Llama family's MLP).
at::Tensor swiglu(const at::Tensor &gate, const at::Tensor &up);

// Boolean mask [B, 1, T, S]: true where query (b, t) may attend to cache position s.
at::Tensor attention_mask(const at::Tensor &positions, std::int64_t kv_len,
                          std::optional<std::int64_t> sliding_window);
// Whether a forward call's mask is the plain causal one of a fresh prompt, so that attention
// may run as is_causal (flash attention on CUDA) with no mask tensor: T tokens attending to
// kv_len = T positions. Every caller runs tokens at consecutive positions ending at kv_len - 1
// (kv_len = start + T), so T == kv_len means positions 0 .. T - 1 in each row; a sliding window
// would cut it.
// Torch 1.x has no SDPA: there the mask is always built by the model (once, not per layer).
inline bool causal_prefill(std::int64_t T, std::int64_t kv_len,
                           std::optional<std::int64_t> sliding_window) {
#if TORCH_VERSION_MAJOR >= 2
    return T > 1 && T == kv_len && !sliding_window;
#else
    (void)T, (void)kv_len, (void)sliding_window;
    return false;
#endif
}

// Writes k, v ([B, T, KV, hd]) into layer `layer` of the cache at `positions`, then attends
// q ([B, T, H, hd]) to cache positions [0, kv_len). Returns [B, T, H * hd]. k and v undefined: this
// call's keys and values are in the cache already (device_rope_cache.hpp wrote them). An undefined
// `mask` means causal_prefill(): plain causal attention (SDPA's is_causal on torch 2; elsewhere the
// mask is built here).
at::Tensor cached_attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                            const at::Tensor &positions, const at::Tensor &mask,
                            std::int64_t kv_len, KVCache &cache, std::int64_t layer);

// Rotary embedding tables cos/sin [max_positions, hd] in the rotate-half layout of
// transformers (and its rope_scaling variants default, linear, llama3).
struct RopeTables {
    at::Tensor cos, sin; // sin: on the CPU only (its decode ops read it)
    // sin with its first half negated: rotate_half(x) * sin == x.roll(hd / 2) * sin_signed, bit
    // for bit (a sign flip is exact), in one roll instead of a negation and a concatenation.
    at::Tensor sin_signed;
    static RopeTables build(const ModelConfig &cfg, std::int64_t max_positions, at::Device device,
                            at::ScalarType dtype);

    // One forward call's rows of the tables, [B, T, 1, hd]: picked once, used by every layer.
    struct Rows {
        at::Tensor cos, sin_signed;
    };
    Rows rows(const at::Tensor &positions) const;

    // x: [B, T, heads, hd] -> rotated, positions [B, T]; `rows` (this call's, or null: picked
    // here) serves the libtorch path, which the CPU's decode-sized calls do not take.
    at::Tensor apply(const at::Tensor &x, const at::Tensor &positions,
                     const Rows *rows = nullptr) const;
    // q [B, T, H, hd] and k [B, T, KV, hd] rotated together when k's heads follow q's in one
    // buffer (a fused q/k/v projection's output): one set of element-wise kernels for both,
    // which on a GPU's decode step is what costs, not the arithmetic.
    std::pair<at::Tensor, at::Tensor> apply_qk(const at::Tensor &q, const at::Tensor &k,
                                               const at::Tensor &positions, const Rows &rows) const;
};

} // namespace llmhost::engine
