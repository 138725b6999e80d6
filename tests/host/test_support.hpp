// Shared helpers of the host tests: a clean, isolated environment per test, temporary files,
// log capture, and HostOptions that look only at the test plugin directory.
#pragma once

#include <llmhost/host.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace test {

namespace fs = std::filesystem;

// setenv/unsetenv/getenv are POSIX; on Windows the environment is UTF-16 (_wputenv_s/_wgetenv,
// which the host reads too) and an empty value removes a variable, so tests never set "".
#ifdef _WIN32
inline std::wstring widen(const std::string &utf8) {
    return fs::path(std::u8string(utf8.begin(), utf8.end())).wstring();
}
inline void set_env(const std::string &name, const std::string &value) {
    ::_wputenv_s(widen(name).c_str(), widen(value).c_str());
}
inline void unset_env(const std::string &name) { ::_wputenv_s(widen(name).c_str(), L""); }
inline std::optional<std::string> get_env(const std::string &name) {
    const wchar_t *v = ::_wgetenv(widen(name).c_str());
    if (!v) return std::nullopt;
    std::u8string u = fs::path(v).u8string();
    return std::string(u.begin(), u.end());
}
#else
inline void set_env(const std::string &name, const std::string &value) {
    ::setenv(name.c_str(), value.c_str(), 1);
}
inline void unset_env(const std::string &name) { ::unsetenv(name.c_str()); }
inline std::optional<std::string> get_env(const std::string &name) {
    const char *v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
}
#endif

// A plugin's file name as the host looks for it: libllmhost_<name>.so on Linux,
// llmhost_<name>.dll on Windows (from the CMake variables, tests/host/CMakeLists.txt).
inline std::string plugin_file(const std::string &name) {
    return std::string(LLMHOST_PLUGIN_FILE_PREFIX) + "llmhost_" + name + LLMHOST_PLUGIN_FILE_SUFFIX;
}

// The separator of LLMHOST_PLUGIN_PATH, as of PATH.
#ifdef _WIN32
inline constexpr char kPathListSeparator = ';';
#else
inline constexpr char kPathListSeparator = ':';
#endif

// Sets/unsets environment variables for one scope and restores them afterwards.
class EnvGuard {
public:
    EnvGuard() = default;
    EnvGuard(const EnvGuard &) = delete;
    ~EnvGuard() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second) set_env(it->first, *it->second);
            else unset_env(it->first);
        }
    }
    void set(const std::string &name, const std::string &value) {
        save(name);
        set_env(name, value);
    }
    void unset(const std::string &name) {
        save(name);
        unset_env(name);
    }

private:
    void save(const std::string &name) { saved_.emplace_back(name, get_env(name)); }
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

inline std::string random_letters(size_t n, unsigned seed = std::random_device{}()) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(0, 51);
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        int c = d(rng);
        s += static_cast<char>(c < 26 ? 'a' + c : 'A' + c - 26);
    }
    return s;
}

// A fake token shaped like a real Hugging Face one: "hf_" + 34 random letters.
inline std::string fake_hf_token() { return "hf_" + random_letters(34); }

// A temporary directory, removed at the end of the scope.
class TempDir {
public:
    TempDir() {
        path_ = fs::temp_directory_path() / ("llmhost-test-" + random_letters(12));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path &path() const { return path_; }
    std::string write(const std::string &name, const std::string &content) const {
        fs::path p = path_ / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }

private:
    fs::path path_;
};

// A path the host reports against the one the test expects. On Linux the text must be equal. On
// Windows the host may join with '\\' what the test joined with '/' (both are separators there),
// so both must name the same existing file.
inline bool same_path(const std::string &reported, const std::string &expected) {
#ifdef _WIN32
    auto u8 = [](const std::string &s) { return fs::path(std::u8string(s.begin(), s.end())); };
    std::error_code ec;
    return !reported.empty() && fs::equivalent(u8(reported), u8(expected), ec) && !ec;
#else
    return reported == expected;
#endif
}

// Every test runs with no llmhost / Hugging Face / OpenAI variable set, HOME and the XDG dirs in
// a temporary directory (so no real token file or config is ever read), and cwd there too.
class CleanEnvironment {
public:
    CleanEnvironment() {
        for (const char *v : {"LLM_PROVIDER", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
                              "HF_HOME", "HF_HUB_CACHE", "HF_MODEL_PATH", "HF_DEVICE", "HF_ENDPOINT",
                              "HF_HUB_OFFLINE", "HF_HUB_DOWNLOAD_TIMEOUT", "HF_HUB_ETAG_TIMEOUT",
                              "OPENAI_API_KEY", "OPENAI_BASE_URL", "LLMHOST_CONFIG",
                              "LLMHOST_PLUGIN_PATH", "XDG_CACHE_HOME", "LLMHOST_CACHE_DIR"})
            env.unset(v);
        env.set("HOME", home.path().string());
        env.set("XDG_CONFIG_HOME", (home.path() / ".config").string());
#ifdef _WIN32
        // Windows' equivalents: the home, %APPDATA% (config) and %LOCALAPPDATA% (cache).
        env.set("USERPROFILE", home.path().string());
        env.set("APPDATA", (home.path() / "AppData" / "Roaming").string());
        env.set("LOCALAPPDATA", (home.path() / "AppData" / "Local").string());
#endif
        old_cwd_ = fs::current_path();
        fs::current_path(home.path());
    }
    ~CleanEnvironment() { fs::current_path(old_cwd_); }

    TempDir home;
    EnvGuard env;

private:
    fs::path old_cwd_;
};

// Only the test plugin directory, no default dirs, no config file unless a test gives one.
inline llmhost::HostOptions test_options() {
    llmhost::HostOptions o;
    o.plugin_dirs = {LLMHOST_TEST_PLUGIN_DIR};
    o.search_default_plugin_dirs = false;
    o.log_level = LLMH_LOG_DEBUG;
    return o;
}

// Collects every log line a host emits.
struct LogCapture {
    std::mutex mu;
    std::vector<std::pair<llmh_log_level, std::string>> lines;
    llmhost::LogSink sink() {
        return [this](llmh_log_level level, std::string_view msg) {
            std::lock_guard lock(mu);
            lines.emplace_back(level, std::string(msg));
        };
    }
    size_t count_containing(const std::string &needle) {
        std::lock_guard lock(mu);
        size_t n = 0;
        for (const auto &[l, m] : lines) n += m.find(needle) != std::string::npos;
        return n;
    }
    std::string all() {
        std::lock_guard lock(mu);
        std::string s;
        for (const auto &[l, m] : lines) s += m + "\n";
        return s;
    }
};

inline uint64_t fnv1a64(const std::string &s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

inline std::string fnv_hex(const std::string &s) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(s)));
    return buf;
}

inline llmhost::GenerateRequest prompt(const std::string &text) {
    llmhost::GenerateRequest r;
    r.prompt = text;
    return r;
}

// Runs f, which must throw HostError; returns it.
template <class F> llmhost::HostError expect_host_error(F &&f) {
    try {
        f();
    } catch (const llmhost::HostError &e) {
        return e;
    }
    FAIL("expected llmhost::HostError, nothing was thrown");
    throw std::logic_error("unreachable");
}

} // namespace test
