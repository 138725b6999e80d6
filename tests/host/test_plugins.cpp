// Plugin loading and ABI negotiation: wrong major refused (naming both versions), newer minor
// accepted, malformed files reported with file and cause while the others keep working, a
// throwing C++ plugin becomes an error object.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "test_support.hpp"

using namespace test;
using llmhost::Host;

static const llmhost::PluginInfo *find_file(const std::vector<llmhost::PluginInfo> &all,
                                            const std::string &file) {
    for (const auto &p : all)
        if (fs::path(p.path).filename() == file) return &p;
    return nullptr;
}

static nlohmann::json entry(const std::string &plugin, nlohmann::json config = nlohmann::json::object()) {
    return {{"plugin", plugin}, {"config", config}};
}

TEST_CASE("plugin scan reports every file: good ones loaded, bad ones with file and cause") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());
    auto all = host->plugins();

    const auto *echo = find_file(all, plugin_file("echo"));
    REQUIRE(echo != nullptr);
    CHECK(echo->loaded);
    CHECK(echo->name == "echo");
    CHECK(echo->abi_major == LLMH_ABI_MAJOR);
    // The deterministic provider of every tool-calling test: ABI 2's optional capabilities too.
    for (uint32_t cap : {LLMH_CAP_CHAT, LLMH_CAP_COMPLETION, LLMH_CAP_STREAMING, LLMH_CAP_LIST_MODELS,
                         LLMH_CAP_TOOLS, LLMH_CAP_REASONING, LLMH_CAP_STRUCTURED_OUTPUT})
        CHECK((echo->capabilities & cap) == cap);
    CHECK(llmhost::capability_names(LLMH_CAP_CHAT | LLMH_CAP_TOOLS | LLMH_CAP_REASONING) ==
          "chat,tools,reasoning");

    const auto *garbage = find_file(all, plugin_file("garbage"));
    REQUIRE(garbage != nullptr);
    CHECK_FALSE(garbage->loaded);
    CHECK(garbage->error.find(garbage->path) != std::string::npos);
    CHECK(garbage->error.find("cannot be loaded") != std::string::npos);
    CHECK(garbage->hint.find("not a loadable shared library") != std::string::npos);

    const auto *noentry = find_file(all, plugin_file("noentry"));
    REQUIRE(noentry != nullptr);
    CHECK_FALSE(noentry->loaded);
    CHECK(noentry->error.find("llmh_plugin_entry") != std::string::npos);
    CHECK(noentry->error.find(noentry->path) != std::string::npos);

    const auto *initfails = find_file(all, plugin_file("initfails"));
    REQUIRE(initfails != nullptr);
    CHECK_FALSE(initfails->loaded);
    CHECK(initfails->error_code == LLMH_ERR_UNSUPPORTED);
    CHECK(initfails->error.find("the runtime it needs is missing") != std::string::npos);
    CHECK(initfails->hint.find("install the runtime") != std::string::npos);
}

TEST_CASE("a plugin built for another ABI major is refused, naming both versions") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());
    const auto all = host->plugins();
    const auto *future = find_file(all, plugin_file("future"));
    REQUIRE(future != nullptr);
    CHECK_FALSE(future->loaded);
    CHECK(future->error_code == LLMH_ERR_ABI_MISMATCH);
    const std::string theirs = std::to_string(LLMH_ABI_MAJOR + 1) + ".3";
    const std::string ours = std::to_string(LLMH_ABI_MAJOR) + "." + std::to_string(LLMH_ABI_MINOR);
    CHECK(future->error.find("ABI " + theirs) != std::string::npos);
    CHECK(future->error.find("ABI " + ours) != std::string::npos);
    CHECK(future->hint.find("rebuild") != std::string::npos);

    // Using it as a provider fails with the same clear error; the host keeps working.
    auto plugin_path = (fs::path(LLMHOST_TEST_PLUGIN_DIR) / plugin_file("future")).string();
    auto e = expect_host_error([&] { host->swap("future", entry(plugin_path)); });
    CHECK(e.code() == LLMH_ERR_ABI_MISMATCH);
    CHECK(std::string(e.what()).find(theirs) != std::string::npos);
    host->swap("echo", entry("echo"));
    CHECK(host->generate("echo", prompt("still works")).text == "still works");
}

TEST_CASE("a plugin built for a newer minor (larger descriptor, extra field) works") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());
    const auto all = host->plugins();
    const auto *newer = find_file(all, plugin_file("newer"));
    REQUIRE(newer != nullptr);
    CHECK(newer->loaded);
    CHECK(newer->abi_minor == LLMH_ABI_MINOR + 5);
    host->swap("n", entry("newer"));
    auto r = host->generate("n", prompt("x"));
    CHECK(r.text == "newer minor works");
    CHECK(r.finish_reason == LLMH_FINISH_STOP);
}

TEST_CASE("bad plugin files do not stop the host: the others still load and serve") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());
    // 'thrower' has no conventional file name match problem, but resolving an unknown name
    // probes every file, broken ones included: the error lists them and nothing crashes.
    auto e = expect_host_error([&] { host->swap("x", entry("no-such-plugin")); });
    CHECK(e.code() == LLMHOST_ERR_PLUGIN);
    const std::string msg = e.what();
    CHECK(msg.find("no plugin named 'no-such-plugin'") != std::string::npos);
    CHECK(msg.find(plugin_file("garbage")) != std::string::npos);
    CHECK(msg.find(LLMHOST_TEST_PLUGIN_DIR) != std::string::npos);
    host->swap("e", entry("echo"));
    CHECK(host->generate("e", prompt("a b c")).text == "a b c");
}

TEST_CASE("a throwing C++ plugin yields error objects, never a crash") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());

    SUBCASE("std::runtime_error in generate -> internal, message kept, partial output streamed") {
        host->swap("t", entry("thrower", {{"throw_in", "generate"}, {"kind", "runtime"}}));
        std::string streamed;
        auto e = expect_host_error([&] {
            host->generate("t", prompt("x"), [&](std::string_view p, uint32_t) {
                streamed += p;
                return true;
            });
        });
        CHECK(e.code() == LLMH_ERR_INTERNAL);
        CHECK(std::string(e.what()).find("something broke inside the plugin") != std::string::npos);
        CHECK(std::string(e.what()).find("provider 't'") != std::string::npos);
        CHECK(e.hint().find("bug in the plugin") != std::string::npos);
        CHECK(streamed == "partial ");
    }
    SUBCASE("std::bad_alloc in generate -> out_of_memory") {
        host->swap("t", entry("thrower", {{"throw_in", "generate"}, {"kind", "bad_alloc"}}));
        CHECK(expect_host_error([&] { host->generate("t", prompt("x")); }).code() ==
              LLMH_ERR_OUT_OF_MEMORY);
    }
    SUBCASE("llmh::Error keeps its code and hint") {
        host->swap("t", entry("thrower", {{"throw_in", "generate"}, {"kind", "llmh"}}));
        auto e = expect_host_error([&] { host->generate("t", prompt("x")); });
        CHECK(e.code() == LLMH_ERR_GATED);
        CHECK(e.hint() == "request access on the Hub");
    }
    SUBCASE("throwing in create -> the swap fails, the old instance keeps serving") {
        host->swap("t", entry("echo"));
        auto e = expect_host_error(
            [&] { host->swap("t", entry("thrower", {{"throw_in", "create"}, {"kind", "bad_alloc"}})); });
        CHECK(e.code() == LLMH_ERR_OUT_OF_MEMORY);
        CHECK(host->generate("t", prompt("old one")).text == "old one");
    }
    SUBCASE("throwing in list_models") {
        host->swap("t", entry("thrower", {{"throw_in", "list_models"}, {"kind", "runtime"}}));
        CHECK(expect_host_error([&] { host->list_models("t"); }).code() == LLMH_ERR_INTERNAL);
    }
}

TEST_CASE("echo plugin: streaming, max_tokens, stop strings, cancellation, usage") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());
    host->swap("e", entry("echo", {{"prefix", ">> "}, {"instance_id", "7"}}));

    std::vector<std::string> pieces;
    auto r = host->generate("e", prompt("one two  three"), [&](std::string_view p, uint32_t) {
        pieces.emplace_back(p);
        return true;
    });
    CHECK(pieces == std::vector<std::string>{">> ", "one ", "two  ", "three"});
    CHECK(r.text == ">> one two  three");
    CHECK(r.prompt_tokens == 3);
    CHECK(r.completion_tokens == 4);
    CHECK(r.finish_reason == LLMH_FINISH_STOP);

    auto req = prompt("a b c d e");
    req.max_tokens = 3;
    r = host->generate("e", req);
    CHECK(r.text == ">> a b ");
    CHECK(r.finish_reason == LLMH_FINISH_LENGTH);

    req = prompt("alpha beta gamma delta");
    req.stop = {"a gam"};
    r = host->generate("e", req);
    CHECK(r.text == ">> alpha bet");
    CHECK(r.finish_reason == LLMH_FINISH_STOP);

    int calls = 0;
    r = host->generate("e", prompt("a b c d"), [&](std::string_view, uint32_t) { return ++calls < 2; });
    CHECK(r.finish_reason == LLMH_FINISH_CANCELLED);
    CHECK(calls == 2);

    llmhost::GenerateRequest chat;
    chat.messages = {{"system", "be brief"}, {"user", "hello there"}, {"assistant", "hi"}};
    CHECK(host->generate("e", chat).text == ">> hello there");

    auto models = host->list_models("e");
    REQUIRE(models.size() == 1);
    CHECK(models[0].id == "echo:7");
}

TEST_CASE("plugin directories: --plugin-dir, config plugin_dirs, $LLMHOST_PLUGIN_PATH, next to libllmhost.so") {
    CleanEnvironment clean;
    // A private copy of the 'newer' fixture under another file name, found only via each source.
    auto stage = [&](const std::string &dir) {
        fs::create_directories(clean.home.path() / dir);
        fs::copy_file(fs::path(LLMHOST_TEST_PLUGIN_DIR) / plugin_file("newer"),
                      clean.home.path() / dir / plugin_file("private"));
        return (clean.home.path() / dir).string();
    };
    auto works = [&](llmhost::HostOptions o) {
        auto host = Host::open(o);
        host->swap("p", entry("newer"));
        return host->generate("p", prompt("x")).text == "newer minor works";
    };
    llmhost::HostOptions o;
    o.search_default_plugin_dirs = false;
    CHECK_THROWS_AS(works(o), llmhost::HostError);

    o.plugin_dirs = {stage("flag")};
    CHECK(works(o));

    o.plugin_dirs.clear();
    stage("cfgdir");
    o.config_path = clean.home.write("c.json", R"({"plugin_dirs": ["cfgdir"]})"); // relative to the file
    CHECK(works(o));
    o.config_path.clear();

    o.search_default_plugin_dirs = true;
    // Split on ':' on Linux and on ';' on Windows, where the staged dir itself holds "C:".
    clean.env.set("LLMHOST_PLUGIN_PATH", "/nonexistent" + std::string(1, kPathListSeparator) + stage("envdir"));
    auto host = Host::open(o);
    auto path = host->plugin_search_path();
    CHECK(path.at(0) == "/nonexistent");
    CHECK(works(o));

    // The in-tree echo plugin is found relative to libllmhost.so (build/lib/llmhost/plugins).
    clean.env.unset("LLMHOST_PLUGIN_PATH");
    host = Host::open(o);
    host->swap("e", entry("echo"));
    CHECK(host->generate("e", prompt("found")).text == "found");
    bool lib_relative = false;
    for (auto d : host->plugin_search_path()) {
        std::replace(d.begin(), d.end(), '\\', '/'); // Windows paths may use either separator
        lib_relative |= d.ends_with("/lib/llmhost/plugins") && fs::exists(fs::path(d) / plugin_file("echo"));
    }
    CHECK(lib_relative);
}
