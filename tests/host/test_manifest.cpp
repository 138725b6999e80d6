// Plugin manifests (ABI 1.2): a plugin the host has never heard of ("acme", tests/fixtures/
// acme_manifest.h) gets an environment bridge, a missing-secret warning, its `config show` line
// and config validation from its manifest alone; --device goes only to plugins declaring it.
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using llmhost::Host;
using namespace test;

namespace {

// Only the acme plugin (and the echo stand-ins, for the --device cases).
llmhost::HostOptions acme_options() {
    auto o = test_options();
    o.plugin_dirs = {LLMHOST_TEST_ACME_DIR};
    return o;
}

void clear_acme(CleanEnvironment &clean) {
    for (const char *v : {"ACME_API_KEY", "ACME_MODEL", "ACME_REGION", "ACME_ZONE", "ACME_LOOP"})
        clean.env.unset(v);
}

} // namespace

TEST_CASE("manifest: a new plugin comes up from the environment with its secret and config") {
    CleanEnvironment clean;
    clear_acme(clean);
    const std::string key = "ak-" + random_letters(24);
    clean.env.set("ACME_API_KEY", key + "\n"); // trimmed like every secret
    clean.env.set("ACME_MODEL", "acme-large");
    clean.env.set("ACME_ZONE", "eu");
    auto host = Host::initialize_from_env(acme_options());
    REQUIRE(host->providers().size() == 1);
    CHECK(host->providers()[0].name == "acme");
    CHECK(host->providers()[0].plugin == "acme");
    CHECK(host->default_provider() == "acme");

    auto s = host->secret("acme", "api_key");
    REQUIRE(s);
    CHECK(s->value == key);
    CHECK(s->source == "ACME_API_KEY");
    auto cfg = host->provider_config("acme");
    REQUIRE(cfg);
    CHECK((*cfg)["model"] == "acme-large");
    CHECK((*cfg)["region"] == "eu-1");     // a derived value: "${ACME_ZONE}-1"
    CHECK_FALSE(cfg->contains("api_key")); // secrets never reach the config
    auto shown = host->resolved_config_for_display();
    CHECK(shown["providers"]["acme"]["sources"]["model"] == "ACME_MODEL");
    CHECK(shown["providers"]["acme"]["sources"]["region"] == "ACME_ZONE");
    CHECK(shown["providers"]["acme"]["secrets"]["api_key"] == "ak-…(set, from ACME_API_KEY)");
    CHECK(host->redact("key=" + key) == "key=[redacted]");
    CHECK(host->provider_manifest("acme")["from_environment"]["provider"] == "acme");

    // The defaults of the manifest when the variables are unset; the plugin really runs.
    clean.env.unset("ACME_MODEL");
    clean.env.unset("ACME_ZONE");
    host = Host::initialize_from_env(acme_options());
    CHECK((*host->provider_config("acme"))["model"] == "acme-small");
    CHECK_FALSE(host->provider_config("acme")->contains("region"));
    CHECK(host->generate("", prompt("hello acme")).text == "hello acme");
}

TEST_CASE("manifest: a missing expected secret warns once, in the plugin's words") {
    CleanEnvironment clean;
    clear_acme(clean);
    LogCapture logs; // outlives the host: its instances log while they are destroyed
    auto host = Host::initialize_from_env(acme_options());
    host->set_log_sink(logs.sink());
    auto shown = host->resolved_config_for_display();
    CHECK(shown["providers"]["acme"]["secrets"]["api_key"] == "(not set; set ACME_API_KEY)");
    host->generate("acme", prompt("a"));
    host->generate("acme", prompt("b"));
    CHECK(logs.count_containing("no ACME key: requests will be refused") == 1);
    const auto m = host->provider_manifest("acme");
    CHECK(m["secrets"]["api_key"]["hint"].get<std::string>().find("acme.example") !=
          std::string::npos);

    // A plugin that declares no such secret gets no such warning.
    LogCapture echo_logs;
    auto echo = Host::initialize_from_env(test_options());
    echo->set_log_sink(echo_logs.sink());
    echo->swap("e", {{"plugin", "echo"}});
    echo->generate("e", prompt("x"));
    CHECK(echo_logs.count_containing("not set") == 0);
}

TEST_CASE("manifest: config keys are checked by type, enum and pattern, with did-you-mean") {
    CleanEnvironment clean;
    clear_acme(clean);
    auto o = acme_options();
    o.config_path = clean.home.write(
        "c.json", R"({"providers": {"a": {"plugin": "acme", "config": {"modle": "acme-small"}}}})");
    auto e = expect_host_error([&] { Host::open(o); });
    CHECK(e.code() == LLMHOST_ERR_CONFIG);
    CHECK(std::string(e.what()).find("c.json:1:") != std::string::npos);
    CHECK(std::string(e.what()).find("did you mean 'model'?") != std::string::npos);

    o.config_path = clean.home.write(
        "c.json", R"({"providers": {"a": {"plugin": "acme", "config": {"region": "mars"}}}})");
    e = expect_host_error([&] { Host::open(o); });
    CHECK(std::string(e.what()).find("region \"mars\" of provider 'a' (from config)") !=
          std::string::npos);
    CHECK(e.hint() == "a region such as eu-1");

    // A boolean given as text goes through the one boolean parser.
    o.config_path = clean.home.write(
        "c.json", R"({"providers": {"a": {"plugin": "acme", "config": {"loop": "yes"}}}})");
    CHECK((*Host::open(o)->provider_config("a"))["loop"] == true);

    clean.env.set("ACME_MODEL", "acme-huge");
    e = expect_host_error([&] { Host::initialize_from_env(acme_options()); });
    CHECK(std::string(e.what()).find("from ACME_MODEL") != std::string::npos);
    CHECK(e.hint().find("acme-small acme-large") != std::string::npos);
    clean.env.unset("ACME_MODEL");
    clean.env.set("ACME_LOOP", "maybe");
    e = expect_host_error([&] { Host::initialize_from_env(acme_options()); });
    CHECK(std::string(e.what()) == "ACME_LOOP='maybe' is not a boolean");
}

TEST_CASE("manifest: --device goes to plugins that declare it, and is an error for the others") {
    CleanEnvironment clean;
    clear_acme(clean);
    auto o = acme_options();
    o.device = "cuda";
    auto e = expect_host_error([&] { Host::initialize_from_env(o); });
    CHECK(std::string(e.what()).find("--device is not supported") != std::string::npos);
    CHECK(std::string(e.what()).find("acme (plugin acme)") != std::string::npos);

    o = test_options();
    o.device = "cuda:2";
    o.config_path = clean.home.write(
        "c.json", R"({"providers": {"h": {"plugin": "huggingface"}, "e": {"plugin": "echo"}}})");
    auto host = Host::open(o);
    CHECK((*host->provider_config("h"))["device"] == "cuda:2");
    CHECK_FALSE(host->provider_config("e")->contains("device"));
}

TEST_CASE("manifest: the catalog reports each plugin's manifest; one without has none") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());
    bool saw_echo = false, saw_newer = false;
    for (const auto &p : host->plugins()) {
        if (p.name == "echo") {
            saw_echo = true;
            CHECK(p.manifest["config"]["prefix"]["type"] == "string");
        }
        if (p.name == "newer") { // a descriptor whose manifest_json is NULL
            saw_newer = true;
            CHECK(p.manifest.is_null());
        }
    }
    CHECK(saw_echo);
    CHECK(saw_newer);
}

TEST_CASE("manifest: an ABI 1.1 descriptor has none and still runs; a broken one fails the load") {
    CleanEnvironment clean;
    clear_acme(clean);
    auto host = Host::initialize_from_env(acme_options());
    const llmhost::PluginInfo *older = nullptr, *bad = nullptr;
    const auto all = host->plugins();
    for (const auto &p : all) {
        if (p.path.find(plugin_file("older")) != std::string::npos) older = &p;
        if (p.path.find(plugin_file("badmanifest")) != std::string::npos) bad = &p;
    }
    REQUIRE(older != nullptr);
    CHECK(older->loaded);
    CHECK(older->abi_minor == 1);
    CHECK(older->manifest.is_null()); // the field lies beyond its struct_size: never read
    REQUIRE(bad != nullptr);
    CHECK_FALSE(bad->loaded);
    CHECK(bad->error.find("its manifest is not valid: invalid JSON") != std::string::npos);
    CHECK(bad->hint.find("docs/plugin-abi.md") != std::string::npos);

    // Without a manifest: no environment bridge, but the plugin serves a config-file provider.
    CHECK(host->providers().size() == 1); // acme only
    host->swap("o", {{"plugin", "older"}});
    CHECK(host->generate("o", prompt("x")).text == "no manifest needed");
    CHECK(host->provider_manifest("o").is_null());
}

namespace {

nlohmann::json read_json(const fs::path &p) {
    std::ifstream in(p);
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str());
}

void write_json(const fs::path &p, const nlohmann::json &j) { std::ofstream(p) << j.dump(); }

// The cache entry of the acme plugin (its key is the plugin file's path).
nlohmann::json &acme_entry(nlohmann::json &cache) {
    for (auto &[path, e] : cache["plugins"].items())
        if (e["plugin"] == "acme") return e;
    FAIL("no acme entry in the manifest cache: " << cache.dump());
    throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("manifest cache: the next start reads manifests from disk; a changed file is loaded") {
    CleanEnvironment clean;
    clear_acme(clean);
    const fs::path dir = clean.home.path() / "manifest-cache";
    const fs::path file = dir / "plugin-manifests.json";
    clean.env.set("LLMHOST_CACHE_DIR", dir.string());
    clean.env.set("ACME_MODEL", "acme-large");
    clean.env.set("ACME_OTHER", "acme-small");
    CHECK((*Host::initialize_from_env(acme_options())->provider_config("acme"))["model"] ==
          "acme-large");
    REQUIRE(fs::exists(file));

    // Rewrite the cached manifest (same path, time and size): the next start must believe it
    // without loading the plugin, which is what makes a start cheap.
    auto cache = read_json(file);
    auto &e = acme_entry(cache);
    std::string text = e["manifest"];
    REQUIRE(text.find("ACME_MODEL") != std::string::npos);
    for (size_t at; (at = text.find("ACME_MODEL")) != std::string::npos;)
        text.replace(at, 10, "ACME_OTHER");
    e["manifest"] = text;
    write_json(file, cache);
    CHECK((*Host::initialize_from_env(acme_options())->provider_config("acme"))["model"] ==
          "acme-small");

    // The file "changed" (another modification time): the plugin's own manifest again.
    cache = read_json(file);
    acme_entry(cache)["mtime_ns"] = 12345;
    write_json(file, cache);
    CHECK((*Host::initialize_from_env(acme_options())->provider_config("acme"))["model"] ==
          "acme-large");
    CHECK(acme_entry(cache = read_json(file))["mtime_ns"] != 12345); // and the entry is renewed

    // A damaged cache file, or one from another host ABI, is ignored (and rewritten).
    write_json(file, nlohmann::json::parse(R"({"format": 1, "host_abi": "0.9", "plugins": {}})"));
    CHECK((*Host::initialize_from_env(acme_options())->provider_config("acme"))["model"] ==
          "acme-large");
    std::ofstream(file) << "{ not json";
    CHECK((*Host::initialize_from_env(acme_options())->provider_config("acme"))["model"] ==
          "acme-large");
    CHECK(read_json(file)["plugins"].size() >= 1);

    // LLMHOST_CACHE_DIR=off: nothing is written.
    fs::remove_all(dir);
    clean.env.set("LLMHOST_CACHE_DIR", "off");
    CHECK((*Host::initialize_from_env(acme_options())->provider_config("acme"))["model"] ==
          "acme-large");
    CHECK_FALSE(fs::exists(file));
}
