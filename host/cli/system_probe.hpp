// Facts about this machine that `llmhost doctor` reports, gathered without loading any plugin
// (and without libtorch): where the Hugging Face cache is and how much room it has, whether
// an NVIDIA GPU is visible to this process, and which BLAS the system's libblas.so.3 is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::cli {

struct CacheDirInfo {
    std::string path;   // the Hub cache directory huggingface_hub would use
    std::string source; // which variable decided it ("HF_HUB_CACHE", "HF_HOME", "default")
    bool exists = false;
    std::string checked; // the nearest existing ancestor whose filesystem was measured
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
    std::string not_probed; // why nothing was looked at on this platform (empty: probed)
    bool visible() const;                            // a CUDA device is usable by this process
};

// system_probe_posix.cpp; on Windows (system_probe_windows.cpp) it says why it does not look.
GpuInfo probe_gpu();

// The BLAS a program linked against `soname` gets (Debian's libtorch is linked against
// libblas.so.3, which the alternatives system points at the reference netlib BLAS unless an
// optimized one is installed). Loaded RTLD_LOCAL through the loader's own search, so
// LD_LIBRARY_PATH and the alternatives symlink are followed exactly as for that program.
struct BlasInfo {
    std::string soname;
    bool found = false;  // the loader found it and it exports sgemm_
    std::string library; // the real file behind it
    std::string kind;    // "OpenBLAS", "BLIS", "Intel MKL", "ATLAS", "reference BLAS (netlib)", ...
    bool reference = false; // the slow one: the doctor warns
    std::string detail; // the library's own description (openblas_get_config...), when it has one
    std::string not_probed; // why nothing was looked at on this platform (empty: probed)
};

BlasInfo probe_blas(const std::string &soname = "libblas.so.3");

// The classification probe_blas uses, on a real path and which self-describing entry points the
// library exports (openblas_get_config, MKL_Get_Version_String, bli_info_get_version_str).
// Sets kind and reference.
void classify_blas(BlasInfo &info, bool openblas_symbol, bool mkl_symbol, bool blis_symbol);

// The fix printed with the reference-BLAS warning.
inline constexpr const char *kReferenceBlasFix =
    "fp32 matmuls run on the reference BLAS (~15x slower prefill): apt-get install "
    "libopenblas0-pthread";

} // namespace llmhost::cli
