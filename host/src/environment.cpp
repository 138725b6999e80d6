#include "environment.hpp"

#include "platform.hpp"
#include "secret_patterns.hpp"

#include <llmhost/plugin.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace llmhost::detail {

std::optional<std::string> env_value(const char *name) {
    auto v = platform::getenv_utf8(name);
    if (!v || v->empty()) return std::nullopt;
    return v;
}

std::string home_dir() {
    std::string h = platform::home_dir();
    return h.empty() ? std::string("/") : h;
}

std::optional<std::string> read_text_file(const std::string &path) {
    std::ifstream in(platform::u8path(path), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> environment_secret_values() {
    // Generic, so that no plugin has to be known: every variable whose name looks like a
    // credential (HF_TOKEN, OPENAI_API_KEY, ANTHROPIC_API_KEY, ...; not HF_TOKEN_PATH) and the
    // userinfo of every URL. The plugins' manifests add their own sources (token files, ...).
    std::vector<std::string> out;
    for (const std::string &e : platform::environment_entries()) {
        std::string_view entry(e);
        size_t eq = entry.find('=');
        if (eq == std::string_view::npos || eq + 1 == entry.size()) continue;
        std::string_view name = entry.substr(0, eq), value = entry.substr(eq + 1);
        if (looks_like_secret_key(name)) {
            out.emplace_back(value); // raw and trimmed: either may be quoted somewhere
            out.push_back(trim_secret(value));
        }
        if (value.find("://") != std::string_view::npos)
            for (auto &part : url_userinfo_parts(value)) out.push_back(std::move(part));
    }
    return out;
}

std::optional<bool> parse_bool(std::string_view text) { return llmh::parse_bool(text); }

} // namespace llmhost::detail
