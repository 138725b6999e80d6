#include "provider_spec.hpp"

#include "environment.hpp"
#include "platform.hpp"
#include "redactor.hpp"
#include "secret_patterns.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <regex>

namespace fs = std::filesystem;

namespace llmhost::detail {

static bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_secret_key(std::string_view key) {
    // An explicit list (in any case, camelCase or snake_case: "apiKey", "API_KEY", "Token"): a
    // looser rule would take options away from the plugin. Display and redaction use the broader
    // looks_like_secret_key.
    const std::string k = snake_case_key(key);
    for (std::string_view s : {"token", "hf_token", "access_token", "api_key", "apikey", "password",
                               "secret", "client_secret"}) // "*_api_key": below
        if (k == s) return true;
    return ends_with(k, "_api_key");
}

static std::string absolute_from(const std::string &base_dir, const std::string &path) {
    if (path.empty() || platform::u8path(path).is_absolute() || base_dir.empty()) return path;
    return platform::to_utf8(
        (platform::u8path(base_dir) / platform::u8path(path)).lexically_normal());
}

// Every secret as it will be used: trimmed (the raw value is kept for the redactor), empty means
// none; a control character left inside is refused, naming the secret and its source only.
static void normalize_secrets(ProviderSpec &spec, const Locate &locate,
                              const std::string &pointer) {
    for (auto it = spec.secrets.begin(); it != spec.secrets.end();) {
        auto &[name, s] = *it;
        spec.redact_also.push_back(s.value);
        s.value = trim_secret(s.value);
        if (s.value.empty()) {
            it = spec.secrets.erase(it);
            continue;
        }
        if (has_control_char(s.value)) {
            std::string msg = "secret '" + name + "' of provider '" + spec.name + "' (from " +
                              s.source + ") contains a line break or another control character";
            std::string hint =
                "a secret is one line of printable text (it is sent in an HTTP header); "
                "fix the value at its source";
            if (s.source == "config" || s.source.find("(via config)") != std::string::npos) {
                std::string where = spec.config_keys.count(name)
                                        ? "/config/" + spec.config_keys.at(name)
                                        : "/secrets/" + json_pointer_escape(name);
                config_error(locate, pointer + where, false, msg, hint);
            }
            throw HostError(LLMHOST_ERR_CONFIG, msg, hint);
        }
        ++it;
    }
    // Credentials elsewhere in the config (a nested "auth.token", a URL's "user:pass@") are not
    // secrets the plugin asks for, but they must never be printed either.
    // Only words of 8+ characters: such keys also hold ordinary words ("report_secret": "token",
    // "auth_scheme": "Bearer") that must not vanish from every message.
    std::vector<std::string> values;
    collect_secret_key_values(spec.config, values);
    for (const auto &v : values)
        for (size_t b = v.find_first_not_of(" \t\r\n"); b != std::string::npos;) {
            size_t e = std::min(v.find_first_of(" \t\r\n", b), v.size());
            if (e - b >= 8) spec.redact_also.push_back(v.substr(b, e - b));
            b = v.find_first_not_of(" \t\r\n", e);
        }
    std::function<void(const nlohmann::json &)> urls = [&](const nlohmann::json &v) {
        if (v.is_string()) {
            for (auto &part : url_userinfo_parts(v.get_ref<const std::string &>()))
                spec.redact_also.push_back(std::move(part));
        } else if (v.is_structured()) {
            for (const auto &c : v) urls(c);
        }
    };
    urls(spec.config);
}

// Where a config-given secret came from: "HF_TOKEN (via config)" for "${HF_TOKEN}", else "config".
static std::string config_secret_source(const nlohmann::json *raw) {
    if (raw && raw->is_string()) {
        const std::string &s = raw->get_ref<const std::string &>();
        if (s.size() > 3 && s.rfind("${", 0) == 0 && s.back() == '}' &&
            s.find('}') == s.size() - 1) {
            std::string var = s.substr(2, s.size() - 3);
            var = var.substr(0, var.find(":-"));
            if (env_value(var.c_str())) return var + " (via config)";
        }
    }
    return "config";
}

// The environment bridge, as the plugin's manifest declares it: each config key or secret the
// provider leaves unset is taken from the first of its sources that gives a value.
static void apply_environment_bridge(ProviderSpec &spec) {
    if (!spec.manifest) return;
    for (const auto &m : spec.manifest->env) {
        if (m.secret) {
            if (spec.secrets.count(m.target)) continue;
            std::vector<std::string> seen; // every candidate, for the redactor
            auto v = resolve_env(m, &seen);
            spec.redact_also.insert(spec.redact_also.end(), seen.begin(), seen.end());
            if (v) spec.secrets[m.target] = {v->value, v->source};
        } else if (!spec.config.contains(m.target)) {
            if (auto v = resolve_env(m)) {
                spec.config[m.target] = typed_env_value(m.type, v->value, v->source);
                spec.sources[m.target] = v->source;
            }
        }
    }
}

static void apply_overrides(ProviderSpec &spec, const HostOptions &options) {
    // Generic host flags go to the config key the plugin's manifest names ("flags").
    const std::map<std::string, std::string> flags = {{"--device", options.device}};
    if (spec.manifest)
        for (const auto &[flag, key] : spec.manifest->flags)
            if (auto it = flags.find(flag); it != flags.end() && !it->second.empty()) {
                spec.config[key] = it->second;
                spec.sources[key] = flag;
            }
    const auto &ov = options.provider_config_overrides;
    if (!ov.is_object()) return;
    for (const std::string &key : {std::string("*"), spec.name}) {
        if (!ov.contains(key) || !ov[key].is_object()) continue;
        for (const auto &[k, v] : ov[key].items()) {
            if (is_secret_key(k))
                throw HostError(
                    LLMHOST_ERR_CONFIG, "'" + k + "' cannot be given as a command-line override",
                    "secrets come from the config file's \"secrets\" or the environment, "
                    "never from the command line (it would show in ps and shell history)");
            spec.config[k] = v;
            spec.sources[k] = "override";
        }
    }
}

// "42", "7.5": numbers given as text (from the environment) are left for the plugin to read.
static bool is_number_text(const std::string &t) {
    char *end = nullptr;
    std::strtod(t.c_str(), &end);
    return !t.empty() && end != t.c_str() && *end == '\0';
}

// The config keys the manifest declares: type (a boolean given as text becomes a boolean, through
// the one parser), pattern, enum; with "additional_config": false an unknown key is an error with
// a "did you mean".
static void validate_config_keys(ProviderSpec &spec, const Locate &locate,
                                 const std::string &pointer) {
    if (!spec.manifest) return;
    std::vector<std::string> known;
    for (const auto &[k, decl] : spec.manifest->config) known.push_back(k);
    for (auto &[key, value] : spec.config.items()) {
        const std::string src = spec.sources.count(key) ? spec.sources.at(key) : "config";
        const std::string at = pointer + "/config/" + json_pointer_escape(key);
        auto it = spec.manifest->config.find(key);
        if (it == spec.manifest->config.end()) {
            if (!spec.manifest->closed_config) continue;
            std::string s = closest_match(key, known);
            std::string msg = "unknown key '" + key + "' in the config of provider '" + spec.name +
                              "' (plugin " + spec.plugin + ")" +
                              (s.empty() ? "" : "; did you mean '" + s + "'?");
            std::string hint =
                "the plugin's manifest lists its config keys (`llmhost plugins --json`)";
            if (src == "config") config_error(locate, at, true, msg, hint);
            throw HostError(LLMHOST_ERR_CONFIG, msg, hint);
        }
        const ManifestConfigKey &decl = it->second;
        if (decl.type == "bool" && value.is_string())
            if (auto b = parse_bool(value.get<std::string>())) value = *b;
        bool ok = true;
        if (decl.type == "bool")
            ok = value.is_boolean();
        else if (decl.type == "number")
            ok = value.is_number() ||
                 (value.is_string() && is_number_text(value.get<std::string>()));
        else if (decl.type == "string" || decl.type == "path")
            ok = value.is_string();
        if (ok && value.is_string() && !decl.pattern.empty())
            ok = std::regex_match(value.get<std::string>(), std::regex(decl.pattern));
        if (ok && value.is_string() && !decl.values.empty())
            ok = std::find(decl.values.begin(), decl.values.end(), value.get<std::string>()) !=
                 decl.values.end();
        if (ok) continue;
        std::string msg = key + " " + value.dump() + " of provider '" + spec.name + "' (from " +
                          src + ") is not valid";
        std::string hint = decl.hint;
        if (hint.empty()) {
            hint = decl.values.empty() ? "" : "one of:";
            for (const auto &v : decl.values) hint += " " + v;
            if (hint.empty())
                hint =
                    "a " + (decl.type.empty() ? std::string("value") : decl.type) + " is expected";
        }
        if (src == "config") config_error(locate, at, false, msg, hint);
        throw HostError(LLMHOST_ERR_CONFIG, msg, hint);
    }
}

static void validate_spec(const ProviderSpec &spec) {
    for (const auto &[name, s] : spec.secrets)
        if (s.value.size() < Redactor::kMinSecretLength)
            throw HostError(LLMHOST_ERR_CONFIG,
                            "secret '" + name + "' of provider '" + spec.name + "' (from " +
                                s.source + ") is too short to be a real credential",
                            "check the value; an empty value means 'no secret'");
}

std::string plugin_reference(const nlohmann::json &entry, const std::string &base_dir) {
    std::string plugin = entry.at("plugin").get<std::string>();
    // A path (a separator in it) or a name ending in .so/.dll is a plugin file; a bare word is a
    // plugin name.
    if (platform::looks_like_path(plugin) || ends_with(plugin, platform::plugin_file_suffix))
        plugin = absolute_from(base_dir.empty() ? platform::to_utf8(fs::current_path()) : base_dir,
                               plugin);
    return plugin;
}

ProviderSpec resolve_provider(const std::string &name, const nlohmann::json &entry,
                              const nlohmann::json *raw_entry, const HostOptions &options,
                              const std::string &base_dir, const Locate &locate,
                              const std::string &pointer,
                              std::shared_ptr<const Manifest> manifest) {
    ProviderSpec spec;
    spec.name = name;
    spec.plugin = plugin_reference(entry, base_dir);
    spec.manifest = std::move(manifest);

    if (entry.contains("config"))
        for (const auto &[k, v] : entry["config"].items()) {
            const nlohmann::json *raw =
                raw_entry && raw_entry->contains("config") && (*raw_entry)["config"].contains(k)
                    ? &(*raw_entry)["config"][k]
                    : nullptr;
            if (is_secret_key(k) && v.is_string()) {
                // Credentials never reach the plugin as config: only through get_secret, under
                // the usual name ("apiKey" -> "api_key").
                if (!v.get<std::string>().empty()) {
                    const std::string name = snake_case_key(k);
                    spec.secrets[name] = {v.get<std::string>(), config_secret_source(raw)};
                    spec.config_keys[name] = json_pointer_escape(k);
                    spec.redact_also.push_back(
                        v.get<std::string>()); // "API_KEY" and "apiKey" collide
                }
                continue;
            }
            spec.config[k] = v;
            spec.sources[k] = "config";
        }
    if (entry.contains("secrets"))
        for (const auto &[k, v] : entry["secrets"].items()) {
            const nlohmann::json *raw =
                raw_entry && raw_entry->contains("secrets") && (*raw_entry)["secrets"].contains(k)
                    ? &(*raw_entry)["secrets"][k]
                    : nullptr;
            if (v.is_string()) {
                if (!v.get<std::string>().empty())
                    spec.secrets[k] = {v.get<std::string>(), config_secret_source(raw)};
            } else if (v.contains("env")) {
                const std::string var = v["env"];
                if (auto value = env_value(var.c_str())) spec.secrets[k] = {*value, "env " + var};
            } else if (v.contains("file")) {
                const std::string path = absolute_from(base_dir, v["file"]);
                auto text = read_text_file(path);
                if (!text)
                    config_error(locate, pointer + "/secrets/" + json_pointer_escape(k), false,
                                 "secret file '" + path + "' cannot be read",
                                 "create it (one line: the secret) or remove this secret");
                // The first line, trimmed (docs/configuration.md); the rest of the file is ignored.
                std::string t = first_line_trimmed(*text);
                if (!t.empty()) spec.secrets[k] = {t, "file " + path};
            }
        }
    apply_environment_bridge(spec);
    apply_overrides(spec, options);
    normalize_secrets(spec, locate, pointer);
    validate_config_keys(spec, locate, pointer);
    validate_spec(spec);
    return spec;
}

std::map<std::string, ProviderSpec>
providers_from_environment(const HostOptions &options, const std::vector<PluginManifest> &plugins) {
    std::map<std::string, ProviderSpec> out;
    for (const auto &p : plugins) {
        const std::string &name = p.manifest->from_environment;
        if (out.count(name)) continue; // two plugins claim one name: the first found wins
        nlohmann::json entry = {{"plugin", p.plugin}, {"config", nlohmann::json::object()}};
        out[name] = resolve_provider(name, entry, nullptr, options, "", {}, "", p.manifest);
    }
    return out;
}

} // namespace llmhost::detail
