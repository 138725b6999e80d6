// Tiny random-weight models in the real Hugging Face on-disk formats, for tests and benchmarks.
//
// A TinyModelSpec (architecture, sizes, seed) fully determines the weights: each tensor's values
// come from its own stream seeded by (seed, tensor name), drawn uniformly with a standard
// deviation suited to its role, in integer arithmetic only, so every machine writes the same bits.
// Written: config.json, generation_config.json, model.safetensors (or N shards + index), and,
// when a tokenizer directory is given, its tokenizer.json / tokenizer_config.json (the model's
// vocabulary is then the tokenizer's). Also exports llama2.c checkpoints (legacy format) of
// the same weights, for cross-checking the Llama path against karpathy/llama2.c's run.c.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::tools {

struct TinyModelSpec {
    std::string arch = "llama";        // llama | mistral | qwen2 | qwen3 | gpt2
    std::uint64_t seed = 1;
    std::int64_t vocab_size = 512;     // replaced by the tokenizer's when tokenizer_dir is set
    std::int64_t hidden_size = 64;
    std::int64_t intermediate_size = 128;
    std::int64_t num_layers = 2;
    std::int64_t num_heads = 4;
    std::int64_t num_kv_heads = 2;     // GQA when < num_heads (gpt2: ignored)
    std::int64_t head_dim = 0;         // 0: hidden_size / num_heads
    std::int64_t max_position_embeddings = 256;
    double rms_norm_eps = 1e-5;
    double rope_theta = 10000.0;
    std::string rope_scaling;          // "" or "llama3"
    std::optional<std::int64_t> sliding_window; // mistral
    bool tie_word_embeddings = false;
    // Multiplies an untied lm_head's init: how peaked the next-token distributions are (1: logits
    // of std ~1, near uniform; ~4-6: entropies like a trained model's, for quantization quality).
    double head_scale = 1.0;
    std::string dtype = "F32";         // F32 | BF16 | F16 (file dtype)
    int shards = 1;                    // > 1: model-0000k-of-0000n.safetensors + index
    std::optional<std::filesystem::path> tokenizer_dir; // copy tokenizer files from here
    std::vector<std::int64_t> eos_token_ids = {2};      // replaced from the tokenizer when given
    std::int64_t bos_token_id = 1;

    nlohmann::json to_json() const;
    static TinyModelSpec from_json(const nlohmann::json &j);
};

struct TinyTensor {
    std::string name;
    std::vector<std::int64_t> shape;
    std::vector<float> values; // as stored (already rounded to the file dtype)
};

// The spec after tokenizer-derived fields (vocab, bos, eos) are filled in.
TinyModelSpec resolve_spec(TinyModelSpec spec);
// All tensors of the model, in transformers' names and shapes. Deterministic.
std::vector<TinyTensor> make_weights(const TinyModelSpec &resolved);
// Writes the model directory; returns the resolved spec.
TinyModelSpec write_model_dir(const TinyModelSpec &spec, const std::filesystem::path &dir);
// Writes a safetensors file with the given tensors in dtype F32 | BF16 | F16.
void write_safetensors(const std::filesystem::path &file, const std::vector<const TinyTensor *> &ts,
                       const std::string &dtype);
// Writes the same weights as a llama2.c legacy checkpoint (llama arch, F32, head_dim*heads ==
// hidden). q/k rows are permuted from transformers' rotate-half layout to llama2.c's
// interleaved one (the inverse of the permutation in transformers' convert_llama_weights_to_hf).
void write_llama2c_checkpoint(const TinyModelSpec &resolved, const std::vector<TinyTensor> &w,
                              const std::filesystem::path &file);

float round_to_dtype(float v, const std::string &dtype);
// bf16 bits from a float, rounding to nearest even (NaN: the canonical 0x7fc0), and back.
std::uint16_t float_to_bf16(float f);
float bf16_to_float(std::uint16_t b);

} // namespace llmhost::tools
