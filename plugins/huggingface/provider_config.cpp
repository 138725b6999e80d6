// Parsing of the huggingface provider's config (see provider_config.hpp).
#include "provider_config.hpp"

#include <llmhost/plugin.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace llmhost::hf {

std::uint64_t parse_memory_size(const std::string &text) {
    if (text == "auto") {
        const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        if (pages <= 0 || page <= 0) return 0; // unknown: no limit
        // 3/4: leave the OS, the page cache of other files and activations some room.
        return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 4 * 3;
    }
    std::size_t used = 0;
    const double n = std::stod(text, &used);
    std::string unit = text.substr(used);
    while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
    for (auto &c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (n < 0) throw std::invalid_argument(text);
    if (unit.empty() || unit == "B") return static_cast<std::uint64_t>(n);
    const std::string prefixes = "KMGT";
    const std::size_t p = prefixes.find(unit[0]);
    const std::string rest = unit.substr(1);
    if (p == std::string::npos || !(rest.empty() || rest == "IB" || rest == "I" || rest == "B"))
        throw std::invalid_argument(text);
    const double base = rest == "B" ? 1000.0 : 1024.0; // "GB" decimal; "G", "GiB" binary
    double mult = 1;
    for (std::size_t i = 0; i <= p; ++i) mult *= base;
    return static_cast<std::uint64_t>(n * mult);
}

double parse_duration_s(const std::string &text) {
    std::size_t used = 0;
    const double n = std::stod(text, &used);
    const std::string unit = text.substr(used);
    if (unit.empty() || unit == "s") return n;
    if (unit == "m") return n * 60;
    if (unit == "h") return n * 3600;
    throw std::invalid_argument(text);
}

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
    get("prefix_cache", c.prefix_cache);
    // The Hub client's limits (hub::kClientOptionKeys; ranges are checked by hub::set_client_option).
    for (const char *key : {"download_timeout", "etag_timeout", "max_retry_after", "min_download_speed",
                            "max_retries", "max_file_retries", "max_tree_pages"}) {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) continue;
        double v = 0;
        try {
            v = it->is_string() ? std::stod(it->get<std::string>()) : it->get<double>(); // ${VAR} gives strings
        } catch (const std::exception &) {
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              std::string("huggingface provider config: \"") + key + "\" must be a number",
                              "see docs/huggingface-token.md, \"Hub client limits\"");
        }
        c.hub_limits.emplace_back(key, v);
    }
    get("max_loaded_models", c.max_loaded_models);
    // Sizes and durations: a number, or a string with a unit ("auto", "16GiB", "5m").
    auto get_parsed = [&](const char *key, auto parse, auto &field) {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) return;
        try {
            field = it->is_number() ? it->template get<std::decay_t<decltype(field)>>()
                                    : parse(it->template get<std::string>());
        } catch (const std::exception &) {
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              std::string("huggingface provider config: \"") + key +
                                  "\" is not valid (" + it->dump() + ")",
                              std::string(key) == "keep_alive"
                                  ? "give seconds (-1: never unload), or \"30s\", \"5m\", \"1h\""
                                  : "give bytes, a size like \"16GiB\", 0 (no limit) or \"auto\"");
        }
    };
    c.max_loaded_memory = parse_memory_size("auto");
    get_parsed("max_loaded_memory", parse_memory_size, c.max_loaded_memory);
    get_parsed("keep_alive", parse_duration_s, c.keep_alive_s);
    if (c.max_loaded_models < 1)
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          "huggingface provider config: \"max_loaded_models\" must be at least 1",
                          "1 keeps one model loaded at a time; the default is 3");
    return c;
}

} // namespace llmhost::hf
