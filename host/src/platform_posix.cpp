// platform.hpp on Linux (and other POSIX systems): paths and the environment are bytes, taken as
// UTF-8.
#include "platform.hpp"

#include <cstdlib>
#include <unistd.h>

extern char **environ;

namespace llmhost::detail::platform {

const std::string_view plugin_file_prefix = "libllmhost_";
const std::string_view plugin_file_suffix = ".so";
const char path_list_separator = ':';
const std::string_view library_relative_plugin_dir = "llmhost/plugins";
const std::string_view config_location_hint = "$XDG_CONFIG_HOME/llmhost/config.json";

std::filesystem::path u8path(std::string_view utf8) { return std::filesystem::path(utf8); }
std::string to_utf8(const std::filesystem::path &p) { return p.string(); }

std::optional<std::string> getenv_utf8(const char *name) {
    const char *v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
}

std::vector<std::string> environment_entries() {
    std::vector<std::string> out;
    for (char **e = environ; e && *e; ++e) out.emplace_back(*e);
    return out;
}

std::string home_dir() {
    auto h = getenv_utf8("HOME");
    return h ? *h : std::string();
}

static std::filesystem::path xdg_dir(const char *variable, const char *fallback_under_home) {
    if (auto v = getenv_utf8(variable); v && !v->empty()) return *v;
    std::string home = home_dir();
    if (home.empty()) return {};
    return std::filesystem::path(home) / fallback_under_home;
}

std::filesystem::path user_config_dir() { return xdg_dir("XDG_CONFIG_HOME", ".config"); }
std::filesystem::path user_cache_dir() { return xdg_dir("XDG_CACHE_HOME", ".cache"); }

unsigned long process_id() { return static_cast<unsigned long>(::getpid()); }

bool looks_like_path(std::string_view text) { return text.find('/') != std::string_view::npos; }

std::string describe_load_error(const std::error_code &, std::string_view fallback) {
    return std::string(fallback); // Boost.DLL's message already carries dlerror()'s text
}

} // namespace llmhost::detail::platform
