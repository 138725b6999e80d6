// The canary: a distinctive fake secret planted in every place a secret can come from (literal
// config secret, ${VAR}, {"env"}, {"file"} with two lines, the token file via HF_HOME and
// HF_TOKEN_PATH, HF_TOKEN, OPENAI_API_KEY, URL userinfo in OPENAI_BASE_URL / HF_ENDPOINT / config,
// oddly-cased and nested config keys), in valid and in broken configurations, while every
// command runs, including its error paths. No byte of a canary may reach stdout or stderr.
// Failures say "canary found in <stream> of <command> at offset N", never the text around it.
// Network commands target 127.0.0.1 on a port nobody listens on; the Hub commands run offline.
#include "child_process.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace cli_test;
namespace fs = std::filesystem;

namespace {

// Every canary holds this stem; none looks like a real token.
const std::string kStem = "CANARY-7f3a";
std::string canary(const std::string &where) { return kStem + "-" + where + "-c0ffee"; }

// The first offset of a canary or a recognisable piece of one ("7f3a-" never occurs in the
// sandbox's own paths: mkdtemp names have no '-').
size_t canary_offset(const std::string &text) {
    size_t best = std::string::npos;
    for (const char *needle : {"CANARY", "7f3a-", "-c0ffee"})
        best = std::min(best, text.find(needle));
    return best;
}

std::string join(const std::vector<std::string> &args) {
    std::string s;
    for (const auto &a : args) s += (s.empty() ? "" : " ") + a;
    return s;
}

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// A listening socket, so that `serve` on its port fails at startup.
struct BusyPort {
    int fd = -1, port = 0;
    BusyPort() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 1) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~BusyPort() { ::close(fd); }
};

class CanaryBox {
public:
    CanaryBox() {
        std::string tmpl = (fs::temp_directory_path() / "llmhost-canary-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        plugins = dir / "plugins";
        fs::create_directories(plugins);
        fs::create_directories(dir / "home");
        fs::create_directories(dir / "hf_home");
        fs::create_directories(dir / "models");
        fs::copy_file(ECHO_PLUGIN_PATH, plugins / fs::path(ECHO_PLUGIN_PATH).filename());
        if (std::string(OPENAI_PLUGIN_PATH).size() > 0)
            fs::copy_file(OPENAI_PLUGIN_PATH, plugins / fs::path(OPENAI_PLUGIN_PATH).filename());
        // The environment bridge comes from each plugin's manifest: a stand-in carrying the
        // huggingface plugin's manifest (the real plugin needs libtorch) brings HF_TOKEN, the
        // token file and HF_ENDPOINT into play, as the real plugin does.
        if (std::string(FAKE_HF_PLUGIN_PATH).size() > 0)
            fs::copy_file(FAKE_HF_PLUGIN_PATH, plugins / fs::path(FAKE_HF_PLUGIN_PATH).filename());
        port = closed_port();
        const std::string local = "127.0.0.1:" + std::to_string(port);
        // A secret file of two lines: the first is the secret, both are canaries.
        secret_file =
            write("secret.txt", "  " + canary("file-line1") + " \n" + canary("file-line2") + "\n");
        write("hf_home/token",
              canary("hf-home-token") + "\n" + canary("hf-home-token-line2") + "\n");
        token_path =
            write("token_path", "\n" + canary("token-path") + "\r\n" + canary("token-path-line2"));
        env = {
            {"HOME", (dir / "home").string()},
            {"XDG_CONFIG_HOME", (dir / "home" / ".config").string()},
            {"XDG_CACHE_HOME", (dir / "home" / ".cache").string()},
            {"HF_HOME", (dir / "hf_home").string()},
            {"HF_HUB_CACHE", std::nullopt},
            {"HF_TOKEN_PATH", std::nullopt},
            // The Hub client retries a refused connection for a long time: offline mode keeps the
            // hub commands local (their error paths still quote the endpoint and the token source).
            {"HF_HUB_OFFLINE", "1"},
            {"HF_HUB_DISABLE_PROGRESS_BARS", "1"},
            {"HF_HUB_ETAG_TIMEOUT", "2"},
            {"HF_HUB_DOWNLOAD_TIMEOUT", "2"},
            {"LLMHOST_CONFIG", std::nullopt},
            {"LLMHOST_PLUGIN_PATH", std::nullopt},
            {"LLM_PROVIDER", std::nullopt},
            {"LLMHOST_API_KEYS", std::nullopt},
            {"LLMHOST_ADMIN_KEYS", std::nullopt},
            {"HF_TOKEN", canary("hf-token") + "\n"}, // trailing newline: trimmed, still hidden
            {"HUGGING_FACE_HUB_TOKEN", canary("legacy-hub-token")},
            {"OPENAI_API_KEY", " " + canary("openai-key") + "\n"},
            {"OPENAI_BASE_URL", "http://oauser:" + canary("openai-url") + "@" + local + "/v1"},
            {"HF_ENDPOINT", "http://hfuser:" + canary("hf-url") + "@" + local},
            {"LLMHOST_TEST_SECRET", canary("env-ref") + "\n"},
            {"LLMHOST_TEST_EXPANDED", canary("expanded")},
        };
    }
    ~CanaryBox() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    std::string write(const std::string &name, const std::string &text) {
        fs::path p = dir / name;
        std::ofstream f(p, std::ios::binary | std::ios::trunc);
        f << text;
        REQUIRE(f.good());
        return p.string();
    }

    // A valid configuration holding a canary in every kind of place.
    std::string valid_config(const std::string &extra_providers = "") const {
        const std::string local = "127.0.0.1:" + std::to_string(port);
        std::ostringstream c;
        c << R"({
  "default_provider": "echo",
  "providers": {
    "echo": {
      "plugin": "echo",
      "config": {
        "prefix": "",
        "Token": ")"
          << canary("cfg-Token") << R"(",
        "API_KEY": ")"
          << canary("cfg-API_KEY") << R"(",
        "apiKey": ")"
          << canary("cfg-apiKey") << R"(",
        "auth_token": ")"
          << canary("cfg-auth_token") << R"(",
        "private_key": ")"
          << canary("cfg-private_key") << R"(",
        "x-api-key": ")"
          << canary("cfg-x-api-key") << R"(",
        "client_secret": ")"
          << canary("cfg-client_secret") << R"(",
        "auth": {"token": ")"
          << canary("cfg-nested-auth-token") << R"("},
        "headers": {"Authorization": "Bearer )"
          << canary("cfg-nested-authorization") << R"("},
        "callback_url": "http://user:)"
          << canary("cfg-url") << "@" << local << R"(/hook"
      },
      "secrets": {
        "token": ")"
          << canary("literal") << R"(",
        "from_env": {"env": "LLMHOST_TEST_SECRET"},
        "from_file": {"file": ")"
          << secret_file << R"("},
        "expanded": "${LLMHOST_TEST_EXPANDED}"
      }
    },
    "oa": {"plugin": "openai", "config": {"model": "m"}},
    "oa2": {"plugin": "openai",
            "config": {"model": "m", "base_url": "http://u:)"
          << canary("cfg-base-url") << "@" << local << R"(/v1",
                       "apiKey": ")"
          << canary("cfg-oa2-apiKey") << R"("}},
    "hf": {"plugin": "huggingface",
           "config": {"endpoint": "http://u:)"
          << canary("cfg-endpoint") << "@" << local << R"("}})" << extra_providers << R"(
  }
})";
        return c.str();
    }

    Result run(const std::vector<std::string> &args, const std::string &config_text,
               const std::string &stdin_data = {}, double timeout_s = 20) {
        std::vector<std::string> argv = {LLMHOST_CLI_PATH};
        if (!config_text.empty())
            argv.insert(argv.end(), {"--config", write("llmhost.json", config_text)});
        argv.insert(argv.end(), {"--no-default-plugin-dirs", "--plugin-dir", plugins.string()});
        argv.insert(argv.end(), args.begin(), args.end());
        Result r = cli_test::run(argv, env, dir.string(), stdin_data, timeout_s);
        const std::string what = join(args) + " [" + label + "]";
        if (size_t at = canary_offset(r.out); at != std::string::npos)
            FAIL_CHECK("canary found in stdout of `llmhost " << what << "` at offset " << at);
        if (size_t at = canary_offset(r.err); at != std::string::npos)
            FAIL_CHECK("canary found in stderr of `llmhost " << what << "` at offset " << at);
        CHECK_MESSAGE(r.exit_code >= 0,
                      "`llmhost " << what << "` timed out or crashed: " << r.exit_code);
        CHECK_MESSAGE(r.exit_code < 128,
                      "`llmhost " << what << "` was killed by a signal: " << r.exit_code);
        ++runs;
        return r;
    }

    fs::path dir, plugins;
    std::string secret_file, token_path, label = "valid config";
    int port = 0;
    int runs = 0;
    EnvChanges env;
};

// Every command and its usual error paths, in one configuration.
void walk_every_command(CanaryBox &box, const std::string &config) {
    box.run({"--version"}, config);
    box.run({"--help"}, config);
    box.run({"plugins"}, config);
    box.run({"plugins", "--json"}, config);
    box.run({"providers"}, config);
    box.run({"providers", "--json"}, config);
    box.run({"providers", "--models"}, config);
    box.run({"generate", "hello"}, config);
    box.run({"generate", "-p", "oa", "--max-tokens", "4", "hello"}, config);
    box.run({"generate", "-p", "oa2", "hello"}, config);
    box.run({"generate", "-p", "hf", "hello"}, config);
    box.run({"generate", "-p", "no-such-provider", "hello"}, config);
    box.run({"generate"}, config, "");
    box.run({"generate", "--temperature", "nope", "x"}, config);
    box.run({"chat"}, config, "hi\n/reset\n/exit\n");
    box.run({"chat", "-p", "oa"}, config, "hi\n");
    box.run({"config", "show"}, config);
    box.run({"config", "path"}, config);
    box.run({"-v", "doctor"}, config);
    box.run({"download", "org/model", "--include", "*.json"}, config);
    box.run({"download", "org/model", "--hub-provider", "hf"}, config);
    box.run({"whoami"}, config);
    box.run({"whoami", "--hub-provider", "hf"}, config);
    box.run({"cache", "ls"}, config);
    box.run({"cache", "rm", "org/model"}, config);
    box.run({"tokenize", "-m", (box.dir / "models" / "missing").string(), "hello"}, config);
    box.run({"serve", "--help"}, config);
    box.run({"mirror", "--help"}, config);
    box.run({"no-such-command"}, config);
}

} // namespace

TEST_CASE("canary: no secret from any source reaches the output of any command (valid config)") {
    CanaryBox box;
    const std::string config = box.valid_config();
    walk_every_command(box, config);

    // Not vacuous: the commands really ran with the secrets in place.
    auto show = box.run({"config", "show"}, config);
    CHECK(show.exit_code == 0);
    CHECK(show.out.find("(set, from env LLMHOST_TEST_SECRET)") != std::string::npos);
    CHECK(show.out.find("[redacted]@127.0.0.1") != std::string::npos);
    auto gen = box.run({"generate", "hello"}, config);
    CHECK(gen.exit_code == 0);
    CHECK(gen.out.find("hello") != std::string::npos);

    // serve: startup error on a port in use.
    BusyPort busy;
    box.run({"serve", "--host", "127.0.0.1", "--port", std::to_string(busy.port)}, config, "", 10);
    // ... with client and admin keys from the environment and from a key file.
    box.env["LLMHOST_API_KEYS"] = canary("serve-key") + ", " + canary("serve-key-2");
    box.env["LLMHOST_ADMIN_KEYS"] = canary("admin-key");
    box.run({"serve", "--host", "127.0.0.1", "--port", std::to_string(busy.port)}, config, "", 10);
    const std::string key_file = box.write("keys.txt", canary("key-file") + "\n");
    box.run({"serve", "--host", "0.0.0.0", "--port", std::to_string(busy.port), "--api-key-file",
             key_file},
            config, "", 10);
    box.env["LLMHOST_API_KEYS"] = std::nullopt;
    box.env["LLMHOST_ADMIN_KEYS"] = std::nullopt;

    // Without a config file: the environment bridge alone.
    box.label = "environment only";
    for (const std::vector<std::string> &args : {std::vector<std::string>{"config", "show"},
                                                 {"doctor"},
                                                 {"providers"},
                                                 {"whoami"},
                                                 {"generate", "-p", "openai", "hi"},
                                                 {"download", "org/model"}})
        box.run(args, "");
}

TEST_CASE("canary: the token file (HF_HOME/token, HF_TOKEN_PATH) and its first line never show") {
    CanaryBox box;
    const std::string config = box.valid_config();
    box.env["HF_TOKEN"] = std::nullopt;
    box.env["HUGGING_FACE_HUB_TOKEN"] = std::nullopt;
    for (const char *variant : {"HF_HOME/token", "HF_TOKEN_PATH"}) {
        box.label = variant;
        if (std::string(variant) == "HF_TOKEN_PATH") box.env["HF_TOKEN_PATH"] = box.token_path;
        for (const std::vector<std::string> &args : {std::vector<std::string>{"config", "show"},
                                                     {"doctor"},
                                                     {"whoami"},
                                                     {"download", "org/model"},
                                                     {"generate", "-p", "hf", "hi"},
                                                     {"providers", "--models"}})
            box.run(args, config);
        auto show = box.run({"config", "show"}, "");
        CHECK(show.out.find("(set, from token file") != std::string::npos);
    }
}

TEST_CASE("canary: broken configurations never quote a secret") {
    CanaryBox box;
    const std::string head = "{\n  \"providers\": {\n    \"p\": {\"plugin\": \"echo\",\n";
    const std::vector<std::pair<std::string, std::string>> broken = {
        {"raw newline in a secret", head + "      \"secrets\": {\"token\": \"" + canary("nl") +
                                        "\n" + canary("nl2") + "\"}}}}\n"},
        {"missing closing quote",
         head + "      \"secrets\": {\"token\": \"" + canary("noclose") + "}}}}\n"},
        {"missing opening quote",
         head + "      \"secrets\": {\"token\": " + canary("noopen") + "\"}}}}\n"},
        {"missing comma",
         head + "      \"config\": {\"apiKey\": \"" + canary("nocomma") + "\" \"x\": 1}}}}\n"},
        {"bad literal after a secret",
         head + "      \"config\": {\"Token\": \"" + canary("badlit") + "\", \"n\": tru}}}}\n"},
        {"unterminated ${",
         head + "      \"secrets\": {\"token\": \"" + canary("unterm") + "${HOME\"}}}}\n"},
        {"invalid ${name}",
         head + "      \"secrets\": {\"token\": \"x${" + canary("badname") + "}\"}}}}\n"},
        {"unset ${VAR} in a secret",
         head + "      \"secrets\": {\"token\": \"x${CANARY_7f3a_UNSET}\"}}}}\n"},
        {"unterminated ${ in a nested key", head + "      \"config\": {\"auth\": {\"token\": \"" +
                                                canary("nested-unterm") + "${\"}}}}}\n"},
        {"truncated file", head + "      \"secrets\": {\"token\": \"" + canary("truncated")},
    };
    for (const auto &[kind, text] : broken) {
        box.label = kind;
        for (const std::vector<std::string> &args : {std::vector<std::string>{"config", "show"},
                                                     {"doctor"},
                                                     {"providers"},
                                                     {"generate", "x"},
                                                     {"whoami"},
                                                     {"plugins"}}) {
            auto r = box.run(args, text);
            if (args[0] != "plugins")
                CHECK_MESSAGE(r.exit_code == 3,
                              kind << ": " << join(args) << " exit " << r.exit_code);
        }
    }
}

TEST_CASE("canary: a secret with CR/LF is refused by name, never copied into a header") {
    CanaryBox box;
    const std::string config = box.valid_config();
    const std::string evil = canary("crlf") + "\r\nX-Injected: " + canary("injected");
    for (const char *var : {"LLMHOST_TEST_SECRET", "OPENAI_API_KEY", "HF_TOKEN"}) {
        box.label = std::string("control char in ") + var;
        box.env[var] = evil;
        for (const std::vector<std::string> &args : {std::vector<std::string>{"config", "show"},
                                                     {"doctor"},
                                                     {"generate", "-p", "oa", "hi"},
                                                     {"whoami"},
                                                     {"download", "org/model"}}) {
            auto r = box.run(args, config);
            CHECK_MESSAGE(r.exit_code == 3,
                          box.label << ": " << join(args) << " exit " << r.exit_code);
            CHECK((r.out + r.err).find("control character") != std::string::npos);
        }
        box.env[var] = canary("restored");
    }
}

TEST_CASE("doctor: a provider named with '~' or '/' is checked, not a JSON-pointer error") {
    CanaryBox box;
    const std::string extra = R"(,
    "a~b": {"plugin": "echo", "secrets": {"token": ")" +
                              canary("tilde") + R"("}},
    "c/d": {"plugin": "echo", "secrets": {"api_key": ")" +
                              canary("slash") + R"("}})";
    const std::string config = box.valid_config(extra);
    box.label = "provider names with ~ and /";
    auto r = box.run({"doctor"}, config);
    CHECK(r.out.find("a~b (plugin echo") != std::string::npos);
    CHECK(r.out.find("a~b secret 'token': set (from config)") != std::string::npos);
    CHECK(r.out.find("c/d secret 'api_key': set (from config)") != std::string::npos);
    CHECK(r.err.find("json.exception") == std::string::npos);
    CHECK(r.err.find("json_pointer") == std::string::npos);
}
