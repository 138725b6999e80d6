// One provider, fully resolved: its plugin, the config the plugin sees (no secrets), the secrets it
// may ask for and where each value came from. Applies the environment bridge and the precedence
// CLI flag > config file > environment > token file.
#pragma once

#include "config_file.hpp"
#include "manifest.hpp"
#include "plugin_catalog.hpp"
#include "route_config.hpp"

#include <llmhost/host.hpp>

#include <map>
#include <string>
#include <vector>

namespace llmhost::detail {

struct ProviderSpec {
    std::string name;
    std::string plugin; // plugin name, or an absolute path to a plugin file
    nlohmann::json config = nlohmann::json::object();
    std::map<std::string, ResolvedSecret> secrets;
    std::map<std::string, std::string> sources; // config key -> "config", a variable, "--device", ...
    std::map<std::string, std::string>
        config_keys; // secret moved out of config -> its key as written
    // More text the redactor must hide: raw (untrimmed) secret values, credential-looking config
    // values the plugin still gets as config, URL userinfo in config values.
    std::vector<std::string> redact_also;
    // The plugin's manifest (null: none, or the plugin was not found while resolving): drives the
    // environment bridge, validation, the missing-secret warning and the display.
    std::shared_ptr<const Manifest> manifest;
    // A route ({"route": ...}): no plugin, no config, no secrets; its targets are providers.
    std::shared_ptr<const RouteConfig> route;

    // Same plugin, config and secret values (sources do not matter): reload leaves it alone.
    bool same_as(const ProviderSpec &o) const {
        if (route || o.route) return route && o.route && route->entry == o.route->entry;
        if (plugin != o.plugin || config != o.config || secrets.size() != o.secrets.size())
            return false;
        for (const auto &[k, v] : secrets) {
            auto it = o.secrets.find(k);
            if (it == o.secrets.end() || it->second.value != v.value) return false;
        }
        return true;
    }
};

// Keys that hold credentials: given under "config" they are moved to the secrets (in any case or
// camelCase, under their snake_case name: "apiKey" -> "api_key").
bool is_secret_key(std::string_view key);

// The entry's "plugin": a name, or a file path made absolute (relative to base_dir).
std::string plugin_reference(const nlohmann::json &entry, const std::string &base_dir);

// Resolves an entry {"plugin", "config", "secrets"} whose strings are already ${VAR}-expanded.
// raw_entry: the same entry as written (to tell "${MY_TOKEN}" from a literal), may be null.
// base_dir: relative plugin and secret file paths are taken from there.
// manifest: the plugin's (null: no environment bridge, no declared keys to check).
ProviderSpec resolve_provider(const std::string &name, const nlohmann::json &entry,
                              const nlohmann::json *raw_entry, const HostOptions &options,
                              const std::string &base_dir, const Locate &locate,
                              const std::string &pointer,
                              std::shared_ptr<const Manifest> manifest);

// The providers the environment defines when there is no configuration file: one per plugin
// whose manifest says it comes up from the environment alone, under the name it gives.
std::map<std::string, ProviderSpec>
providers_from_environment(const HostOptions &options, const std::vector<PluginManifest> &plugins);

} // namespace llmhost::detail
