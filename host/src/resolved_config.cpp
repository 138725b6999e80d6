#include "resolved_config.hpp"

#include "environment.hpp"
#include "redactor.hpp"
#include "secret_patterns.hpp"

#include <cctype>
#include <filesystem>

namespace fs = std::filesystem;

namespace llmhost::detail {

static std::string pick_default_provider(const HostOptions &options, const nlohmann::json *file_root,
                                         const std::map<std::string, ProviderSpec> &providers,
                                         std::string &source) {
    if (!options.default_provider.empty()) return source = "--provider", options.default_provider;
    if (file_root && file_root->contains("default_provider"))
        return source = "config", (*file_root)["default_provider"].get<std::string>();
    if (auto v = env_value("LLM_PROVIDER")) return source = "LLM_PROVIDER", *v;
    if (providers.count("openai") || providers.empty() || providers.size() > 1)
        return source = "default", "openai";
    return source = "the only provider", providers.begin()->first;
}

ResolvedConfig resolve_config(const HostOptions &options) {
    ResolvedConfig rc;
    auto path = find_config_file(options);
    if (!path) {
        rc.providers = providers_from_environment(options);
        rc.default_provider = pick_default_provider(options, nullptr, rc.providers,
                                                    rc.default_provider_source);
        return rc;
    }
    ConfigFile cf = load_config_file(*path);
    rc.file = cf.path;
    const std::string base_dir = fs::absolute(cf.path).parent_path().string();
    const Locate locate = cf.locate();
    if (cf.root.contains("plugin_dirs"))
        for (const auto &d : cf.root["plugin_dirs"]) {
            fs::path p(d.get<std::string>());
            rc.plugin_dirs.push_back(p.is_absolute() ? p.string()
                                                     : (fs::path(base_dir) / p).lexically_normal().string());
        }
    if (cf.root.contains("providers"))
        for (const auto &[name, entry] : cf.root["providers"].items()) {
            const std::string pointer = "/providers/" + json_pointer_escape(name);
            rc.providers[name] = resolve_provider(name, entry, &cf.raw["providers"][name], options,
                                                  base_dir, locate, pointer);
        }
    rc.default_provider =
        pick_default_provider(options, &cf.root, rc.providers, rc.default_provider_source);
    return rc;
}

ProviderSpec resolve_swap_entry(const std::string &name, const nlohmann::json &entry,
                                const HostOptions &options) {
    const Locate none;
    nlohmann::json expanded = entry;
    validate_provider_entry(entry, "/" + json_pointer_escape(name), none);
    expand_variables(expanded, "/" + json_pointer_escape(name), none);
    return resolve_provider(name, expanded, &entry, options, "", none, "");
}

std::string display_secret(const ResolvedSecret &secret) {
    // Show a vendor prefix like "hf_" or "sk-" (letters then '_' or '-') so the user can tell
    // which kind of credential is set; nothing more.
    std::string prefix;
    for (size_t i = 0; i < secret.value.size() && i < 4; ++i) {
        char c = secret.value[i];
        if (c == '_' || c == '-') {
            if (i >= 2) prefix = secret.value.substr(0, i + 1);
            break;
        }
        if (!std::isalpha(static_cast<unsigned char>(c))) break;
    }
    return prefix + "…(set, from " + secret.source + ")";
}

nlohmann::json display_config(const ResolvedConfig &config) {
    nlohmann::json out;
    out["config_file"] = config.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(config.file);
    out["default_provider"] = config.default_provider;
    out["default_provider_source"] = config.default_provider_source;
    out["plugin_dirs"] = config.plugin_dirs;
    out["providers"] = nlohmann::json::object();
    for (const auto &[name, spec] : config.providers) {
        nlohmann::json p;
        p["plugin"] = spec.plugin;
        p["config"] = spec.config;
        // Credential-looking keys the plugin gets as config ("auth": {"token": ...},
        // "headers": {"Authorization": ...}) are hidden at any depth.
        mask_secret_keys(p["config"], std::string(Redactor::kMask));
        p["sources"] = spec.sources;
        p["secrets"] = nlohmann::json::object();
        for (const auto &[k, s] : spec.secrets) p["secrets"][k] = display_secret(s);
        // Say so when a bridged credential is missing: that is what people look for here.
        if (spec.plugin == "huggingface" && !spec.secrets.count("token"))
            p["secrets"]["token"] = "(not set: public models only; set HF_TOKEN)";
        if (spec.plugin == "openai" && !spec.secrets.count("api_key"))
            p["secrets"]["api_key"] = "(not set; set OPENAI_API_KEY)";
        out["providers"][name] = p;
    }
    return out;
}

} // namespace llmhost::detail
