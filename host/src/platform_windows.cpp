// platform.hpp on Windows: the file system and the environment are UTF-16; the host's strings are
// UTF-8, converted here and nowhere else.
#include "platform.hpp"

#include <windows.h>

#include <cstdlib>
#include <cwchar>

namespace llmhost::detail::platform {

const std::string_view plugin_file_prefix = "llmhost_";
const std::string_view plugin_file_suffix = ".dll";
const char path_list_separator = ';';
const std::string_view library_relative_plugin_dir = "../lib/llmhost/plugins";
const std::string_view config_location_hint = "%APPDATA%\\llmhost\\config.json";

namespace {

std::wstring widen(std::string_view utf8) {
    if (utf8.empty()) return {};
    int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
    if (n <= 0) return std::wstring(utf8.begin(), utf8.end()); // not UTF-8: bytes as code points
    std::wstring out(static_cast<size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
    return out;
}

std::string narrow(std::wstring_view wide) {
    if (wide.empty()) return {};
    int n = WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr, 0,
                                nullptr, nullptr);
    if (n <= 0) return {};
    std::string out(static_cast<size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), out.data(), n,
                        nullptr, nullptr);
    return out;
}

} // namespace

std::filesystem::path u8path(std::string_view utf8) { return std::filesystem::path(widen(utf8)); }
// With the preferred separator: "Z:/dir" + a file name would otherwise print as "Z:/dir\file".
std::string to_utf8(const std::filesystem::path &p) {
    std::filesystem::path preferred = p;
    return narrow(preferred.make_preferred().native());
}

std::optional<std::string> getenv_utf8(const char *name) {
    const wchar_t *v = _wgetenv(widen(name).c_str());
    if (v == nullptr) return std::nullopt;
    return narrow(v);
}

std::vector<std::string> environment_entries() {
    std::vector<std::string> out;
    wchar_t *block = GetEnvironmentStringsW();
    if (block == nullptr) return out;
    for (const wchar_t *e = block; *e; e += std::wcslen(e) + 1)
        if (*e != L'=') out.push_back(narrow(e)); // "=C:=C:\..." entries are per-drive cwds
    FreeEnvironmentStringsW(block);
    return out;
}

std::string home_dir() {
    if (auto h = getenv_utf8("USERPROFILE"); h && !h->empty()) return *h;
    auto drive = getenv_utf8("HOMEDRIVE"), path = getenv_utf8("HOMEPATH");
    if (drive && path) return *drive + *path;
    return {};
}

static std::filesystem::path known_dir(const char *variable, const char *fallback_under_home) {
    if (auto v = getenv_utf8(variable); v && !v->empty()) return u8path(*v);
    std::string home = home_dir();
    if (home.empty()) return {};
    return u8path(home) / fallback_under_home;
}

std::filesystem::path user_config_dir() { return known_dir("APPDATA", "AppData\\Roaming"); }
std::filesystem::path user_cache_dir() { return known_dir("LOCALAPPDATA", "AppData\\Local"); }

unsigned long process_id() { return GetCurrentProcessId(); }

bool looks_like_path(std::string_view text) {
    return text.find_first_of("/\\") != std::string_view::npos ||
           (text.size() >= 2 && text[1] == ':');
}

std::string describe_load_error(const std::error_code &ec, std::string_view fallback) {
    const DWORD code = static_cast<DWORD>(ec.value());
    wchar_t *buf = nullptr;
    DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS,
                             nullptr, code, 0, reinterpret_cast<wchar_t *>(&buf), 0, nullptr);
    std::string text = n && buf ? narrow(std::wstring_view(buf, n)) : std::string(fallback);
    if (buf) LocalFree(buf);
    // Some messages have an insert for the file ("%1 is not a valid Win32 application"); the
    // caller's message names it already.
    for (size_t at; (at = text.find("%1")) != std::string::npos;) text.replace(at, 2, "the file");
    while (!text.empty() &&
           (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.'))
        text.pop_back();
    text += " (Windows error " + std::to_string(code) + ")";
    switch (code) {
    case ERROR_MOD_NOT_FOUND: text += "; a DLL it depends on was not found either"; break;
    case ERROR_BAD_EXE_FORMAT: text += "; it is not a 64-bit Windows DLL"; break;
    default: break;
    }
    return text;
}

} // namespace llmhost::detail::platform
