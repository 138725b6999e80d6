#include "environment.hpp"

#include "secret_patterns.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace llmhost::detail {

std::optional<std::string> env_value(const char *name) {
    const char *v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
}

std::string home_dir() {
    if (auto h = env_value("HOME")) return *h;
    return "/";
}

std::string hf_home() {
    if (auto v = env_value("HF_HOME")) return *v;
    if (auto v = env_value("XDG_CACHE_HOME")) return *v + "/huggingface";
    return home_dir() + "/.cache/huggingface";
}

std::string hf_hub_cache() {
    if (auto v = env_value("HF_HUB_CACHE")) return *v;
    return hf_home() + "/hub";
}

std::string hf_token_file() {
    if (auto v = env_value("HF_TOKEN_PATH")) return *v;
    return hf_home() + "/token";
}

std::optional<std::string> read_text_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<ResolvedSecret> hf_token_from_environment() {
    if (auto v = env_value("HF_TOKEN")) return ResolvedSecret{trim_secret(*v), "HF_TOKEN"};
    if (auto v = env_value("HUGGING_FACE_HUB_TOKEN"))
        return ResolvedSecret{trim_secret(*v), "HUGGING_FACE_HUB_TOKEN"};
    const std::string path = hf_token_file();
    if (auto text = read_text_file(path)) {
        // The first non-blank line, trimmed: a second line is not glued onto the token.
        std::string t = first_line_trimmed(*text);
        if (!t.empty()) return ResolvedSecret{t, "token file " + path};
    }
    return std::nullopt;
}

std::vector<std::string> environment_secret_values() {
    std::vector<std::string> out;
    for (const char *name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY"})
        if (auto v = env_value(name)) {
            out.push_back(*v); // raw and trimmed: either may be quoted somewhere
            out.push_back(trim_secret(*v));
        }
    if (auto t = hf_token_from_environment()) out.push_back(t->value);
    if (auto text = read_text_file(hf_token_file())) out.push_back(trim_secret(*text));
    for (const char *name : {"OPENAI_BASE_URL", "HF_ENDPOINT"})
        if (auto v = env_value(name))
            for (auto &part : url_userinfo_parts(*v)) out.push_back(std::move(part));
    return out;
}

bool valid_device(std::string_view d) {
    if (d == "auto" || d == "cpu" || d == "cuda") return true;
    if (d.substr(0, 5) != "cuda:" || d.size() == 5) return false;
    return std::all_of(d.begin() + 5, d.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::optional<bool> parse_bool(std::string_view text) {
    std::string t(text);
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
    if (t == "0" || t == "false" || t == "no" || t == "off") return false;
    return std::nullopt;
}

} // namespace llmhost::detail
