// Facts about this machine that `llmhost doctor` reports, gathered without loading any plugin
// (and without libtorch): where the Hugging Face cache is and how much room it has, and whether
// an NVIDIA GPU is visible to this process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::cli {

struct CacheDirInfo {
    std::string path;       // the Hub cache directory huggingface_hub would use
    std::string source;     // which variable decided it ("HF_HUB_CACHE", "HF_HOME", "default")
    bool exists = false;
    std::string checked;    // the nearest existing ancestor whose filesystem was measured
    std::optional<uint64_t> free_bytes;
};

// `path` (from `source`) when given: the huggingface provider's resolved cache_dir, as the
// plugin gets it. Else (no such provider, the plugin not installed) HF_HUB_CACHE > HF_HOME/hub >
// XDG_CACHE_HOME/huggingface/hub > ~/.cache/huggingface/hub, the order huggingface_hub uses.
CacheDirInfo probe_hf_cache_dir(const std::string &path = {}, const std::string &source = {});

struct GpuInfo {
    bool driver_loaded = false;        // /proc/driver/nvidia/version exists
    std::string driver_version;        // its first line, when readable
    std::vector<std::string> devices;  // /dev/nvidia0, /dev/nvidia1, ...
    std::vector<std::string> smi_list; // `nvidia-smi -L` lines, when nvidia-smi is on PATH
    std::optional<std::string> cuda_visible_devices; // the variable, when set
    bool visible() const;              // a CUDA device is usable by this process
};

GpuInfo probe_gpu();

} // namespace llmhost::cli
