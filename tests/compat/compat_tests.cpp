// The current host with plugins compiled against FROZEN headers: a 2.0 plugin keeps working
// (tools, events, reasoning); an ABI 1.2 plugin is refused naming both versions, and the host
// keeps serving. LLMHOST_TEST_PLUGIN_DIR is this directory's plugin output (CMakeLists.txt).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "test_support.hpp"

using namespace test;

namespace {

// libllmhost_<name>.so on Linux, llmhost_<name>.dll on Windows (CMake's prefix and suffix).
std::string compat_file(const std::string &name) {
    return std::string(LLMHOST_PLUGIN_FILE_PREFIX) + "llmhost_" + name + LLMHOST_PLUGIN_FILE_SUFFIX;
}

const llmhost::PluginInfo *by_file(const std::vector<llmhost::PluginInfo> &all,
                                   const std::string &file) {
    for (const auto &p : all)
        if (fs::path(p.path).filename() == file) return &p;
    return nullptr;
}

llmhost::Message message(std::string role, std::string content) {
    llmhost::Message m;
    m.role = std::move(role);
    m.content = std::move(content);
    return m;
}

} // namespace

TEST_CASE("a plugin compiled against ABI 2.0 works with this host: tools, events, reasoning") {
    CleanEnvironment clean;
    auto host = llmhost::Host::open(test_options());
    const auto *v20 = by_file(host->plugins(), compat_file("v20"));
    REQUIRE(v20 != nullptr);
    REQUIRE_MESSAGE(v20->loaded, v20->error);
    CHECK(v20->abi_major == 2);
    CHECK(v20->abi_minor == 0);
    host->swap("v", {{"plugin", "v20"}});

    llmhost::GenerateRequest req;
    req.messages = {message("user", "look something up")};
    req.tools = {{"lookup", "", R"({"type":"object"})", false}, {"fetch", "", "", false}};
    std::vector<std::string> events;
    req.on_event = [&](const llmhost::Event &e) {
        if (e.type == LLMH_EVENT_TOOL_CALL_START)
            events.push_back("start " + std::string(e.tool_call_id) + " " +
                             std::string(e.tool_name));
        else if (e.type == LLMH_EVENT_TOOL_CALL_ARGS)
            events.push_back("args " + std::string(e.text));
        else
            events.push_back("other");
        return true;
    };
    auto r = host->generate("v", req);
    CHECK(r.finish_reason == LLMH_FINISH_TOOL_CALLS);
    REQUIRE(r.tool_calls.size() == 1);
    CHECK(r.tool_calls[0].id == "v20_call");
    CHECK(r.tool_calls[0].name == "fetch");
    CHECK(r.tool_calls[0].arguments == R"({"from": "v20"})");
    CHECK(events ==
          std::vector<std::string>{"start v20_call fetch", R"(args {"from":)", R"(args  "v20"})"});
    CHECK(r.text.empty());

    // The tool's result goes back; reasoning on: the 2.0 plugin reasons first, then answers.
    llmhost::Message assistant = message("assistant", "");
    assistant.tool_calls = r.tool_calls;
    llmhost::Message result = message("tool", "42");
    result.tool_call_id = "v20_call";
    req.messages.push_back(assistant);
    req.messages.push_back(result);
    req.reasoning = LLMH_REASONING_ON;
    req.on_event = nullptr;
    r = host->generate("v", req);
    CHECK(r.finish_reason == LLMH_FINISH_STOP);
    CHECK(r.reasoning == "v20 considers it");
    CHECK(r.text == "v20 got 42 for v20_call");
    CHECK(r.reasoning_tokens == 2);
    CHECK(r.completion_tokens == 3);
    CHECK(r.tool_calls.empty());

    // The capability guard still applies to it: no structured output in its capabilities.
    req.response_format.type = LLMH_RESPONSE_JSON_OBJECT;
    auto e = expect_host_error([&] { host->generate("v", req); });
    CHECK(e.code() == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(e.what()).find("response_format") != std::string::npos);

    // 2.1's grammar/regex: a 2.0 plugin cannot have LLMH_CAP_GRAMMAR, so it never sees them.
    req.response_format.type = LLMH_RESPONSE_TEXT;
    req.grammar = "root ::= \"x\"";
    e = expect_host_error([&] { host->generate("v", req); });
    CHECK(e.code() == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(e.what()).find("grammar") != std::string::npos);
    req.grammar.clear();
    req.regex = "x+";
    e = expect_host_error([&] { host->generate("v", req); });
    CHECK(e.code() == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(e.what()).find("regex") != std::string::npos);
}

// The host's own ABI as its messages print it ("ABI 2.2"): from the current header, not a literal.
const std::string kHostAbi =
    "ABI " + std::to_string(LLMH_ABI_MAJOR) + "." + std::to_string(LLMH_ABI_MINOR);

TEST_CASE("an ABI 1.2 plugin is refused, naming both versions, and the host keeps working") {
    CleanEnvironment clean;
    auto host = llmhost::Host::open(test_options());
    const auto all = host->plugins();

    const auto *legacy = by_file(all, compat_file("legacy"));
    REQUIRE(legacy != nullptr);
    CHECK_FALSE(legacy->loaded);
    CHECK(legacy->error_code == LLMH_ERR_ABI_MISMATCH);
    CHECK(legacy->abi_major == 1);
    CHECK(legacy->error.find("ABI 1.2") != std::string::npos);
    CHECK(legacy->error.find(kHostAbi) != std::string::npos);
    CHECK(legacy->error.find(legacy->path) != std::string::npos);
    CHECK(legacy->hint.find("rebuild") != std::string::npos);

    // One that refuses in its entry point: its own words name both, the code is kept.
    const auto *strict = by_file(all, compat_file("legacy_strict"));
    REQUIRE(strict != nullptr);
    CHECK_FALSE(strict->loaded);
    CHECK(strict->error_code == LLMH_ERR_ABI_MISMATCH);
    CHECK(strict->error.find("ABI 1.2") != std::string::npos);
    CHECK(strict->error.find("host speaks 2.x") != std::string::npos);

    // Asking for it by path fails with the same error; the 2.0 plugin next to it still serves.
    auto e = expect_host_error([&] { host->swap("old", {{"plugin", legacy->path}}); });
    CHECK(e.code() == LLMH_ERR_ABI_MISMATCH);
    CHECK(std::string(e.what()).find("ABI 1.2") != std::string::npos);
    CHECK(std::string(e.what()).find(kHostAbi) != std::string::npos);
    host->swap("v", {{"plugin", "v20"}});
    llmhost::GenerateRequest req;
    req.prompt = "still here";
    CHECK(host->generate("v", req).text == "v20 says still here");
}
