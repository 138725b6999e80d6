// Parsing of the huggingface provider's config (see provider_config.hpp).
#include "provider_config.hpp"

#include <llmhost/plugin.hpp>

#include <nlohmann/json.hpp>

namespace llmhost::hf {

ProviderConfig parse_provider_config(const std::string &json_text) {
    nlohmann::json j;
    try {
        j = json_text.empty() ? nlohmann::json::object() : nlohmann::json::parse(json_text);
    } catch (const std::exception &e) {
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          std::string("huggingface provider config is not valid JSON: ") + e.what(),
                          "check the provider's \"config\" object in llmhost.json");
    }
    if (!j.is_object())
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "huggingface provider config is not an object",
                          "the provider's \"config\" must be a JSON object");
    ProviderConfig c;
    auto get = [&](const char *key, auto &field) {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) return;
        using T = std::decay_t<decltype(field)>;
        try {
            if constexpr (std::is_same_v<T, bool>) {
                // Booleans may arrive as strings from ${VAR} expansion.
                if (it->is_string()) {
                    const std::string s = it->get<std::string>();
                    if (s == "1" || s == "true" || s == "yes" || s == "on") field = true;
                    else if (s == "0" || s == "false" || s == "no" || s == "off" || s.empty()) field = false;
                    else throw std::invalid_argument(s);
                } else field = it->get<bool>();
            } else if constexpr (std::is_integral_v<T>) {
                field = it->is_string() ? static_cast<T>(std::stoll(it->get<std::string>()))
                                        : it->get<T>();
            } else {
                field = it->get<T>();
            }
        } catch (const std::exception &) {
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              std::string("huggingface provider config: \"") + key +
                                  "\" has the wrong type (" + it->dump() + ")",
                              "see docs/models.md for the provider's config keys");
        }
    };
    get("model_path", c.model_path);
    get("model", c.model);
    get("revision", c.revision);
    get("device", c.device);
    get("dtype", c.dtype);
    get("endpoint", c.endpoint);
    get("cache_dir", c.cache_dir);
    get("offline", c.offline);
    get("max_context", c.max_context);
    get("max_tokens", c.max_tokens);
    get("threads", c.threads);
    get("max_batch", c.max_batch);
    get("load_on_create", c.load_on_create);
    return c;
}

} // namespace llmhost::hf
