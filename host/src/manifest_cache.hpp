// An on-disk cache of plugin manifests, so that resolving the configuration does not dlopen every
// plugin in the search path on every start (the huggingface plugin pulls in libtorch: ~1 s and
// ~150 MB for a command that may only talk to an OpenAI endpoint). Keyed like Python's .pyc files:
// a file's path, modification time and size; any change and the plugin is loaded again.
//
// Location: $LLMHOST_CACHE_DIR, else $XDG_CACHE_HOME/llmhost, else $HOME/.cache/llmhost
// (plugin-manifests.json). LLMHOST_CACHE_DIR=off disables it. Failures to read or write are never
// errors: the cache only saves time. Plugins that failed to load are not cached, so their error
// shows every time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace llmhost::detail {

struct CachedManifest {
    std::string plugin;                       // descriptor name
    std::optional<std::string> manifest_json; // nullopt: the plugin has no manifest
};

class ManifestCache {
public:
    // Uses the location from the environment (see above); none when it cannot be determined.
    ManifestCache();
    explicit ManifestCache(std::optional<std::filesystem::path> file) : file_(std::move(file)) {}

    std::optional<CachedManifest> find(const std::string &path, std::int64_t mtime_ns,
                                       std::uintmax_t size);
    void store(const std::string &path, std::int64_t mtime_ns, std::uintmax_t size,
               const CachedManifest &entry);
    const std::optional<std::filesystem::path> &file() const { return file_; }

private:
    // The file's entries, read once per process (a start describes every plugin file).
    nlohmann::json &entries();

    std::optional<std::filesystem::path> file_;
    std::mutex mu_;
    std::optional<nlohmann::json> loaded_;
};

} // namespace llmhost::detail
