// Secrets through the public API (issue 10, items 4-6): trimmed at every source, refused when they
// hold a control character, never quoted by a configuration error, credential-looking keys and
// URL userinfo hidden from the displayed config and from every message. A failing check says
// where the canary was found, never prints it.
#include "test_support.hpp"

using namespace test;
using llmhost::Host;

namespace {

const std::string kCanary = "CANARY-7f3a-host-4d2b";

// doctest prints the checked expression's operands: compare positions, never strings.
size_t canary_at(const std::string &text) { return text.find(kCanary); }
size_t fragment_at(const std::string &text) {
    for (const char *f : {"7f3a", "4d2b"})
        if (auto p = text.find(f); p != std::string::npos) return p;
    return std::string::npos;
}

std::string message_of(const llmhost::HostError &e) {
    return std::string(e.what()) + "\n" + e.hint();
}

llmhost::HostError open_error(const std::string &config_text, CleanEnvironment &clean) {
    auto o = test_options();
    o.config_path = clean.home.write("broken.json", config_text);
    return expect_host_error([&] { Host::open(o); });
}

} // namespace

TEST_CASE("hardening: a configuration syntax error never quotes a secret") {
    CleanEnvironment clean;
    const std::string head = "{\n  \"providers\": {\n    \"p\": {\"plugin\": \"echo\",\n";
    const std::map<std::string, std::string> broken = {
        {"raw newline in a string",
         head + "      \"secrets\": {\"token\": \"" + kCanary + "\n\"}}}}"},
        {"missing closing quote", head + "      \"secrets\": {\"token\": \"" + kCanary + "}}}}\n"},
        {"missing opening quote", head + "      \"secrets\": {\"token\": " + kCanary + "\"}}}}\n"},
        {"missing comma after the secret",
         head + "      \"secrets\": {\"token\": \"" + kCanary + "\" \"x\": 1}}}}\n"},
        {"literal secret then a bad literal",
         head + "      \"config\": {\"Token\": \"" + kCanary + "\", \"n\": tru}}}}\n"},
    };
    for (const auto &[kind, text] : broken) {
        INFO(kind);
        auto e = open_error(text, clean);
        const std::string m = message_of(e);
        CHECK(e.code() == LLMHOST_ERR_CONFIG);
        CHECK(canary_at(m) == std::string::npos);
        CHECK(fragment_at(m) == std::string::npos);
        REQUIRE(e.location());
        CHECK(e.location()->line == 4);
        CHECK(m.find("invalid JSON: ") != std::string::npos);
        CHECK(m.find("last read") == std::string::npos);
        CHECK(m.find("  4 | ") != std::string::npos); // the excerpt, values hidden
        CHECK(m.find("…") != std::string::npos);
    }
}

TEST_CASE("hardening: ${ expansion errors do not quote the value") {
    CleanEnvironment clean;
    auto entry = [](const std::string &where, const std::string &value) {
        return "{\"providers\": {\"p\": {\"plugin\": \"echo\", \"" + where + "\": {\"token\": \"" +
               value + "\"}}}}";
    };
    for (const std::string &where : {"secrets", "config"}) {
        for (const std::string &value : {kCanary + "${unterminated", "a${" + kCanary + "}b",
                                         "x${" + std::string("CANARY_7f3a_UNSET_4d2b") + "}"}) {
            auto e = open_error(entry(where, value), clean);
            const std::string m = message_of(e);
            CHECK(e.code() == LLMHOST_ERR_CONFIG);
            CHECK(canary_at(m) == std::string::npos);
            CHECK(fragment_at(m) == std::string::npos);
            CHECK(m.find("/providers/p/" + where + "/token") != std::string::npos);
        }
    }
}

TEST_CASE("hardening: secrets are trimmed, and a file secret is its first line") {
    CleanEnvironment clean;
    clean.env.set("MY_KEY", kCanary + "\n");
    clean.env.set("OPENAI_API_KEY", "  " + kCanary + "-oa\r\n");
    const std::string file =
        clean.home.write("secret.txt", "\n " + kCanary + "-file \nsecond-line-4d2b\n");
    const std::string token_file = clean.home.write("hf/token", kCanary + "-tf\nother-line-xyz\n");
    clean.env.set("HF_TOKEN_PATH", token_file);
    nlohmann::json root = {
        {"providers",
         {{"e", {{"plugin", "echo"}, {"secrets", {{"token", {{"env", "MY_KEY"}}}}}}},
          {"f", {{"plugin", "echo"}, {"secrets", {{"token", {{"file", file}}}}}}},
          {"l", {{"plugin", "echo"}, {"secrets", {{"token", " " + kCanary + "-lit\t"}}}}},
          {"oa", {{"plugin", "openai"}}},
          {"hf", {{"plugin", "huggingface"}}}}}};
    auto o = test_options();
    o.config_path = clean.home.write("c.json", root.dump());
    auto host = Host::open(o);
    auto value = [&](const char *p, const char *name) {
        auto s = host->secret(p, name);
        return s ? s->value : std::string("(absent)");
    };
    CHECK((value("e", "token") == kCanary));
    CHECK((value("f", "token") == kCanary + "-file"));
    CHECK((value("l", "token") == kCanary + "-lit"));
    CHECK((value("oa", "api_key") == kCanary + "-oa"));
    CHECK((value("hf", "token") == kCanary + "-tf"));
    // Raw and trimmed values are both redacted.
    CHECK(canary_at(host->redact("raw " + kCanary + "\n and first line " + kCanary + "-file")) ==
          std::string::npos);
}

TEST_CASE("hardening: a secret holding a control character is refused, naming it, not quoting it") {
    struct Case {
        std::string name, env_var;
        bool in_file;
    };
    for (const Case &c :
         {Case{"env", "MY_KEY", false}, Case{"HF_TOKEN", "HF_TOKEN", false},
          Case{"OPENAI_API_KEY", "OPENAI_API_KEY", false}, Case{"literal", "", false}}) {
        INFO(c.name);
        CleanEnvironment clean;
        const std::string evil = kCanary + "\r\nX-Injected: 4d2b";
        nlohmann::json root = {
            {"providers",
             {{"hf", {{"plugin", "huggingface"}}},
              {"oa", {{"plugin", "openai"}}},
              {"e", {{"plugin", "echo"}, {"secrets", {{"token", {{"env", "MY_KEY"}}}}}}}}}};
        if (c.name == "literal")
            root["providers"]["e"]["secrets"]["token"] = evil;
        else
            clean.env.set(c.env_var, evil);
        auto o = test_options();
        o.config_path = clean.home.write("c.json", root.dump());
        auto e = expect_host_error([&] { Host::open(o); });
        const std::string m = message_of(e);
        CHECK(e.code() == LLMHOST_ERR_CONFIG);
        CHECK(canary_at(m) == std::string::npos);
        CHECK(fragment_at(m) == std::string::npos);
        CHECK(m.find("control character") != std::string::npos);
        CHECK(m.find("secret '") != std::string::npos);
        if (c.name == "env") CHECK(m.find("env MY_KEY") != std::string::npos);
        if (c.name == "HF_TOKEN") CHECK(m.find("HF_TOKEN") != std::string::npos);
        if (c.name == "literal") CHECK(e.location());
    }
}

TEST_CASE("hardening: credential keys in any case and at any depth are hidden from the display") {
    CleanEnvironment clean;
    nlohmann::json cfg = {
        {"Token", kCanary + "-1"},
        {"API_KEY", kCanary + "-2"},
        {"apiKey", kCanary + "-3"},
        {"auth_token", kCanary + "-4"},
        {"private_key", kCanary + "-5"},
        {"auth", {{"token", kCanary + "-6"}}},
        {"headers", {{"Authorization", "Bearer " + kCanary + "-7"}, {"Accept", "x"}}},
        {"max_tokens", 12},
        {"base_url", "https://user:" + kCanary + "-8@127.0.0.1:9/v1"}};
    nlohmann::json root = {{"providers", {{"p", {{"plugin", "echo"}, {"config", cfg}}}}}};
    auto o = test_options();
    o.config_path = clean.home.write("c.json", root.dump());
    auto host = Host::open(o);
    auto shown = host->resolved_config_for_display();
    const std::string text = shown.dump();
    CHECK(canary_at(text) == std::string::npos);
    CHECK(fragment_at(text) == std::string::npos);
    const auto &pc = shown["providers"]["p"]["config"];
    CHECK(pc["max_tokens"] == 12);
    CHECK(pc["headers"]["Accept"] == "x");
    CHECK(pc["base_url"] == "https://[redacted]@127.0.0.1:9/v1");
    // The listed credential keys, in any case, became secrets under their snake_case name.
    CHECK(host->secret("p", "token"));
    CHECK(host->secret("p", "api_key"));
    // Values the plugin still gets as config are redacted from messages too.
    CHECK(canary_at(host->redact("auth " + kCanary + "-6 and " + kCanary + "-7 and " + kCanary +
                                 "-8")) == std::string::npos);
}

TEST_CASE("hardening: URL userinfo from OPENAI_BASE_URL / HF_ENDPOINT never shows") {
    CleanEnvironment clean;
    clean.env.set("OPENAI_BASE_URL", "http://user:" + kCanary + "@127.0.0.1:9/v1");
    clean.env.set("HF_ENDPOINT", "http://" + kCanary + "@127.0.0.1:9");
    auto host = Host::initialize_from_env(test_options());
    const std::string text = host->resolved_config_for_display().dump();
    CHECK(canary_at(text) == std::string::npos);
    CHECK(text.find("http://[redacted]@127.0.0.1:9/v1") != std::string::npos);
    CHECK(canary_at(host->redact("password was " + kCanary)) == std::string::npos);
}

TEST_CASE("hardening: provider names with '~' and '/' are escaped in pointers") {
    CleanEnvironment clean;
    nlohmann::json root = {{"providers",
                            {{"a~b", {{"plugin", "huggingface"}, {"config", {{"device", "gpu"}}}}},
                             {"c/d", {{"plugin", "echo"}}}}}};
    auto o = test_options();
    o.config_path = clean.home.write("c.json", root.dump(2));
    auto e = expect_host_error([&] { Host::open(o); });
    REQUIRE(e.location());
    CHECK(e.location()->line > 1); // located at the device value, not the top of the file
    CHECK(std::string(e.what()).find("a~b") != std::string::npos);
}
