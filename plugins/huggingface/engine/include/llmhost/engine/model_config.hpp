// config.json and generation_config.json of a Hugging Face model directory, normalised into one
// struct the model code reads. Field names follow transformers; GPT-2's own names (n_embd,
// n_layer, n_head, n_positions, layer_norm_epsilon) are mapped onto the common ones.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::engine {

struct RopeScaling {
    std::string type;                 // "" (none), "llama3", "linear"
    double factor = 1.0;
    double low_freq_factor = 1.0;     // llama3
    double high_freq_factor = 4.0;    // llama3
    double original_max_position_embeddings = 8192; // llama3
};

struct ModelConfig {
    std::string architecture;         // architectures[0], e.g. "LlamaForCausalLM"
    std::string model_type;           // "llama", "qwen2", "gpt2", ...
    std::int64_t vocab_size = 0;
    std::int64_t hidden_size = 0;
    std::int64_t intermediate_size = 0;
    std::int64_t num_hidden_layers = 0;
    std::int64_t num_attention_heads = 0;
    std::int64_t num_key_value_heads = 0; // = num_attention_heads when absent (no GQA)
    std::int64_t head_dim = 0;            // = hidden_size / num_attention_heads when absent
    std::int64_t max_position_embeddings = 2048;
    double rms_norm_eps = 1e-6;           // also GPT-2's layer_norm_epsilon
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    bool tie_word_embeddings = false;
    bool attention_bias = false;          // Llama's attention_bias; Qwen2 always has qkv bias
    std::optional<std::int64_t> sliding_window; // Mistral (and Qwen2 with use_sliding_window)
    std::string hidden_act = "silu";
    std::string torch_dtype;              // as saved ("float32", "bfloat16", ...), informative
    std::vector<std::int64_t> eos_token_ids; // from config.json (generation_config wins)
    std::optional<std::int64_t> bos_token_id;
};

// Defaults for sampling from generation_config.json; absent fields stay unset.
struct GenerationDefaults {
    std::vector<std::int64_t> eos_token_ids; // int or list in the file
    std::optional<std::int64_t> bos_token_id;
    std::optional<bool> do_sample;
    std::optional<double> temperature, top_p, min_p, repetition_penalty;
    std::optional<std::int64_t> top_k, max_new_tokens;
};

// Reads dir/config.json; throws ModelFileError naming the file and the field on bad input.
ModelConfig load_model_config(const std::filesystem::path &dir);
// Reads dir/generation_config.json; an absent file gives empty defaults.
GenerationDefaults load_generation_defaults(const std::filesystem::path &dir);

} // namespace llmhost::engine
