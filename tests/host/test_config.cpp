// Configuration: file search order, syntax errors at line:column, unknown keys with a
// suggestion, ${VAR} / ${VAR:-default}, the environment bridge and the precedence table.
#include "test_support.hpp"

using namespace test;
using llmhost::Host;

static llmhost::HostOptions with_config(const std::string &path) {
    auto o = test_options();
    o.config_path = path;
    return o;
}

TEST_CASE("a JSON syntax error is reported at file:line:column") {
    CleanEnvironment clean;
    // Line 3 misses a comma: the parser stops at the '"' that starts line 4.
    const std::string path = clean.home.write("bad.json", "{\n  \"providers\": {\n    \"a\": {\"plugin\": \"echo\"}\n    \"b\": {}\n  }\n}\n");
    auto e = expect_host_error([&] { Host::open(with_config(path)); });
    CHECK(e.code() == LLMHOST_ERR_CONFIG);
    REQUIRE(e.location());
    CHECK(e.location()->line == 4);
    CHECK(e.location()->column == 5);
    CHECK(std::string(e.what()).rfind(path + ":4:5: ", 0) == 0);
}

TEST_CASE("an unknown key is located and the closest valid key suggested") {
    CleanEnvironment clean;
    SUBCASE("top level") {
        const std::string path = clean.home.write(
            "c.json", "{\n  \"defualt_provider\": \"a\",\n  \"providers\": {\"a\": {\"plugin\": \"echo\"}}\n}\n");
        auto e = expect_host_error([&] { Host::open(with_config(path)); });
        REQUIRE(e.location());
        CHECK(e.location()->line == 2);
        CHECK(e.location()->column == 3);
        CHECK(std::string(e.what()).find("did you mean 'default_provider'?") != std::string::npos);
    }
    SUBCASE("inside a provider entry") {
        const std::string path = clean.home.write(
            "c.json", "{\"providers\": {\n  \"a\": {\"plugin\": \"echo\",\n         \"confg\": {}}}}\n");
        auto e = expect_host_error([&] { Host::open(with_config(path)); });
        REQUIRE(e.location());
        CHECK(e.location()->line == 3);
        CHECK(e.location()->column == 10);
        CHECK(std::string(e.what()).find("did you mean 'config'?") != std::string::npos);
    }
    SUBCASE("no suggestion for a word that is not a typo") {
        const std::string path = clean.home.write("c.json", "{\"bananas\": 1}");
        auto e = expect_host_error([&] { Host::open(with_config(path)); });
        CHECK(std::string(e.what()).find("did you mean") == std::string::npos);
        CHECK(e.hint().find("default_provider") != std::string::npos);
    }
    SUBCASE("default_provider naming no provider") {
        const std::string path = clean.home.write(
            "c.json", "{\"default_provider\": \"ecoh\", \"providers\": {\"echo\": {\"plugin\": \"echo\"}}}");
        auto e = expect_host_error([&] { Host::open(with_config(path)); });
        CHECK(std::string(e.what()).find("did you mean 'echo'?") != std::string::npos);
        CHECK(e.location()->column == 22);
    }
    SUBCASE("wrong type") {
        const std::string path = clean.home.write("c.json", "{\"plugin_dirs\": \"/x\"}");
        auto e = expect_host_error([&] { Host::open(with_config(path)); });
        CHECK(std::string(e.what()).find("must be an array") != std::string::npos);
    }
}

TEST_CASE("${VAR} and ${VAR:-default} expand from the environment") {
    CleanEnvironment clean;
    clean.env.set("LLMHOST_TEST_PREFIX", "from-env: ");
    const std::string path = clean.home.write("c.json", R"({"providers": {"e": {"plugin": "echo",
        "config": {"prefix": "${LLMHOST_TEST_PREFIX}", "instance_id": "${LLMHOST_TEST_UNSET:-fallback}",
                   "note": "literal $${NOT_EXPANDED}"}}}})");
    auto host = Host::open(with_config(path));
    auto cfg = host->resolved_config_for_display()["providers"]["e"]["config"];
    CHECK(cfg["prefix"] == "from-env: ");
    CHECK(cfg["instance_id"] == "fallback");
    CHECK(cfg["note"] == "literal ${NOT_EXPANDED}");
    CHECK(host->generate("e", prompt("x")).text == "from-env: x");

    const std::string bad = clean.home.write("bad.json",
        "{\"providers\": {\"e\": {\"plugin\": \"echo\",\n  \"config\": {\"prefix\": \"${LLMHOST_TEST_UNSET}\"}}}}");
    auto e = expect_host_error([&] { Host::open(with_config(bad)); });
    CHECK(std::string(e.what()).find("LLMHOST_TEST_UNSET") != std::string::npos);
    REQUIRE(e.location());
    CHECK(e.location()->line == 2);
    CHECK(e.location()->column == 24);
    CHECK(e.hint().find("${LLMHOST_TEST_UNSET:-") != std::string::npos);
}

TEST_CASE("config file search: --config > $LLMHOST_CONFIG > ./llmhost.json > XDG") {
    CleanEnvironment clean;
    auto file_with = [&](const std::string &name, const std::string &provider) {
        return clean.home.write(name, "{\"providers\": {\"" + provider + "\": {\"plugin\": \"echo\"}}}");
    };
    auto o = test_options();
    CHECK(Host::open(o)->config_path().empty()); // none: environment only
#ifdef _WIN32
    // %APPDATA%\llmhost\config.json is Windows' XDG location (CleanEnvironment sets APPDATA).
    const std::string xdg = file_with("AppData/Roaming/llmhost/config.json", "xdg");
#else
    const std::string xdg = file_with(".config/llmhost/config.json", "xdg");
#endif
    CHECK(same_path(Host::open(o)->config_path(), xdg));
    file_with("llmhost.json", "cwd");
    CHECK(Host::open(o)->default_provider() == "cwd");
    clean.env.set("LLMHOST_CONFIG", file_with("env.json", "env"));
    CHECK(Host::open(o)->default_provider() == "env");
    o.config_path = file_with("flag.json", "flag");
    CHECK(Host::open(o)->default_provider() == "flag");
    o.config_path = (clean.home.path() / "missing.json").string();
    auto e = expect_host_error([&] { Host::open(o); });
    CHECK(std::string(e.what()).find("missing.json") != std::string::npos);
    CHECK(Host::initialize_from_env(test_options())->config_path().empty());
}

TEST_CASE("environment bridge without a config file") {
    CleanEnvironment clean;
    clean.env.set("HF_MODEL_PATH", "/models/llama");
    clean.env.set("HF_DEVICE", "cuda:1");
    clean.env.set("HF_ENDPOINT", "http://127.0.0.1:9");
    clean.env.set("HF_HUB_OFFLINE", "1");
    clean.env.set("HF_HUB_DOWNLOAD_TIMEOUT", "42");
    clean.env.set("HF_HUB_ETAG_TIMEOUT", "7.5");
    clean.env.set("HF_HOME", "/data/hf");
    clean.env.set("OPENAI_BASE_URL", "http://127.0.0.1:8/v1");
    auto host = Host::initialize_from_env(test_options());
    auto cfg = host->resolved_config_for_display();
    CHECK(host->default_provider() == "openai"); // LLM_PROVIDER unset
    const auto &hf = cfg["providers"]["huggingface"]["config"];
    CHECK(hf["model_path"] == "/models/llama");
    CHECK(hf["device"] == "cuda:1");
    CHECK(hf["endpoint"] == "http://127.0.0.1:9");
    CHECK(hf["offline"] == true);
    CHECK(hf["download_timeout"] == "42");
    CHECK(hf["etag_timeout"] == "7.5");
    CHECK(cfg["providers"]["huggingface"]["sources"]["download_timeout"] ==
          "HF_HUB_DOWNLOAD_TIMEOUT");
    CHECK(hf["cache_dir"] == "/data/hf/hub");
    CHECK(cfg["providers"]["openai"]["config"]["base_url"] == "http://127.0.0.1:8/v1");
    CHECK(cfg["providers"]["huggingface"]["sources"]["device"] == "HF_DEVICE");

    clean.env.set("LLM_PROVIDER", "huggingface");
    CHECK(Host::initialize_from_env(test_options())->default_provider() == "huggingface");

    clean.env.set("HF_DEVICE", "gpu");
    auto e = expect_host_error([&] { Host::initialize_from_env(test_options()); });
    CHECK(std::string(e.what()).find("HF_DEVICE") != std::string::npos);
    CHECK(e.hint().find("cuda:N") != std::string::npos);
}

// Precedence, most specific first: CLI flag > config file value > environment > token file.
TEST_CASE("precedence table") {
    struct Row {
        const char *what;
        bool flag, config, env, token_file;
        const char *expected_source;
    };
    const Row rows[] = {
        {"device: flag beats config and env", true, true, true, false, "--device"},
        {"device: config beats env", false, true, true, false, "config"},
        {"device: env when alone", false, false, true, false, "HF_DEVICE"},
        {"token: config beats env and file", false, true, true, true, "config"},
        {"token: env beats file", false, false, true, true, "HF_TOKEN"},
        {"token: file when alone", false, false, false, true, "token file"},
        {"provider: flag beats config and env", true, true, true, false, "--provider"},
        {"provider: config beats env", false, true, true, false, "config"},
        {"provider: env when alone", false, false, true, false, "LLM_PROVIDER"},
    };
    for (const auto &row : rows) {
        CAPTURE(row.what);
        CleanEnvironment clean;
        const std::string kind = std::string(row.what).substr(0, std::string(row.what).find(':'));
        auto o = test_options();
        nlohmann::json hf_entry = {{"plugin", "huggingface"}, {"config", nlohmann::json::object()}};
        nlohmann::json root = {{"providers", {{"hf", hf_entry}, {"other", {{"plugin", "echo"}}}}}};
        const std::string cfg_token = "hf_" + random_letters(20);
        const std::string env_token = "hf_" + random_letters(20);
        const std::string file_token = "hf_" + random_letters(20);
        if (kind == "device") {
            if (row.flag) o.device = "cuda:3";
            if (row.config) root["providers"]["hf"]["config"]["device"] = "cpu";
            if (row.env) clean.env.set("HF_DEVICE", "cuda");
        } else if (kind == "token") {
            if (row.config) root["providers"]["hf"]["secrets"] = {{"token", cfg_token}};
            if (row.env) clean.env.set("HF_TOKEN", env_token);
            if (row.token_file)
                clean.env.set("HF_TOKEN_PATH", clean.home.write("tok", "\r\n  " + file_token + "\r\n"));
        } else {
            if (row.flag) o.default_provider = "other";
            if (row.config) root["default_provider"] = "hf";
            if (row.env) clean.env.set("LLM_PROVIDER", row.config ? "other" : "hf");
        }
        o.config_path = clean.home.write("c.json", root.dump());
        auto host = Host::open(o);
        auto shown = host->resolved_config_for_display();
        if (kind == "device") {
            CHECK(shown["providers"]["hf"]["sources"]["device"] == row.expected_source);
            const char *value = row.flag ? "cuda:3" : row.config ? "cpu" : "cuda";
            CHECK(shown["providers"]["hf"]["config"]["device"] == value);
        } else if (kind == "token") {
            auto s = host->secret("hf", "token");
            REQUIRE(s);
            CHECK(s->source.rfind(row.expected_source, 0) == 0);
            CHECK(s->value == (row.config ? cfg_token : row.env ? env_token : file_token));
        } else {
            CHECK(shown["default_provider_source"] == row.expected_source);
            CHECK(host->default_provider() == (row.flag ? "other" : "hf"));
        }
    }
}

TEST_CASE("the legacy HUGGING_FACE_HUB_TOKEN is used after HF_TOKEN, and an empty token file is none") {
    CleanEnvironment clean;
    const std::string legacy = "hf_" + random_letters(30);
    clean.env.set("HUGGING_FACE_HUB_TOKEN", legacy);
    clean.env.set("HF_HOME", clean.home.path().string());
    auto s = Host::initialize_from_env(test_options())->secret("huggingface", "token");
    REQUIRE(s);
    CHECK(s->source == "HUGGING_FACE_HUB_TOKEN");
    CHECK(s->value == legacy);
    clean.env.unset("HUGGING_FACE_HUB_TOKEN");
    clean.home.write("token", " \r\n");
    CHECK_FALSE(Host::initialize_from_env(test_options())->secret("huggingface", "token"));
    const std::string file_token = "hf_" + random_letters(30);
    clean.home.write("token", file_token + "\n");
    s = Host::initialize_from_env(test_options())->secret("huggingface", "token");
    REQUIRE(s);
    REQUIRE(s->source.rfind("token file ", 0) == 0);
    CHECK(same_path(s->source.substr(11), (clean.home.path() / "token").string()));
}
