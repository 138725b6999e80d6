#include "provider_spec.hpp"

#include "environment.hpp"
#include "redactor.hpp"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace llmhost::detail {

static bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_secret_key(std::string_view key) {
    // An explicit list: a looser rule (say, every key ending in "_secret") would also catch
    // ordinary options that merely talk about secrets.
    for (std::string_view k : {"token", "hf_token", "access_token", "api_key", "apikey",
                               "openai_api_key", "password", "secret", "client_secret"})
        if (key == k) return true;
    return ends_with(key, "_api_key");
}

static std::string absolute_from(const std::string &base_dir, const std::string &path) {
    if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
    return (fs::path(base_dir) / path).lexically_normal().string();
}

static std::string trimmed_file_secret(const std::string &text) {
    std::string t = text;
    t.erase(std::remove(t.begin(), t.end(), '\r'), t.end());
    t.erase(std::remove(t.begin(), t.end(), '\n'), t.end());
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.erase(t.begin());
    return t;
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
                // Credentials never reach the plugin as config: only through get_secret.
                if (!v.get<std::string>().empty())
                    spec.secrets[k] = {v.get<std::string>(), config_secret_source(raw)};
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
                std::string t = trimmed_file_secret(*text);
                if (!t.empty()) spec.secrets[k] = {t, "file " + path};
            }
        }
    apply_environment_bridge(spec, locate, pointer);
    apply_overrides(spec, options);
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
