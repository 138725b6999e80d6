#include "manifest_cache.hpp"

#include "environment.hpp"
#include "platform.hpp"

#include <llmhost/plugin.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace llmhost::detail {

namespace {

constexpr int kFormat = 1; // bump when the entry layout changes: older files are then ignored

// A name for the temporary file no other writer (process or thread) picks at the same time.
std::string unique_suffix() {
    static std::atomic<unsigned> counter{0};
    return std::to_string(platform::process_id()) + "." + std::to_string(counter.fetch_add(1));
}

// A cache written by a host of another ABI is ignored: a plugin it loaded may not load here.
std::string host_abi() {
    return std::to_string(LLMH_ABI_MAJOR) + "." + std::to_string(LLMH_ABI_MINOR);
}

std::optional<fs::path> default_location() {
    if (auto dir = env_value("LLMHOST_CACHE_DIR")) {
        if (*dir == "off" || dir->empty()) return std::nullopt;
        return platform::u8path(*dir) / "plugin-manifests.json";
    }
    fs::path cache = platform::user_cache_dir();
    if (cache.empty()) return std::nullopt;
    return cache / "llmhost" / "plugin-manifests.json";
}

// The whole file, or an empty object when it is missing, unreadable, not ours or too large.
json load(const fs::path &file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) > (8u << 20))
        return json::object();
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    json j = json::parse(text.str(), nullptr, false);
    if (!j.is_object() || j.value("format", 0) != kFormat ||
        j.value("host_abi", "") != host_abi() || !j.contains("plugins") ||
        !j["plugins"].is_object())
        return json::object();
    return j;
}

} // namespace

ManifestCache::ManifestCache() : file_(default_location()) {}

json &ManifestCache::entries() {
    if (!loaded_) {
        loaded_ = load(*file_);
        if (loaded_->empty())
            loaded_ =
                json{{"format", kFormat}, {"host_abi", host_abi()}, {"plugins", json::object()}};
    }
    return *loaded_;
}

std::optional<CachedManifest> ManifestCache::find(const std::string &path, std::int64_t mtime_ns,
                                                  std::uintmax_t size) {
    if (!file_) return std::nullopt;
    std::lock_guard lock(mu_);
    json &j = entries();
    auto it = j["plugins"].find(path);
    if (it == j["plugins"].end() || !it->is_object()) return std::nullopt;
    const json &e = *it;
    auto number = [&](const char *k) { return e.contains(k) && e[k].is_number_integer(); };
    if (!number("mtime_ns") || !number("size") || !e.contains("plugin") || !e["plugin"].is_string())
        return std::nullopt;
    if (e["mtime_ns"].get<std::int64_t>() != mtime_ns || e["size"].get<std::uintmax_t>() != size)
        return std::nullopt;
    CachedManifest out{e["plugin"].get<std::string>(), std::nullopt};
    if (e.contains("manifest") && e["manifest"].is_string())
        out.manifest_json = e["manifest"].get<std::string>();
    return out;
}

void ManifestCache::store(const std::string &path, std::int64_t mtime_ns, std::uintmax_t size,
                          const CachedManifest &entry) {
    if (!file_) return;
    std::lock_guard lock(mu_);
    json &j = entries();
    json e = {{"mtime_ns", mtime_ns}, {"size", size}, {"plugin", entry.plugin}};
    if (entry.manifest_json) e["manifest"] = *entry.manifest_json;
    j["plugins"][path] = std::move(e);
    // Drop entries of files that are gone, so the cache does not grow forever.
    for (auto it = j["plugins"].begin(); it != j["plugins"].end();) {
        std::error_code ec;
        if (!fs::exists(it.key(), ec))
            it = j["plugins"].erase(it);
        else
            ++it;
    }
    // Atomic replace: concurrent llmhost processes never read half a file.
    std::error_code ec;
    fs::create_directories(file_->parent_path(), ec);
    fs::path tmp = *file_;
    tmp += ".tmp." + unique_suffix();
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return;
        out << j.dump();
        if (!out.flush()) {
            fs::remove(tmp, ec);
            return;
        }
    }
    fs::rename(tmp, *file_, ec);
    if (ec) fs::remove(tmp, ec);
}

} // namespace llmhost::detail
