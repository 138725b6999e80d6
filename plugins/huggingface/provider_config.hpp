// The huggingface provider's configuration: the "config" object of the provider in llmhost.json,
// after the host has applied the environment bridge (HF_MODEL_PATH -> model_path, HF_DEVICE ->
// device, HF_ENDPOINT -> endpoint, HF_HUB_CACHE/HF_HOME -> cache_dir, HF_HUB_OFFLINE -> offline).
// The token never travels here: the provider asks the host for the secret "token".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llmhost::hf {

struct ProviderConfig {
    std::string model_path;     // a local model directory (HF_MODEL_PATH)
    std::string model;          // a repo id ("org/name") or a directory
    std::string revision = "main";
    std::string device = "auto";  // auto | cpu | cuda | cuda:N
    std::string dtype = "auto";   // auto | float32 | bfloat16 | float16
    std::string endpoint = "https://huggingface.co";
    std::string cache_dir;      // the hub cache; empty: resolution of repo ids is refused
    bool offline = false;
    std::int64_t max_context = 0;  // KV-cache length; 0: min(max_position_embeddings, 4096)
    std::int64_t max_tokens = 512; // default when a request gives none (capped at the context)
    int threads = 0;               // CPU threads; 0: libtorch's default
    std::int64_t max_batch = 0;    // concurrent sequences (KV slots); 0: 8 CUDA / 4 CPU; 1: serial
    bool load_on_create = true;    // load the configured model when the provider is created
    bool prefix_cache = true;      // reuse a KV-cache row's matching prompt prefix (engine.hpp)
    // Several models stay loaded (an LRU, model_registry.hpp), as Ollama's
    // OLLAMA_MAX_LOADED_MODELS / keep_alive. Idle least-recently-used models are unloaded to
    // make room; a model with requests in flight never is.
    std::int64_t max_loaded_models = 3;  // Ollama's CPU default; 1 = one model at a time
    std::uint64_t max_loaded_memory = 0; // bytes (weights + KV caches); 0: no limit.
                                         // Config "auto" (default) = 3/4 of physical RAM
    double keep_alive_s = -1;            // idle seconds before unloading; < 0: never, 0: at once.
                                         // The configured default model is exempt
    // Hub client limits by config key (download_timeout, min_download_speed, max_retry_after, ...:
    // docs/huggingface-token.md §6), applied with hub::set_client_option when a repo is downloaded.
    std::vector<std::pair<std::string, double>> hub_limits;

    // The model to serve when a request names none: model_path wins over model.
    std::string default_model() const { return !model_path.empty() ? model_path : model; }
};

// Parses the JSON text; a wrong type is an llmh::Error(invalid_argument) naming the key.
ProviderConfig parse_provider_config(const std::string &json_text);

// "auto" -> 3/4 of physical RAM; a number of bytes, or with a unit: "16GiB", "16G", "16GB"
// (G/GiB: 2^30, GB: 10^9; K, M, T alike); 0: no limit. Throws std::invalid_argument.
std::uint64_t parse_memory_size(const std::string &text);
// Seconds: a number, or Ollama's forms "30s", "5m", "1h"; negative: forever.
double parse_duration_s(const std::string &text);

} // namespace llmhost::hf
