#include "provider_spec.hpp"

#include "environment.hpp"
#include "redactor.hpp"
#include "secret_patterns.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>

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
    for (std::string_view s : {"token", "hf_token", "access_token", "api_key", "apikey",
                               "openai_api_key", "password", "secret", "client_secret"})
        if (k == s) return true;
    return ends_with(k, "_api_key");
}

static std::string absolute_from(const std::string &base_dir, const std::string &path) {
    if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
    return (fs::path(base_dir) / path).lexically_normal().string();
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

static void apply_environment_bridge(ProviderSpec &spec, const Locate &locate,
                                     const std::string &pointer) {
    auto set_default = [&](const char *key, const std::optional<std::string> &value,
                           const std::string &source) {
        if (value && !spec.config.contains(key)) {
            spec.config[key] = *value;
            spec.sources[key] = source;
        }
    };
    if (spec.plugin == "huggingface") {
        if (!spec.secrets.count("token"))
            if (auto t = hf_token_from_environment()) spec.secrets["token"] = *t;
        set_default("model_path", env_value("HF_MODEL_PATH"), "HF_MODEL_PATH");
        set_default("device", env_value("HF_DEVICE"), "HF_DEVICE");
        set_default("endpoint", env_value("HF_ENDPOINT"), "HF_ENDPOINT");
        set_default("endpoint", std::string("https://huggingface.co"), "default");
        if (auto v = env_value("HF_HUB_CACHE")) set_default("cache_dir", v, "HF_HUB_CACHE");
        else if (env_value("HF_HOME")) set_default("cache_dir", hf_hub_cache(), "HF_HOME");
        else set_default("cache_dir", hf_hub_cache(), "default");
        if (auto v = env_value("HF_HUB_OFFLINE"); v && !spec.config.contains("offline")) {
            auto b = parse_bool(*v);
            if (!b)
                throw HostError(LLMHOST_ERR_CONFIG, "HF_HUB_OFFLINE='" + *v + "' is not a boolean",
                                "set HF_HUB_OFFLINE to 1 or 0");
            spec.config["offline"] = *b;
            spec.sources["offline"] = "HF_HUB_OFFLINE";
        }
        // huggingface_hub's timeouts; the plugin checks the values (hub::set_client_option).
        set_default("download_timeout", env_value("HF_HUB_DOWNLOAD_TIMEOUT"),
                    "HF_HUB_DOWNLOAD_TIMEOUT");
        set_default("etag_timeout", env_value("HF_HUB_ETAG_TIMEOUT"), "HF_HUB_ETAG_TIMEOUT");
    } else if (spec.plugin == "openai") {
        if (!spec.secrets.count("api_key"))
            if (auto k = env_value("OPENAI_API_KEY")) spec.secrets["api_key"] = {*k, "OPENAI_API_KEY"};
        set_default("base_url", env_value("OPENAI_BASE_URL"), "OPENAI_BASE_URL");
        set_default("base_url", std::string("https://api.openai.com/v1"), "default");
    }
    (void)locate;
    (void)pointer;
}

static void apply_overrides(ProviderSpec &spec, const HostOptions &options) {
    if (!options.device.empty() && spec.plugin == "huggingface") {
        spec.config["device"] = options.device;
        spec.sources["device"] = "--device";
    }
    const auto &ov = options.provider_config_overrides;
    if (!ov.is_object()) return;
    for (const std::string &key : {std::string("*"), spec.name}) {
        if (!ov.contains(key) || !ov[key].is_object()) continue;
        for (const auto &[k, v] : ov[key].items()) {
            if (is_secret_key(k))
                throw HostError(LLMHOST_ERR_CONFIG,
                                "'" + k + "' cannot be given as a command-line override",
                                "secrets come from the config file's \"secrets\" or the environment, "
                                "never from the command line (it would show in ps and shell history)");
            spec.config[k] = v;
            spec.sources[k] = "override";
        }
    }
}

static void validate_spec(const ProviderSpec &spec, const Locate &locate, const std::string &pointer) {
    if (spec.plugin == "huggingface" && spec.config.contains("device")) {
        const auto &d = spec.config["device"];
        if (!d.is_string() || !valid_device(d.get<std::string>())) {
            std::string src = spec.sources.count("device") ? spec.sources.at("device") : "config";
            std::string msg = "device " + d.dump() + " of provider '" + spec.name + "' (from " +
                              src + ") is not valid";
            std::string hint = "use auto, cpu, cuda or cuda:N (N = GPU index)";
            if (src == "config") config_error(locate, pointer + "/config/device", false, msg, hint);
            throw HostError(LLMHOST_ERR_CONFIG, msg, hint);
        }
    }
    for (const auto &[name, s] : spec.secrets)
        if (s.value.size() < Redactor::kMinSecretLength)
            throw HostError(LLMHOST_ERR_CONFIG,
                            "secret '" + name + "' of provider '" + spec.name + "' (from " +
                                s.source + ") is too short to be a real credential",
                            "check the value; an empty value means 'no secret'");
}

ProviderSpec resolve_provider(const std::string &name, const nlohmann::json &entry,
                              const nlohmann::json *raw_entry, const HostOptions &options,
                              const std::string &base_dir, const Locate &locate,
                              const std::string &pointer) {
    ProviderSpec spec;
    spec.name = name;
    std::string plugin = entry.at("plugin").get<std::string>();
    // A value with a '/' or ending in .so is a plugin file; a bare word is a plugin name.
    if (plugin.find('/') != std::string::npos || ends_with(plugin, ".so"))
        plugin = absolute_from(base_dir.empty() ? fs::current_path().string() : base_dir, plugin);
    spec.plugin = plugin;

    if (entry.contains("config"))
        for (const auto &[k, v] : entry["config"].items()) {
            const nlohmann::json *raw = raw_entry && raw_entry->contains("config") &&
                                                (*raw_entry)["config"].contains(k)
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
            const nlohmann::json *raw = raw_entry && raw_entry->contains("secrets") &&
                                                (*raw_entry)["secrets"].contains(k)
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
    apply_environment_bridge(spec, locate, pointer);
    apply_overrides(spec, options);
    normalize_secrets(spec, locate, pointer);
    validate_spec(spec, locate, pointer);
    return spec;
}

std::map<std::string, ProviderSpec> providers_from_environment(const HostOptions &options) {
    std::map<std::string, ProviderSpec> out;
    for (const char *name : {"huggingface", "openai"}) {
        nlohmann::json entry = {{"plugin", name}, {"config", nlohmann::json::object()}};
        out[name] = resolve_provider(name, entry, nullptr, options, "", {}, "");
    }
    return out;
}

} // namespace llmhost::detail
