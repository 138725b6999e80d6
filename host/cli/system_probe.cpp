#include "system_probe.hpp"

#include "environment.hpp"
#include "platform.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace fs = std::filesystem;

namespace llmhost::cli {

using detail::env_value;

CacheDirInfo probe_hf_cache_dir(const std::string &path, const std::string &source) {
    CacheDirInfo info;
    if (!path.empty()) {
        info.path = path;
        info.source = source;
    } else if (auto v = env_value("HF_HUB_CACHE")) {
        info.path = *v;
        info.source = "HF_HUB_CACHE";
    } else if (auto h = env_value("HF_HOME")) {
        info.path = detail::platform::to_utf8(detail::platform::u8path(*h) / "hub");
        info.source = "HF_HOME";
    } else if (auto x = env_value("XDG_CACHE_HOME")) {
        info.path = detail::platform::to_utf8(detail::platform::u8path(*x) / "huggingface" / "hub");
        info.source = "XDG_CACHE_HOME";
    } else {
        // huggingface_hub's default on every platform: Path.home() / ".cache" (%USERPROFILE% on
        // Windows, where it does not use %LOCALAPPDATA%).
        std::string home = detail::platform::home_dir();
        info.path = detail::platform::to_utf8(detail::platform::u8path(home.empty() ? "/" : home) /
                                              ".cache" / "huggingface" / "hub");
        info.source = "default";
    }
    std::error_code ec;
    const fs::path cache = detail::platform::u8path(info.path);
    info.exists = fs::is_directory(cache, ec);
    // Measure the filesystem the cache is (or will be) on: the nearest existing ancestor.
    fs::path p = fs::absolute(cache, ec);
    while (!p.empty() && !fs::exists(p, ec) && p != p.root_path()) p = p.parent_path();
    info.checked = detail::platform::to_utf8(p);
    if (!p.empty()) {
        fs::space_info space = fs::space(p, ec);
        if (!ec) info.free_bytes = static_cast<uint64_t>(space.available);
    }
    return info;
}

bool GpuInfo::visible() const {
    if (cuda_visible_devices && (*cuda_visible_devices == "-1" || cuda_visible_devices->empty()))
        return false;
    return driver_loaded && (!devices.empty() || !smi_list.empty());
}

void classify_blas(BlasInfo &info, bool openblas_symbol, bool mkl_symbol, bool blis_symbol) {
    std::string p = info.library;
    std::transform(p.begin(), p.end(), p.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string file = p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
    info.reference = false;
    // The library's own entry points first; then its directory (Debian installs each
    // implementation in its own: openblas-pthread/, blis-openmp/, atlas/, and blas/ for netlib).
    if (openblas_symbol || p.find("openblas") != std::string::npos)
        info.kind = "OpenBLAS";
    else if (mkl_symbol || p.find("mkl") != std::string::npos)
        info.kind = "Intel MKL";
    else if (blis_symbol || p.find("blis") != std::string::npos)
        info.kind = "BLIS";
    else if (p.find("atlas") != std::string::npos)
        info.kind = "ATLAS";
    else if (file.rfind("libblas.so", 0) == 0 || file.rfind("libblas64.so", 0) == 0 ||
             file.rfind("librefblas", 0) == 0) {
        info.kind = "reference BLAS (netlib)";
        info.reference = true;
    } else
        info.kind = "unrecognised BLAS";
}

} // namespace llmhost::cli
