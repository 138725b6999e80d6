// The whole configuration as the host uses it: config file (if any) + environment bridge +
// CLI-flag overrides, and its display form (secrets shown as "hf_…(set, from HF_TOKEN)").
#pragma once

#include "provider_spec.hpp"

#include <map>
#include <string>
#include <vector>

namespace llmhost::detail {

struct ResolvedConfig {
    std::string file; // "" when the environment alone defines the providers
    std::string default_provider;
    std::string default_provider_source; // "--provider", "config", "LLM_PROVIDER", "default", ...
    std::vector<std::string> plugin_dirs; // the config's, absolute
    std::map<std::string, ProviderSpec> providers;
    // Secrets the manifests' sources can see (a token file no provider uses, ...): redacted too.
    std::vector<std::string> redact_also;
};

// Throws HostError (LLMHOST_ERR_CONFIG, with a location for file errors). The catalog gives the
// manifests of the plugins named (and, without a file, of every plugin in the search path).
ResolvedConfig resolve_config(const HostOptions &options, PluginCatalog &catalog);

// Resolves an entry given to swap() (not from a file: errors carry no location); values the
// plugin's manifest sources see are added to redact_also.
ProviderSpec resolve_swap_entry(const std::string &name, const nlohmann::json &entry,
                                const HostOptions &options, PluginCatalog &catalog,
                                std::vector<std::string> &redact_also);

// "hf_…(set, from HF_TOKEN)": a recognisable prefix at most, never the value.
std::string display_secret(const ResolvedSecret &secret);

nlohmann::json display_config(const ResolvedConfig &config);

} // namespace llmhost::detail
