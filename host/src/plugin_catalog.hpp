// Plugin discovery: which directories are searched, which files in them are plugins, and
// finding a plugin by name. Loaded libraries are cached weakly: a file stays loaded exactly as
// long as something (a provider instance, a scan in progress) holds it.
#pragma once

#include "manifest_cache.hpp"
#include "plugin_library.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace llmhost::detail {

// The default search path after HostOptions::plugin_dirs and the config's plugin_dirs:
// $LLMHOST_PLUGIN_PATH, <dir of the executable>/../lib/llmhost/plugins,
// <dir of libllmhost.so>/llmhost/plugins, <install prefix>/lib/llmhost/plugins.
std::vector<std::string> default_plugin_dirs();

// The whole search path: options.plugin_dirs, the config's plugin_dirs, then the default ones
// (unless options.search_default_plugin_dirs is false).
std::vector<std::string> plugin_search_dirs(const HostOptions &options,
                                            const std::vector<std::string> &config_dirs);

// A plugin's manifest, found without creating an instance.
struct PluginManifest {
    std::string plugin; // descriptor name
    std::string path;
    std::shared_ptr<const Manifest> manifest;
};

class PluginCatalog {
public:
    explicit PluginCatalog(std::shared_ptr<HostCore> core) : core_(std::move(core)) {}

    void set_dirs(std::vector<std::string> dirs);
    std::vector<std::string> dirs() const;

    // Loads every plugin file found (libllmhost_*.so) and reports each.
    std::vector<PluginInfo> scan();

    // The plugin named `name_or_path` (a name from a descriptor, or a file path), loaded.
    // Throws HostError naming what was searched and why candidates failed.
    std::shared_ptr<PluginLibrary> acquire(const std::string &name_or_path);

    // The manifest of the plugin `name_or_path` looked up in `dirs` (not the catalog's own dirs:
    // the configuration being resolved may name others). nullopt when no loadable plugin has
    // that name; a plugin without a manifest gives one with a null `manifest`.
    std::optional<PluginManifest> manifest(const std::string &name_or_path,
                                           const std::vector<std::string> &dirs);
    // The plugins in `dirs` whose manifest says they come up from the environment alone (the
    // first file of each plugin name).
    std::vector<PluginManifest> environment_plugins(const std::vector<std::string> &dirs);

private:
    struct Described {
        std::filesystem::file_time_type mtime;
        std::uintmax_t size = 0;
        std::optional<PluginManifest> plugin; // nullopt: the file failed to load
    };
    std::shared_ptr<PluginLibrary> open(const std::string &path, PluginInfo &info);
    std::vector<std::string> plugin_files() const { return plugin_files(dirs()); }
    static std::vector<std::string> plugin_files(const std::vector<std::string> &dirs);
    // The file's name and manifest, cached by path, modification time and size: resolving the
    // configuration again (reload) does not load every plugin again.
    std::optional<PluginManifest> describe(const std::string &path);

    std::shared_ptr<HostCore> core_;
    mutable std::mutex mu_;
    std::vector<std::string> dirs_;
    std::map<std::string, std::weak_ptr<PluginLibrary>> loaded_;
    std::map<std::string, Described> described_;
    ManifestCache disk_; // across processes: see manifest_cache.hpp
};

} // namespace llmhost::detail
