#include "system_probe.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <link.h>
#include <sys/statvfs.h>

namespace fs = std::filesystem;

namespace llmhost::cli {

namespace {
std::optional<std::string> env(const char *name) {
    const char *v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

bool on_path(const std::string &program) {
    auto path = env("PATH");
    if (!path) return false;
    size_t start = 0;
    while (start <= path->size()) {
        size_t end = path->find(':', start);
        if (end == std::string::npos) end = path->size();
        std::string dir = path->substr(start, end - start);
        std::error_code ec;
        if (!dir.empty() && fs::is_regular_file(fs::path(dir) / program, ec)) return true;
        start = end + 1;
    }
    return false;
}
} // namespace

CacheDirInfo probe_hf_cache_dir(const std::string &path, const std::string &source) {
    CacheDirInfo info;
    if (!path.empty()) {
        info.path = path;
        info.source = source;
    } else if (auto v = env("HF_HUB_CACHE")) {
        info.path = *v;
        info.source = "HF_HUB_CACHE";
    } else if (auto h = env("HF_HOME")) {
        info.path = (fs::path(*h) / "hub").string();
        info.source = "HF_HOME";
    } else if (auto x = env("XDG_CACHE_HOME")) {
        info.path = (fs::path(*x) / "huggingface" / "hub").string();
        info.source = "XDG_CACHE_HOME";
    } else {
        info.path =
            (fs::path(env("HOME").value_or("/")) / ".cache" / "huggingface" / "hub").string();
        info.source = "default";
    }
    std::error_code ec;
    info.exists = fs::is_directory(info.path, ec);
    // Measure the filesystem the cache is (or will be) on: the nearest existing ancestor.
    fs::path p = fs::absolute(info.path, ec);
    while (!p.empty() && !fs::exists(p, ec) && p != p.root_path()) p = p.parent_path();
    info.checked = p.string();
    struct statvfs st {};
    if (!p.empty() && ::statvfs(p.c_str(), &st) == 0)
        info.free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    return info;
}

bool GpuInfo::visible() const {
    if (cuda_visible_devices && (*cuda_visible_devices == "-1" || cuda_visible_devices->empty()))
        return false;
    return driver_loaded && (!devices.empty() || !smi_list.empty());
}

GpuInfo probe_gpu() {
    GpuInfo g;
    std::error_code ec;
    if (fs::exists("/proc/driver/nvidia/version", ec)) {
        g.driver_loaded = true;
        std::ifstream in("/proc/driver/nvidia/version");
        std::getline(in, g.driver_version);
    }
    for (int i = 0; i < 64; ++i) {
        std::string dev = "/dev/nvidia" + std::to_string(i);
        if (fs::exists(dev, ec)) g.devices.push_back(dev);
    }
    if (const char *v = std::getenv("CUDA_VISIBLE_DEVICES")) g.cuda_visible_devices = v;
    if (on_path("nvidia-smi")) {
        // Bounded: a wedged driver can make nvidia-smi hang; `timeout` is in coreutils.
        const char *cmd = on_path("timeout") ? "timeout 10 nvidia-smi -L 2>/dev/null"
                                             : "nvidia-smi -L 2>/dev/null";
        if (FILE *p = ::popen(cmd, "r")) {
            std::array<char, 512> buf{};
            while (std::fgets(buf.data(), buf.size(), p)) {
                std::string line(buf.data());
                while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
                    line.pop_back();
                if (!line.empty()) g.smi_list.push_back(line);
            }
            ::pclose(p);
        }
    }
    return g;
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

BlasInfo probe_blas(const std::string &soname) {
    BlasInfo info;
    info.soname = soname;
    void *h = ::dlopen(soname.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (!h) return info;
    if (::dlsym(h, "sgemm_")) {
        info.found = true;
        const link_map *lm = nullptr;
        std::string file = soname;
        if (::dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && *lm->l_name)
            file = lm->l_name;
        char real[PATH_MAX];
        info.library = ::realpath(file.c_str(), real) ? real : file;
        // dlsym on the handle also searches the library's dependencies: Debian's
        // openblas-pthread/libblas.so.3 is a wrapper around libopenblas.so.0.
        using cstr_fn = const char *(*)();
        auto openblas = reinterpret_cast<cstr_fn>(::dlsym(h, "openblas_get_config"));
        auto mkl = reinterpret_cast<void (*)(char *, int)>(::dlsym(h, "MKL_Get_Version_String"));
        auto blis = reinterpret_cast<cstr_fn>(::dlsym(h, "bli_info_get_version_str"));
        if (openblas && openblas()) info.detail = openblas();
        if (mkl) {
            char buf[256] = {};
            mkl(buf, sizeof buf - 1);
            info.detail = buf;
        }
        if (blis && blis()) info.detail = std::string("BLIS ") + blis();
        classify_blas(info, openblas != nullptr, mkl != nullptr, blis != nullptr);
    }
    // Not dlclose'd: loading OpenBLAS started its thread pool, and unloading a library under its
    // own threads is how processes crash at exit. The doctor exits soon anyway.
    return info;
}

} // namespace llmhost::cli
