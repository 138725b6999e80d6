// One-shot commands of the `llmhost` binary: --version/--help, generate (streaming, stdin,
// options), exit codes, plugins (incl. a bad plugin file), providers, config show, doctor, and that
// no secret value ever reaches stdout or stderr (checked on every run by Sandbox::llmhost).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "sandbox.hpp"

#include "progress_bar.hpp"

#include <llmhost/plugin.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <regex>

using namespace cli_test;

namespace {
bool contains(const std::string &s, const std::string &needle) {
    return s.find(needle) != std::string::npos;
}

uint64_t fnv1a64(const std::string &s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}
} // namespace

TEST_CASE("--version names the version and the plugin ABI") {
    Sandbox sb;
    auto r = sb.llmhost({"--version"}, {}, false);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "llmhost "));
    CHECK(contains(r.out, "plugin ABI " + std::to_string(LLMH_ABI_MAJOR) + "."));
}

TEST_CASE("--help shows the commands, examples and the exit-code table") {
    Sandbox sb;
    auto r = sb.llmhost({"--help"}, {}, false);
    CHECK(r.exit_code == 0);
    for (const char *s : {"generate", "chat", "plugins", "providers", "config", "doctor",
                          "Examples:", "Exit codes:", "130"})
        CHECK_MESSAGE(contains(r.out, s), s);
}

TEST_CASE("a bad command line exits 2") {
    Sandbox sb;
    sb.write_echo_config();
    CHECK(sb.llmhost({}).exit_code == 2);             // no subcommand
    CHECK(sb.llmhost({"frobnicate"}).exit_code == 2); // unknown subcommand
    CHECK(sb.llmhost({"generate", "--max-tokens", "x", "hi"}).exit_code == 2);
}

TEST_CASE("generate streams tokens to stdout as they are produced") {
    Sandbox sb;
    sb.write_echo_config(R"({"delay_ms": 250})");
    auto argv = sb.argv({"generate", "one two three four five"});
    Child c(argv, sb.env, sb.dir.string());
    c.close_stdin();
    int rc = c.wait(30);
    CHECK(rc == 0);
    CHECK(c.out() == "one two three four five\n");
    // Five tokens 250 ms apart: the first must reach stdout long before the process ends.
    INFO("first stdout at " << c.first_stdout_s() << " s, exit at " << c.elapsed_s() << " s");
    CHECK(c.first_stdout_s() >= 0);
    CHECK(c.elapsed_s() - c.first_stdout_s() > 0.6);
    check_no_secret("stderr", c.err());
}

TEST_CASE("generate reads the prompt from stdin when none is given") {
    Sandbox sb;
    sb.write_echo_config();
    auto r = sb.llmhost({"generate"}, "piped prompt text\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "piped prompt text\n");

    auto empty = sb.llmhost({"generate"}, "");
    CHECK(empty.exit_code == 2);
    CHECK(contains(empty.err, "no prompt"));
}

TEST_CASE("generate: unquoted words, --max-tokens, --stop, --system, -v") {
    Sandbox sb;
    sb.write_echo_config(R"({"prefix": "E: "})");
    auto words = sb.llmhost({"generate", "alpha", "beta"});
    CHECK(words.out == "E: alpha beta\n");

    auto limited = sb.llmhost({"generate", "--max-tokens", "3", "a b c d e f"});
    CHECK(limited.exit_code == 0);
    CHECK(limited.out == "E: a b \n"); // prefix + 2 words = 3 tokens

    auto stopped = sb.llmhost({"generate", "--stop", "c", "a b c d"});
    CHECK(stopped.out == "E: a b \n");

    auto chat = sb.llmhost({"generate", "--system", "be brief", "the user text"});
    CHECK(chat.out == "E: the user text\n"); // echo answers the last user message

    auto verbose = sb.llmhost({"-v", "generate", "x y z"});
    CHECK(verbose.exit_code == 0);
    CHECK(contains(verbose.err, "provider echo: finish=stop"));
    CHECK(contains(verbose.err, "completion 4 tokens"));
    CHECK(contains(verbose.err, "prompt 3 tokens"));
}

TEST_CASE("generate on an unknown provider exits 5 naming it") {
    Sandbox sb;
    sb.write_echo_config();
    auto r = sb.llmhost({"generate", "-p", "nosuchprovider", "hi"});
    CHECK(r.exit_code == 5);
    CHECK(contains(r.err, "nosuchprovider"));
    CHECK(contains(r.err, "error: "));
}

TEST_CASE(
    "a provider whose plugin fails to create an instance exits non-zero with the plugin's hint") {
    Sandbox sb;
    sb.write_echo_config(R"({"fail_create": true})");
    auto r = sb.llmhost({"generate", "hi"});
    CHECK(r.exit_code == 1); // invalid_argument
    CHECK(contains(r.err, "fail_create"));
    CHECK(contains(r.err, "hint: "));
}

TEST_CASE("a syntax error in the config exits 3 with file:line:column") {
    Sandbox sb;
    sb.write_config("{\n  \"default_provider\": \"echo\",\n  \"providers\": {\n    \"echo\": { "
                    "\"plugin\": \"echo\" },,\n  }\n}\n");
    auto r = sb.llmhost({"generate", "hi"});
    CHECK(r.exit_code == 3);
    INFO(r.err);
    std::regex where(
        std::regex_replace(sb.config.string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
        R"(:4:\d+)");
    CHECK(std::regex_search(r.err, where));
}

TEST_CASE("an unknown config key exits 3 and suggests the closest valid one") {
    Sandbox sb;
    sb.write_config(R"({ "default_provider": "echo", "provders": {} })");
    auto r = sb.llmhost({"providers"});
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "provders"));
    CHECK(contains(r.err, "providers"));
    CHECK(contains(r.err, sb.config.string() + ":1:"));
}

TEST_CASE("plugins lists the echo plugin with version, ABI and capabilities") {
    Sandbox sb;
    sb.write_echo_config();
    auto r = sb.llmhost({"plugins"});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "echo"));
    CHECK(contains(r.out, "2.0.0"));
    CHECK(contains(r.out, "chat,completion,streaming"));
    CHECK(contains(r.out, "tools"));
    CHECK(contains(r.out, "reasoning"));
    CHECK(contains(r.out, (sb.plugins / "libllmhost_echo.so").string()));

    auto json = sb.llmhost({"plugins", "--json"});
    auto arr = nlohmann::json::parse(json.out);
    REQUIRE(arr.size() == 1);
    CHECK(arr[0]["name"] == "echo");
    CHECK(arr[0]["loaded"] == true);
}

TEST_CASE("plugins reports a bad plugin file with the reason, and still lists the good ones") {
    Sandbox sb;
    sb.write_echo_config();
    fs::path bad = sb.plugins / "libllmhost_bad.so";
    sb.write_file(bad, "this is not an ELF shared object, just garbage\n");
    auto r = sb.llmhost({"plugins"});
    CHECK(r.exit_code == 7);
    INFO(r.out);
    CHECK(contains(r.out, "FAILED " + bad.string()));
    CHECK(contains(r.out, "  error: "));
    CHECK(contains(r.out, "libllmhost_bad.so"));
    CHECK(contains(r.out, (sb.plugins / "libllmhost_echo.so").string()));

    // The good plugin keeps working next to the bad one.
    auto g = sb.llmhost({"generate", "still works"});
    CHECK(g.exit_code == 0);
    CHECK(g.out == "still works\n");
}

TEST_CASE("providers lists the configured providers and marks the default") {
    Sandbox sb;
    sb.write_config(R"({
  "default_provider": "second",
  "providers": {
    "first": { "plugin": "echo", "config": {} },
    "second": { "plugin": "echo", "config": {"prefix": "2: "} }
  }
})");
    auto r = sb.llmhost({"providers"});
    CHECK(r.exit_code == 0);
    std::regex default_row(R"(\nsecond\s+echo\s+\S+\s+\*)");
    INFO(r.out);
    CHECK(std::regex_search(r.out, default_row));
    CHECK(contains(r.out, "first"));
    auto g = sb.llmhost({"generate", "hello"});
    CHECK(g.out == "2: hello\n");
    auto p = sb.llmhost({"generate", "-p", "first", "hello"});
    CHECK(p.out == "hello\n");
}

TEST_CASE("config show prints the resolved config with secrets described, never their values") {
    Sandbox sb;
    sb.write_echo_config(
        R"({"prefix": "${ECHO_PREFIX:-dflt}"})",
        R"(, "secrets": {"token": {"env": "HF_TOKEN"}, "api_key": "${OPENAI_API_KEY}"})");
    auto r = sb.llmhost({"config", "show"});
    CHECK(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["providers"]["echo"]["config"]["prefix"] == "dflt");
    std::string token = j["providers"]["echo"]["secrets"]["token"];
    std::string key = j["providers"]["echo"]["secrets"]["api_key"];
    CHECK(token == "hf_…(set, from env HF_TOKEN)");
    CHECK(contains(key, "(set, from"));
    CHECK(contains(r.err, sb.config.string()));

    auto path = sb.llmhost({"config", "path"});
    CHECK(path.out == sb.config.string() + "\n");
}

TEST_CASE("the secret granted to a provider reaches its plugin (without being printed)") {
    Sandbox sb;
    sb.write_echo_config(R"({"report_secret": "token"})",
                         R"(, "secrets": {"token": {"env": "HF_TOKEN"}})");
    auto r = sb.llmhost({"generate", "hi"});
    CHECK(r.exit_code == 0);
    char expected[64];
    std::snprintf(expected, sizeof expected, "fnv1a64=%016llx",
                  static_cast<unsigned long long>(fnv1a64(kFakeHfToken)));
    CHECK(contains(r.out, expected));
}

TEST_CASE("a secret that a provider sends back is redacted from the output") {
    Sandbox sb;
    // A provider echoes it (here: the prompt contains it): it never reaches stdout.
    sb.write_echo_config();
    auto echoed = sb.llmhost({"generate"}, "my token is " + kFakeHfToken + " and my key " +
                                               kFakeOpenAiKey + "\n");
    CHECK(echoed.exit_code == 0);
    CHECK(contains(echoed.out, "my token is [redacted] and my key [redacted]"));

    // Also when the config puts it where the plugin prints it.
    sb.write_echo_config(R"({"prefix": "${HF_TOKEN} "})");
    auto prefixed = sb.llmhost({"-v", "generate", "x"});
    CHECK(contains(prefixed.out, "[redacted] x"));
}

TEST_CASE("doctor reports config, secrets and their source, plugins, cache and GPU") {
    Sandbox sb;
    sb.write_echo_config("{}", R"(, "secrets": {"token": {"env": "HF_TOKEN"}})");
    auto r = sb.llmhost({"doctor"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "configuration file " + sb.config.string()));
    CHECK(contains(r.out, "default provider: echo"));
    CHECK(contains(r.out, "HF_TOKEN is set"));
    CHECK(contains(r.out, "OPENAI_API_KEY is set"));
    CHECK(contains(r.out, "echo secret 'token': set (from env HF_TOKEN)"));
    CHECK(contains(r.out, "ok    echo 2.0.0"));
    CHECK(contains(r.out, "Hugging Face cache"));
    CHECK(contains(r.out, (sb.dir / "home" / ".cache" / "huggingface" / "hub").string()));
    CHECK(contains(r.out, "free"));
    CHECK(contains(r.out, "GPU"));
    CHECK(contains(r.out, "No problem found"));
}

TEST_CASE("doctor, config show and generate for a plugin known only by its manifest") {
    if (std::string(ACME_PLUGIN_PATH).empty()) return; // tests/host (its fixtures) not built
    Sandbox sb;
    fs::copy_file(ACME_PLUGIN_PATH, sb.plugins / fs::path(ACME_PLUGIN_PATH).filename());
    sb.env["ACME_MODEL"] = "acme-large";
    sb.env["ACME_API_KEY"] = std::nullopt;
    sb.env["ACME_REGION"] = std::nullopt;
    sb.env["ACME_ZONE"] = std::nullopt;
    sb.env["ACME_LOOP"] = std::nullopt;
    // No config file: the environment alone brings up the provider "acme" (the only one).
    auto r = sb.llmhost({"doctor"}, {}, false);
    INFO(r.out << r.err);
    CHECK(contains(r.out, "ACME_MODEL=acme-large (acme)"));
    CHECK(contains(r.out, "ACME_API_KEY is not set"));
    CHECK(contains(r.out, "acme (plugin acme, default)"));
    CHECK(contains(r.out, "WARN  acme secret 'api_key': not set"));
    CHECK(contains(r.out, "hint: get a key at https://acme.example/keys and export ACME_API_KEY"));
    auto show = sb.llmhost({"config", "show"}, {}, false);
    CHECK(contains(show.out, "(not set; set ACME_API_KEY)"));
    CHECK(contains(show.out, "\"model\": \"acme-large\""));
    auto gen = sb.llmhost({"generate", "hi acme"}, {}, false);
    CHECK(gen.exit_code == 0);
    CHECK(contains(gen.out, "hi acme"));
    CHECK(contains(gen.err, "no ACME key"));

    sb.env["ACME_API_KEY"] = "ak-" + std::string(24, 'q');
    r = sb.llmhost({"doctor"}, {}, false);
    CHECK(contains(r.out, "ACME_API_KEY is set"));
    CHECK(contains(r.out, "acme secret 'api_key': set (from ACME_API_KEY)"));
    CHECK_FALSE(contains(r.out, std::string(24, 'q')));
}

TEST_CASE("doctor finds a bad plugin and a broken config, and still checks the rest") {
    Sandbox sb;
    sb.write_echo_config();
    sb.write_file(sb.plugins / "libllmhost_bad.so", "garbage");
    auto bad_plugin = sb.llmhost({"doctor"});
    CHECK(bad_plugin.exit_code == 1);
    CHECK(contains(bad_plugin.out, "FAIL"));
    CHECK(contains(bad_plugin.out, "libllmhost_bad.so"));

    sb.write_config("{ \"providers\": ");
    auto broken = sb.llmhost({"doctor"});
    CHECK(broken.exit_code == 3);
    CHECK(contains(broken.out, "FAIL  " + sb.config.string() + ":"));
    CHECK(contains(broken.out, "GPU"));
    CHECK(contains(broken.out, "Hugging Face cache"));
}

TEST_CASE("progress bar: drawn only on a terminal without HF_HUB_DISABLE_PROGRESS_BARS") {
    using llmhost::cli::ProgressBar;
    std::FILE *f = std::tmpfile();
    REQUIRE(f);
    CHECK_FALSE(ProgressBar::wanted(f)); // a file is not a terminal
    ::setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1", 1);
    CHECK_FALSE(ProgressBar::wanted(stderr));
    ::unsetenv("HF_HUB_DISABLE_PROGRESS_BARS");

    {
        ProgressBar off(f, false);
        off.update("download x", 10, 100);
    }
    CHECK(std::ftell(f) == 0); // disabled: nothing written

    {
        ProgressBar bar(f, true);
        bar.update("download gpt2", 0, 2'000'000);
        bar.update("download gpt2", 2'000'000, 2'000'000); // finished: final line kept
    }
    std::rewind(f);
    std::string written;
    char buf[1024];
    while (size_t n = std::fread(buf, 1, sizeof buf, f)) written.append(buf, n);
    std::fclose(f);
    CHECK(contains(written, "download gpt2"));
    CHECK(contains(written, "100%"));
    CHECK(contains(written, "2.0 MB / 2.0 MB"));
    CHECK(written.back() == '\n');
}

TEST_CASE("progress bar: line layout, sizes, speed and ETA") {
    using llmhost::cli::ProgressBar;
    CHECK(ProgressBar::format_bytes(999) == "999 B");
    CHECK(ProgressBar::format_bytes(1500) == "1.5 kB");
    CHECK(ProgressBar::format_bytes(2.5e9) == "2.5 GB");
    CHECK(ProgressBar::format_duration(65) == "1:05");
    CHECK(ProgressBar::format_duration(3725) == "1:02:05");
    std::string line = ProgressBar::render("download meta-llama/Llama-3.2-1B", 250'000'000,
                                           1'000'000'000, 50e6, 100);
    INFO(line);
    CHECK(line.size() <= 99);
    CHECK(contains(line, " 25%"));
    CHECK(contains(line, "250.0 MB / 1.0 GB"));
    CHECK(contains(line, "50.0 MB/s"));
    CHECK(contains(line, "ETA 0:15"));
    CHECK(contains(line, "[#"));
    // Unknown total: bytes so far, no percentage or ETA.
    std::string unknown = ProgressBar::render("t", 1234, 0, 0, 80);
    CHECK(contains(unknown, "1.2 kB"));
    CHECK_FALSE(contains(unknown, "%"));
    CHECK_FALSE(contains(unknown, "ETA"));
    // Narrow terminal: still fits.
    CHECK(ProgressBar::render("a very long task name indeed", 5, 10, 1, 30).size() <= 29);
}
