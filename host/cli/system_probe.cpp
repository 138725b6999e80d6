#include "system_probe.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
        info.path = (fs::path(env("HOME").value_or("/")) / ".cache" / "huggingface" / "hub").string();
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
                while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
                if (!line.empty()) g.smi_list.push_back(line);
            }
            ::pclose(p);
        }
    }
    return g;
}

} // namespace llmhost::cli
