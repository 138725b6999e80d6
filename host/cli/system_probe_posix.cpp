// The system probes that only make sense on Linux: the NVIDIA driver's /proc and /dev entries,
// nvidia-smi, and the libblas.so.3 the loader resolves (system_probe.hpp).
#include "system_probe.hpp"

#include "environment.hpp"

#include <array>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <link.h>

namespace fs = std::filesystem;

namespace llmhost::cli {

namespace {
bool on_path(const std::string &program) {
    auto path = detail::env_value("PATH");
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
