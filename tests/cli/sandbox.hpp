// A throw-away directory per test: a config file, a plugin directory holding a copy of the echo
// plugin, a private HOME/XDG tree, and fake secrets in the environment. Every run of `llmhost`
// through it checks that no secret value appears on stdout or stderr.
#pragma once

#include "child_process.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cli_test {

namespace fs = std::filesystem;

// Fake, but shaped like the real thing, so redaction cannot rely on them looking odd.
inline const std::string kFakeHfToken = "hf_FAKE-cli-test-token-0123456789-abcdefXYZ";
inline const std::string kFakeOpenAiKey = "sk-FAKE-cli-test-key-0123456789-abcdefXYZ";

inline void check_no_secret(const std::string &what, const std::string &text) {
    INFO(what << ":\n" << text);
    CHECK(text.find(kFakeHfToken) == std::string::npos);
    CHECK(text.find(kFakeOpenAiKey) == std::string::npos);
    // Not even a long piece of one.
    CHECK(text.find(kFakeHfToken.substr(3, 16)) == std::string::npos);
    CHECK(text.find(kFakeOpenAiKey.substr(3, 16)) == std::string::npos);
}

class Sandbox {
public:
    Sandbox() {
        std::string tmpl = (fs::temp_directory_path() / "llmhost-cli-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        plugins = dir / "plugins";
        config = dir / "llmhost.json";
        fs::create_directories(plugins);
        fs::create_directories(dir / "home");
        fs::copy_file(ECHO_PLUGIN_PATH, plugins / fs::path(ECHO_PLUGIN_PATH).filename());
        env = {
            {"HOME", (dir / "home").string()},
            {"XDG_CONFIG_HOME", (dir / "home" / ".config").string()},
            {"XDG_CACHE_HOME", (dir / "home" / ".cache").string()},
            {"HF_HOME", std::nullopt},
            {"HF_HUB_CACHE", std::nullopt},
            {"HF_TOKEN_PATH", std::nullopt},
            {"HUGGING_FACE_HUB_TOKEN", std::nullopt},
            {"LLMHOST_CONFIG", std::nullopt},
            {"LLMHOST_PLUGIN_PATH", std::nullopt},
            {"LLM_PROVIDER", std::nullopt},
            {"HF_TOKEN", kFakeHfToken},
            {"OPENAI_API_KEY", kFakeOpenAiKey},
        };
    }
    ~Sandbox() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    void write_file(const fs::path &path, const std::string &text) {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f << text;
        REQUIRE(f.good());
    }
    void write_config(const std::string &text) { write_file(config, text); }

    // One echo provider named "echo" (the default) with the given "config" object.
    void write_echo_config(const std::string &echo_config = "{}", const std::string &extra_entry = "") {
        write_config(R"({
  "default_provider": "echo",
  "providers": {
    "echo": { "plugin": "echo", "config": )" + echo_config + extra_entry + R"( }
  }
})");
    }

    // `llmhost --config <config> --no-default-plugin-dirs --plugin-dir <plugins> args...`
    std::vector<std::string> argv(const std::vector<std::string> &args, bool with_config = true) const {
        std::vector<std::string> a = {LLMHOST_CLI_PATH};
        if (with_config) a.insert(a.end(), {"--config", config.string()});
        a.insert(a.end(), {"--no-default-plugin-dirs", "--plugin-dir", plugins.string()});
        a.insert(a.end(), args.begin(), args.end());
        return a;
    }

    Result llmhost(const std::vector<std::string> &args, const std::string &stdin_data = {},
                   bool with_config = true) {
        Result r = run(argv(args, with_config), env, dir.string(), stdin_data);
        check_no_secret("stdout", r.out);
        check_no_secret("stderr", r.err);
        return r;
    }

    fs::path dir, plugins, config;
    EnvChanges env;
};

} // namespace cli_test
