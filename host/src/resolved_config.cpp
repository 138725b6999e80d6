#include "resolved_config.hpp"

#include "environment.hpp"
#include "platform.hpp"
#include "redactor.hpp"
#include "secret_patterns.hpp"

#include <cctype>
#include <filesystem>

namespace fs = std::filesystem;

namespace llmhost::detail {

static std::string pick_default_provider(const HostOptions &options,
                                         const nlohmann::json *file_root,
                                         const std::map<std::string, ProviderSpec> &providers,
                                         std::string &source) {
    if (!options.default_provider.empty()) return source = "--provider", options.default_provider;
    if (file_root && file_root->contains("default_provider"))
        return source = "config", (*file_root)["default_provider"].get<std::string>();
    if (auto v = env_value("LLM_PROVIDER")) return source = "LLM_PROVIDER", *v;
    if (providers.size() == 1) return source = "the only provider", providers.begin()->first;
    // A plugin's manifest may claim the default for the provider it brings up from the
    // environment ("from_environment": {"provider": ..., "default": true}).
    for (const auto &[name, spec] : providers)
        if (spec.manifest && spec.manifest->default_provider &&
            spec.manifest->from_environment == name)
            return source = "default", name;
    return source = "none", "";
}

// Every plugin named by the configuration is looked up (not instantiated) for its manifest in
// the search path this configuration gives; a plugin not found has none (its provider fails
// later, on first use, with the usual "no plugin named ..." error).
static std::shared_ptr<const Manifest> manifest_of(PluginCatalog &catalog,
                                                   const std::vector<std::string> &dirs,
                                                   const std::string &plugin,
                                                   std::vector<std::string> &redact_also) {
    auto found = catalog.manifest(plugin, dirs);
    if (!found || !found->manifest) return nullptr;
    auto values = manifest_secret_values(*found->manifest);
    redact_also.insert(redact_also.end(), values.begin(), values.end());
    return found->manifest;
}

// --device and other generic host flags need a provider whose plugin declares them.
static void check_flags(const HostOptions &options, const ResolvedConfig &rc) {
    if (options.device.empty()) return;
    for (const auto &[name, spec] : rc.providers)
        if (spec.manifest && spec.manifest->flags.count("--device")) return;
    std::string names;
    for (const auto &[name, spec] : rc.providers)
        names += (names.empty() ? "" : ", ") + name + " (plugin " + spec.plugin + ")";
    throw HostError(LLMHOST_ERR_CONFIG,
                    "--device is not supported by the plugin of any configured provider (" +
                        (names.empty() ? std::string("none configured") : names) + ")",
                    "a plugin takes --device when its manifest declares it (\"flags\"); for "
                    "other plugins set the key in the provider's \"config\"");
}

// Every route's targets name plugin providers of this configuration.
static void check_routes(const ResolvedConfig &rc, const Locate &locate) {
    std::vector<std::string> names;
    for (const auto &[n, s] : rc.providers) names.push_back(n);
    auto kind = [&](const std::string &n) -> std::optional<bool> {
        auto it = rc.providers.find(n);
        if (it == rc.providers.end()) return std::nullopt;
        return it->second.route != nullptr;
    };
    for (const auto &[name, spec] : rc.providers)
        if (spec.route)
            check_route_targets(name, *spec.route, kind, names,
                                "/providers/" + json_pointer_escape(name), locate);
}

ResolvedConfig resolve_config(const HostOptions &options, PluginCatalog &catalog) {
    ResolvedConfig rc;
    auto path = find_config_file(options);
    if (!path) {
        const auto dirs = plugin_search_dirs(options, {});
        auto plugins = catalog.environment_plugins(dirs);
        for (const auto &p : plugins) {
            auto values = manifest_secret_values(*p.manifest);
            rc.redact_also.insert(rc.redact_also.end(), values.begin(), values.end());
        }
        rc.providers = providers_from_environment(options, plugins);
        rc.default_provider =
            pick_default_provider(options, nullptr, rc.providers, rc.default_provider_source);
        check_flags(options, rc);
        return rc;
    }
    ConfigFile cf = load_config_file(*path);
    rc.file = cf.path;
    const std::string base_dir =
        platform::to_utf8(fs::absolute(platform::u8path(cf.path)).parent_path());
    const Locate locate = cf.locate();
    if (cf.root.contains("plugin_dirs"))
        for (const auto &d : cf.root["plugin_dirs"]) {
            fs::path p = platform::u8path(d.get<std::string>());
            rc.plugin_dirs.push_back(platform::to_utf8(
                p.is_absolute() ? p : (platform::u8path(base_dir) / p).lexically_normal()));
        }
    const auto dirs = plugin_search_dirs(options, rc.plugin_dirs);
    if (cf.root.contains("providers"))
        for (const auto &[name, entry] : cf.root["providers"].items()) {
            const std::string pointer = "/providers/" + json_pointer_escape(name);
            if (is_route_entry(entry)) { // targets are checked below, once all names are known
                ProviderSpec spec;
                spec.name = name;
                spec.route =
                    std::make_shared<const RouteConfig>(parse_route(entry, pointer, locate));
                rc.providers[name] = std::move(spec);
                continue;
            }
            auto manifest =
                manifest_of(catalog, dirs, plugin_reference(entry, base_dir), rc.redact_also);
            rc.providers[name] = resolve_provider(name, entry, &cf.raw["providers"][name], options,
                                                  base_dir, locate, pointer, std::move(manifest));
        }
    check_routes(rc, locate);
    rc.default_provider =
        pick_default_provider(options, &cf.root, rc.providers, rc.default_provider_source);
    check_flags(options, rc);
    return rc;
}

ProviderSpec resolve_swap_entry(const std::string &name, const nlohmann::json &entry,
                                const HostOptions &options, PluginCatalog &catalog,
                                std::vector<std::string> &redact_also) {
    const Locate none;
    nlohmann::json expanded = entry;
    validate_provider_entry(entry, "/" + json_pointer_escape(name), none);
    expand_variables(expanded, "/" + json_pointer_escape(name), none);
    if (is_route_entry(expanded)) { // the caller checks the targets against its providers
        ProviderSpec spec;
        spec.name = name;
        spec.route = std::make_shared<const RouteConfig>(
            parse_route(expanded, "/" + json_pointer_escape(name), none));
        return spec;
    }
    auto manifest =
        manifest_of(catalog, catalog.dirs(), plugin_reference(expanded, ""), redact_also);
    return resolve_provider(name, expanded, &entry, options, "", none, "", std::move(manifest));
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
    out["config_file"] =
        config.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(config.file);
    out["default_provider"] = config.default_provider;
    out["default_provider_source"] = config.default_provider_source;
    out["plugin_dirs"] = config.plugin_dirs;
    out["providers"] = nlohmann::json::object();
    for (const auto &[name, spec] : config.providers) {
        nlohmann::json p;
        if (spec.route) { // no plugin, config or secrets of its own
            p["route"] = spec.route->entry;
            out["providers"][name] = p;
            continue;
        }
        p["plugin"] = spec.plugin;
        p["config"] = spec.config;
        // Credential-looking keys the plugin gets as config ("auth": {"token": ...},
        // "headers": {"Authorization": ...}) are hidden at any depth.
        mask_secret_keys(p["config"], std::string(Redactor::kMask));
        p["sources"] = spec.sources;
        p["secrets"] = nlohmann::json::object();
        for (const auto &[k, s] : spec.secrets) p["secrets"][k] = display_secret(s);
        // Say so when an expected credential is missing, in the plugin's words: that is what
        // people look for here.
        if (spec.manifest)
            for (const auto &[k, decl] : spec.manifest->secrets)
                if (decl.expected && !spec.secrets.count(k))
                    p["secrets"][k] = decl.missing.empty() ? "(not set)" : decl.missing;
        out["providers"][name] = p;
    }
    return out;
}

} // namespace llmhost::detail
