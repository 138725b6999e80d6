// One loaded plugin file: the Boost.DLL handle, the negotiated descriptor, and the library-wide
// host services handed to its entry point. Shared by every instance created from it; the file is
// unloaded when the last holder lets go (instances hold it by shared_ptr).
#pragma once

#include "host_core.hpp"
#include "manifest.hpp"

#include <llmhost/host.hpp>
#include <llmhost/plugin.h>

#include <boost/dll/shared_library.hpp>

#include <memory>
#include <string>

namespace llmhost::detail {

class PluginLibrary {
public:
    // Loads `path`, calls its entry point and checks the descriptor. Never throws: on failure
    // returns nullptr and `info` says why (naming the file and the cause).
    static std::shared_ptr<PluginLibrary> load(const std::string &path,
                                               std::shared_ptr<HostCore> core, PluginInfo &info);
    ~PluginLibrary();

    const std::string &path() const { return path_; }
    const PluginInfo &info() const { return info_; }
    // The descriptor, copied: fields of a newer minor are dropped, missing ones of an older
    // minor are NULL/0.
    const llmh_plugin &table() const { return table_; }
    const std::shared_ptr<HostCore> &core() const { return core_; }
    // ABI 1.2: the parsed manifest; null when the plugin declares none (no environment bridge).
    const std::shared_ptr<const Manifest> &manifest() const { return manifest_; }

private:
    PluginLibrary() = default;
    static void fail(PluginInfo &info, int code, const std::string &message, const std::string &hint);

    std::string path_;
    PluginInfo info_;
    llmh_plugin table_{};
    std::shared_ptr<HostCore> core_;
    std::shared_ptr<const Manifest> manifest_;
    llmh_host_services services_{}; // library-wide: logs only, no secrets, no config
    boost::dll::shared_library lib_;
};

} // namespace llmhost::detail
