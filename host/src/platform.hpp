// What differs between Linux and Windows in the host, behind one small interface:
// platform_posix.cpp and platform_windows.cpp implement it, and nothing else in host/src includes a
// system header. Strings crossing the host's API are UTF-8 everywhere; on Windows the file system
// and the environment speak UTF-16, so every path goes through u8path()/to_utf8() (std::string
// converts through the ANSI code page there, which loses any character outside it).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace llmhost::detail::platform {

// Plugin files: libllmhost_<name>.so on Linux, llmhost_<name>.dll on Windows.
extern const std::string_view plugin_file_prefix;
extern const std::string_view plugin_file_suffix;
// Where plugins live relative to the directory of the host library: lib/llmhost/plugins next to
// lib/libllmhost.so on Linux; on Windows llmhost.dll sits in bin/, so ../lib/llmhost/plugins.
extern const std::string_view library_relative_plugin_dir;
// Separator of directory lists such as $LLMHOST_PLUGIN_PATH: ':' on Linux, ';' on Windows
// (where ':' follows every drive letter).
extern const char path_list_separator;

// UTF-8 <-> native paths.
std::filesystem::path u8path(std::string_view utf8);
std::string to_utf8(const std::filesystem::path &p);

// The variable's value in UTF-8; nullopt when unset.
std::optional<std::string> getenv_utf8(const char *name);
// Every NAME=value of the environment, in UTF-8.
std::vector<std::string> environment_entries();

// The user's home ($HOME; %USERPROFILE% on Windows), empty when unknown.
std::string home_dir();
// Per-user configuration: $XDG_CONFIG_HOME or ~/.config on Linux, %APPDATA% on Windows.
std::filesystem::path user_config_dir();
// Per-user cache: $XDG_CACHE_HOME or ~/.cache on Linux, %LOCALAPPDATA% on Windows.
std::filesystem::path user_cache_dir();
// How the default config location is written in messages ("$XDG_CONFIG_HOME/llmhost/config.json").
extern const std::string_view config_location_hint;

// This process's id (temporary file names).
unsigned long process_id();

// Does the text name a file by path (a separator in it) rather than by plugin name?
bool looks_like_path(std::string_view text);

// Why a shared library failed to load, in words, from the error the loader reported (dlerror's
// text on Linux; GetLastError's code through FormatMessage on Windows).
std::string describe_load_error(const std::error_code &ec, std::string_view fallback);

} // namespace llmhost::detail::platform
