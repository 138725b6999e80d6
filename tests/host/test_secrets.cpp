// Secrets: scoping between providers, the seed's behaviours (token from config, one warning
// without a token, initialize_from_env uses HF_TOKEN, the token reaches the plugin) and
// redaction of every log line, error and hint.
#include "test_support.hpp"

using namespace test;
using llmhost::Host;

static std::string secret_line(const std::string &name, const std::string &value) {
    return "secret " + name + ": present fnv1a64=" + fnv_hex(value) + "\n";
}

TEST_CASE("a provider sees only its own secrets") {
    CleanEnvironment clean;
    const std::string token_a = "tok_" + random_letters(24);
    const std::string key_c = "sk-" + random_letters(24);
    const std::string hf_env = fake_hf_token();
    clean.env.set("HF_TOKEN", hf_env);
    nlohmann::json root = {{"providers",
                            {{"a", {{"plugin", "echo"}, {"config", {{"report_secret", "token"}}},
                                    {"secrets", {{"token", token_a}}}}},
                             {"b", {{"plugin", "echo"}, {"config", {{"report_secret", "token"}}}}},
                             {"c", {{"plugin", "echo"}, {"config", {{"report_secret", "api_key"}}},
                                    {"secrets", {{"api_key", key_c}}}}},
                             {"hf", {{"plugin", "huggingface"}, {"config", {{"report_secret", "token"}}}}}}}};
    auto o = test_options();
    o.config_path = clean.home.write("c.json", root.dump());
    auto host = Host::open(o);
    CHECK(host->generate("a", prompt("x")).text == secret_line("token", token_a) + "x");
    // b has no token of its own: neither a's token nor HF_TOKEN (it is not a huggingface provider).
    CHECK(host->generate("b", prompt("x")).text == "secret token: absent\nx");
    CHECK(host->generate("c", prompt("x")).text == secret_line("api_key", key_c) + "x");
    host->swap("c", {{"plugin", "echo"}, {"config", {{"report_secret", "token"}}}, {"secrets", {{"api_key", key_c}}}});
    CHECK(host->generate("c", prompt("x")).text == "secret token: absent\nx");
    // The huggingface provider gets HF_TOKEN through the bridge.
    CHECK(host->generate("hf", prompt("x")).text == secret_line("token", hf_env) + "x");
}

TEST_CASE("seed: a token given in the config is stored as a secret, not passed as config") {
    CleanEnvironment clean;
    const std::string token = fake_hf_token();
    nlohmann::json root = {{"providers", {{"hf", {{"plugin", "huggingface"},
                                                  {"config", {{"token", token}, {"report_secret", "token"}}}}}}}};
    auto o = test_options();
    o.config_path = clean.home.write("c.json", root.dump());
    auto host = Host::open(o);
    auto s = host->secret("hf", "token");
    REQUIRE(s);
    CHECK(s->value == token);
    CHECK(s->source == "config");
    auto shown = host->resolved_config_for_display();
    CHECK_FALSE(shown["providers"]["hf"]["config"].contains("token"));
    CHECK(shown["providers"]["hf"]["secrets"]["token"] == "hf_…(set, from config)");
    CHECK(shown.dump().find(token) == std::string::npos);
    CHECK(host->generate("hf", prompt("x")).text == secret_line("token", token) + "x");
}

TEST_CASE("seed: a huggingface provider without a token warns exactly once") {
    CleanEnvironment clean;
    LogCapture logs;
    auto o = test_options();
    o.provider_config_overrides = {{"huggingface", {{"report_secret", "token"}}}};
    auto host = Host::initialize_from_env(o);
    host->set_log_sink(logs.sink());
    CHECK(host->generate("huggingface", prompt("x")).text == "secret token: absent\nx");
    host->generate("huggingface", prompt("y"));
    host->swap("huggingface", {{"plugin", "huggingface"}});
    host->generate("huggingface", prompt("z"));
    CHECK(logs.count_containing("https://huggingface.co/settings/tokens") == 1);
    CHECK(logs.count_containing("gated") == 1);
    CHECK(logs.count_containing("HF_TOKEN") == 1);

    // With a token: no warning at all.
    clean.env.set("HF_TOKEN", fake_hf_token());
    LogCapture quiet;
    auto host2 = Host::initialize_from_env(o);
    host2->set_log_sink(quiet.sink());
    host2->generate("huggingface", prompt("x"));
    CHECK(quiet.count_containing("settings/tokens") == 0);
}

TEST_CASE("seed: initialize_from_env uses HF_TOKEN and the token reaches the plugin") {
    CleanEnvironment clean;
    const std::string token = fake_hf_token();
    clean.env.set("HF_TOKEN", token);
    clean.env.set("LLM_PROVIDER", "huggingface");
    auto o = test_options();
    o.provider_config_overrides = {{"huggingface", {{"report_secret", "token"}}}};
    auto host = Host::initialize_from_env(o);
    CHECK(host->default_provider() == "huggingface");
    auto s = host->secret("huggingface", "token");
    REQUIRE(s);
    CHECK(s->source == "HF_TOKEN");
    auto r = host->generate("", prompt("hello"));
    CHECK(r.text == secret_line("token", token) + "hello");
    CHECK(r.text.find(token) == std::string::npos);
}

TEST_CASE("secrets cannot be given as command-line overrides") {
    CleanEnvironment clean;
    auto o = test_options();
    o.provider_config_overrides = {{"*", {{"api_key", "sk-" + random_letters(20)}}}};
    auto e = expect_host_error([&] { Host::initialize_from_env(o); });
    CHECK(std::string(e.what()).find("api_key") != std::string::npos);
}

TEST_CASE("redaction: a token from the environment never appears in a log line, error or hint") {
    CleanEnvironment clean;
    const std::string token = fake_hf_token();
    const std::string key = "sk-" + random_letters(40);
    clean.env.set("HF_TOKEN", token);
    clean.env.set("OPENAI_API_KEY", key);
    LogCapture logs;
    std::vector<std::string> messages; // every error message and hint the host produced

    auto collect = [&](auto &&f) {
        try {
            f();
            messages.push_back("(no error)");
        } catch (const llmhost::HostError &e) {
            messages.push_back(e.what());
            messages.push_back(e.hint());
        }
    };

    auto o = test_options();
    // The plugin logs its instance_id at create and destroy: give it the token.
    o.provider_config_overrides = {{"huggingface", {{"instance_id", "${HF_TOKEN}"}}}};
    collect([&] { Host::initialize_from_env(o); }); // overrides are not expanded: fine either way
    nlohmann::json root = {{"providers",
                            {{"hf", {{"plugin", "huggingface"}, {"config", {{"instance_id", "${HF_TOKEN}"}}}}},
                             {"oa", {{"plugin", "echo"}, {"config", {{"prefix", "${OPENAI_API_KEY}"}}}}}}}};
    o = test_options();
    o.config_path = clean.home.write("c.json", root.dump());
    auto host = Host::open(o);
    host->set_log_sink(logs.sink());
    host->start("hf");
    host->swap("hf", {{"plugin", "huggingface"}, {"config", {{"instance_id", "second " + token}}}});
    host->swap("hf", {{"plugin", "huggingface"}});
    // Errors whose text would carry the secrets.
    collect([&] { host->swap("x", {{"plugin", "/nonexistent/" + token + ".so"}}); });
    collect([&] { host->generate(key, prompt("x")); });
    collect([&] { host->swap("hf", {{"plugin", "huggingface"}, {"config", {{"device", token}}}}); });
    collect([&] { host->swap("e", {{"plugin", "echo"}, {"config", {{"fail_create", true}, {"instance_id", key}}}}); });
    {
        auto bad = test_options();
        bad.config_path = clean.home.write("bad.json", R"({"default_provider": "${HF_TOKEN}", "providers": {"a": {"plugin": "echo"}}})");
        collect([&] { Host::open(bad); });
        bad.config_path = clean.home.write("bad2.json", "{\"providers\": {\"" + key + "x\": 5}}");
        collect([&] { Host::open(bad); });
    }
    const std::string shown = host->resolved_config_for_display().dump();
    const std::string redacted = host->redact("token=" + token + " key=" + key);

    const std::string everything = logs.all() + shown + redacted + [&] {
        std::string s;
        for (const auto &m : messages) s += m + "\n";
        return s;
    }();
    CHECK(logs.count_containing("destroying instance") >= 1); // the plugin's logs were captured
    CHECK(logs.all().find("[redacted]") != std::string::npos);
    CHECK(everything.find(token) == std::string::npos);
    CHECK(everything.find(key) == std::string::npos);
    CHECK(everything.find(token.substr(3)) == std::string::npos);
    CHECK(redacted == "token=[redacted] key=[redacted]");
    // Every collected error is real (not "(no error)") except the open of the env-only host.
    CHECK(std::count(messages.begin(), messages.end(), "(no error)") == 1);
    size_t with_mask = 0;
    for (const auto &m : messages) with_mask += m.find("[redacted]") != std::string::npos;
    CHECK(with_mask >= 5);
}
