// The huggingface provider's configuration: the "config" object of the provider in llmhost.json,
// after the host has applied the environment bridge (HF_MODEL_PATH -> model_path, HF_DEVICE ->
// device, HF_ENDPOINT -> endpoint, HF_HUB_CACHE/HF_HOME -> cache_dir, HF_HUB_OFFLINE -> offline).
// The token never travels here: the provider asks the host for the secret "token".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

    // The model to serve when a request names none: model_path wins over model.
    std::string default_model() const { return !model_path.empty() ? model_path : model; }
};

// Parses the JSON text; a wrong type is an llmh::Error(invalid_argument) naming the key.
ProviderConfig parse_provider_config(const std::string &json_text);

} // namespace llmhost::hf
