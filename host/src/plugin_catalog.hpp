// Plugin discovery: which directories are searched, which files in them are plugins, and
// finding a plugin by name. Loaded libraries are cached weakly: a file stays loaded exactly as
// long as something (a provider instance, a scan in progress) holds it.
#pragma once

#include "plugin_library.hpp"

#include <map>
#include <mutex>
#include <vector>

namespace llmhost::detail {

// The default search path after HostOptions::plugin_dirs and the config's plugin_dirs:
// $LLMHOST_PLUGIN_PATH, <dir of the executable>/../lib/llmhost/plugins,
// <dir of libllmhost.so>/llmhost/plugins, <install prefix>/lib/llmhost/plugins.
std::vector<std::string> default_plugin_dirs();

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

private:
    std::shared_ptr<PluginLibrary> open(const std::string &path, PluginInfo &info);
    std::vector<std::string> plugin_files() const;

    std::shared_ptr<HostCore> core_;
    mutable std::mutex mu_;
    std::vector<std::string> dirs_;
    std::map<std::string, std::weak_ptr<PluginLibrary>> loaded_;
};

} // namespace llmhost::detail
