// ABI 2 request guards: a field a provider's plugin cannot honour (logprobs, tools and tool
// messages, response_format, reasoning) is refused with LLMH_ERR_UNSUPPORTED naming the provider
// and the field, before the plugin runs; a malformed request is invalid_argument whatever the
// plugin; a plugin that breaks the event protocol yields an internal error, never a garbled
// result. The fixtures are tests/fixtures/limited_plugin.c ("limited" lacks every optional
// capability and fails loudly if one of those fields reaches it; "rogue" breaks the events).
#include "test_support.hpp"

#include <llmhost/host.h>

using namespace test;

namespace {

std::unique_ptr<llmhost::Host> host_with(const std::string &plugin,
                                         nlohmann::json config = nlohmann::json::object()) {
    auto host = llmhost::Host::open(test_options());
    host->swap("p", {{"plugin", plugin}, {"config", std::move(config)}});
    return host;
}

llmhost::Tool tool(const std::string &name, const std::string &params = "") {
    return {name, "a test function", params, false};
}

llmhost::GenerateRequest chat(const std::string &text) {
    llmhost::GenerateRequest r;
    r.messages = {{"user", text}};
    return r;
}

bool contains(const std::string &s, const std::string &needle) {
    return s.find(needle) != std::string::npos;
}

// Runs the request, which must be refused with `code` before any output; returns the message.
std::string refused(llmhost::Host &host, const llmhost::GenerateRequest &r, int code) {
    bool streamed = false;
    auto e = expect_host_error([&] {
        host.generate("p", r, [&](std::string_view, uint32_t) { return streamed = true; });
    });
    CHECK(e.code() == code);
    CHECK_FALSE(streamed);
    return e.what();
}

} // namespace

TEST_CASE("a plugin without the capability: unsupported, naming the provider and the field") {
    CleanEnvironment clean;
    auto host = host_with("limited");
    CHECK(host->generate("p", chat("plain works")).text == "plain works");

    SUBCASE("logprobs") {
        auto r = chat("x");
        r.logprobs = true;
        r.top_logprobs = 2;
        const auto msg = refused(*host, r, LLMH_ERR_UNSUPPORTED);
        CHECK(contains(msg, "provider 'p' (plugin limited)"));
        CHECK(contains(msg, "logprobs"));
    }
    SUBCASE("tools") {
        auto r = chat("call lookup");
        r.tools = {tool("lookup", R"({"type":"object"})")};
        const auto msg = refused(*host, r, LLMH_ERR_UNSUPPORTED);
        CHECK(contains(msg, "provider 'p' (plugin limited)"));
        CHECK(contains(msg, "tools"));
    }
    SUBCASE("a tool call and a tool result in the history, without tools") {
        auto r = chat("what is the weather");
        r.messages.push_back({"assistant", "", "", "", {{"call_1", "get_weather", "{}"}}, ""});
        r.messages.push_back({"tool", "sunny", "", "call_1", {}, ""});
        const auto msg = refused(*host, r, LLMH_ERR_UNSUPPORTED);
        CHECK(contains(msg, "provider 'p'"));
        CHECK(contains(msg, "tool"));
    }
    SUBCASE("response_format json_object and json_schema; text is fine") {
        auto r = chat("free text");
        r.response_format = llmhost::response_format_from_openai({{"type", "text"}});
        CHECK(host->generate("p", r).text == "free text");
        for (const char *rf :
             {R"({"type":"json_object"})",
              R"({"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}})"}) {
            CAPTURE(rf);
            r.response_format = llmhost::response_format_from_openai(nlohmann::json::parse(rf));
            const auto msg = refused(*host, r, LLMH_ERR_UNSUPPORTED);
            CHECK(contains(msg, "provider 'p' (plugin limited)"));
            CHECK(contains(msg, "response_format"));
        }
    }
    SUBCASE("reasoning on, off, or an effort; default is fine") {
        auto r = chat("think");
        r.reasoning = LLMH_REASONING_DEFAULT;
        CHECK(host->generate("p", r).text == "think");
        for (auto mode : {LLMH_REASONING_ON, LLMH_REASONING_OFF}) {
            r.reasoning = mode;
            const auto msg = refused(*host, r, LLMH_ERR_UNSUPPORTED);
            CHECK(contains(msg, "provider 'p'"));
            CHECK(contains(msg, "reasoning"));
        }
        r.reasoning = LLMH_REASONING_DEFAULT;
        r.reasoning_effort = "high";
        CHECK(contains(refused(*host, r, LLMH_ERR_UNSUPPORTED), "reasoning"));
    }
}

TEST_CASE("malformed tool requests are invalid_argument, whatever the plugin") {
    CleanEnvironment clean;
    for (const std::string plugin : {"rogue", "limited"}) {
        CAPTURE(plugin);
        auto host = host_with(plugin);
        auto base = chat("call lookup");
        base.tools = {tool("lookup", R"({"type":"object","properties":{"q":{"type":"integer"}}})")};

        auto r = base;
        r.tool_choice = LLMH_TOOL_CHOICE_FUNCTION;
        r.tool_choice_name = "not_there";
        CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "not_there"));

        r = base;
        r.messages.push_back({"assistant", "", "", "", {{"call_1", "lookup", "{}"}}, ""});
        r.messages.push_back({"tool", "42", "", "", {}, ""}); // no tool_call_id
        CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "tool_call_id"));

        for (const std::string bad : {std::string(), std::string("has space"), std::string(65, 'a'),
                                      std::string("na\xc3\xafve"), std::string("semi;colon")}) {
            CAPTURE(bad);
            r = base;
            r.tools = {tool(bad)};
            CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "function name"));
        }

        for (const char *params : {"[1]", "not json", "\"a string\"", "{\"unclosed\": "}) {
            CAPTURE(params);
            r = base;
            r.tools = {tool("lookup", params)};
            CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "parameters"));
        }

        r = base;
        r.tools.push_back(tool("lookup"));
        CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "twice"));

        r = chat("x");
        r.tool_choice = LLMH_TOOL_CHOICE_REQUIRED;
        CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "no tools"));

        r = base;
        r.messages = {{"user", "x", "", "", {{"call_1", "lookup", "{}"}}, ""}};
        CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "its role is 'user'"));

        r = base;
        r.messages.push_back({"assistant", "", "", "", {{"call_1", "", "{}"}}, ""});
        CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "without a name"));

        r = chat("x");
        r.reasoning_effort = "extreme";
        CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "extreme"));
        r.reasoning_effort = "low";
        r.reasoning = LLMH_REASONING_OFF;
        CHECK(contains(refused(*host, r, LLMH_ERR_INVALID_ARGUMENT), "reasoning is off"));

        r = chat("x");
        r.logprobs = true;
        r.top_logprobs = LLMH_TOP_LOGPROBS_MAX + 1;
        refused(*host, r, LLMH_ERR_INVALID_ARGUMENT);
        r.logprobs = false;
        r.top_logprobs = 3;
        refused(*host, r, LLMH_ERR_INVALID_ARGUMENT);
    }
}

TEST_CASE("response_format_from_openai: OpenAI's object, hostile ones refused naming the field") {
    using llmhost::response_format_from_openai;
    CHECK(response_format_from_openai(nullptr).type == LLMH_RESPONSE_TEXT);
    CHECK(response_format_from_openai({{"type", "text"}}).type == LLMH_RESPONSE_TEXT);
    CHECK(response_format_from_openai({{"type", "json_object"}}).type == LLMH_RESPONSE_JSON_OBJECT);
    auto f = response_format_from_openai(nlohmann::json::parse(
        R"({"type":"json_schema","json_schema":{"name":"w","strict":true,"schema":{"type":"object"}}})"));
    CHECK(f.type == LLMH_RESPONSE_JSON_SCHEMA);
    CHECK(f.name == "w");
    CHECK(f.strict);
    CHECK(nlohmann::json::parse(f.schema_json) == nlohmann::json{{"type", "object"}});
    for (const char *bad :
         {"[1]", R"({"type":"xml"})", R"({"type":1})", R"({"type":"json_schema"})",
          R"({"type":"json_schema","json_schema":{"schema":{}}})",
          R"({"type":"json_schema","json_schema":{"name":"bad name","schema":{}}})",
          R"({"type":"json_schema","json_schema":{"name":"n","schema":[1]}})",
          R"({"type":"json_schema","json_schema":{"name":"n","strict":"yes"}})"}) {
        CAPTURE(bad);
        auto e =
            expect_host_error([&] { response_format_from_openai(nlohmann::json::parse(bad)); });
        CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(contains(e.what(), "response_format"));
    }
}

TEST_CASE("a plugin that breaks the event protocol: internal error, not a garbled result") {
    CleanEnvironment clean;
    auto req = chat("call lookup");
    req.tools = {tool("lookup")};

    // The fixture's valid call first: the guard below is about the protocol, not the fixture.
    {
        auto host = host_with("rogue");
        auto r = host->generate("p", req);
        CHECK(r.finish_reason == LLMH_FINISH_TOOL_CALLS);
        REQUIRE(r.tool_calls.size() == 1);
        CHECK(r.tool_calls[0].id == "call_0");
        CHECK(r.tool_calls[0].name == "lookup");
        CHECK(r.tool_calls[0].arguments == R"({"q":1})");
    }
    for (const auto &[mode, says] : std::vector<std::pair<std::string, std::string>>{
             {"args_first", "came before that call started"},
             {"skip_index", "out of order"},
             {"no_name", "without a name"},
             {"no_call", "sent no tool call"}}) {
        CAPTURE(mode);
        auto host = host_with("rogue", {{"break", mode}});
        std::vector<llmhost::Event> seen;
        auto r = req;
        r.on_event = [&](const llmhost::Event &e) {
            seen.push_back(e);
            return true;
        };
        auto e = expect_host_error([&] { host->generate("p", r); });
        CHECK(e.code() == LLMH_ERR_INTERNAL);
        CHECK(contains(e.what(), "provider 'p' (plugin rogue)"));
        CHECK(contains(e.what(), says));
        CHECK(contains(e.hint(), "bug in the plugin"));
        // Nothing broken reached the caller as a tool call.
        for (const auto &ev : seen) CHECK(ev.type != LLMH_EVENT_TOOL_CALL_ARGS);
    }
}

TEST_CASE("a provider's create failure is a configuration error: http_status 500") {
    CleanEnvironment clean;
    auto host = llmhost::Host::open(test_options());
    auto e = expect_host_error([&] {
        host->swap("p", {{"plugin", "echo"}, {"config", {{"fail_create", true}}}});
    });
    CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT); // the plugin's code is kept
    CHECK(e.http_status() == 500);                // but it is not the request's fault
}

TEST_CASE("C API: llmhost_generate refuses what the plugin cannot honour, by capability") {
    CleanEnvironment clean;
    nlohmann::json root = {{"providers", {{"lim", {{"plugin", "limited"}}}}}};
    const std::string path = clean.home.write("c.json", root.dump());
    llmhost_open_params op = llmhost_open_default_params();
    const char *dirs[] = {LLMHOST_TEST_PLUGIN_DIR};
    op.config_path = path.c_str();
    op.plugin_dirs = dirs;
    op.n_plugin_dirs = 1;
    op.search_default_plugin_dirs = 0;
    llmhost_host *h = llmhost_open_ext(&op);
    REQUIRE_MESSAGE(h != nullptr, llmhost_last_error());

    llmh_request req;
    llmh_params params;
    llmhost_request_init(&req, &params);
    req.prompt = "abc";
    req.logprobs = 1;
    CHECK(llmhost_generate(h, "lim", &req, nullptr, nullptr) == LLMH_ERR_UNSUPPORTED);
    CHECK(contains(llmhost_last_error(), "provider 'lim'"));
    CHECK(contains(llmhost_last_error(), "logprobs"));
    req.logprobs = 0;

    llmh_response_format rf{};
    rf.struct_size = sizeof rf;
    rf.type = LLMH_RESPONSE_JSON_OBJECT;
    req.response_format = &rf;
    CHECK(llmhost_generate(h, "lim", &req, nullptr, nullptr) == LLMH_ERR_UNSUPPORTED);
    CHECK(contains(llmhost_last_error(), "response_format"));
    rf.type = LLMH_RESPONSE_TEXT;
    char *text = nullptr;
    CHECK(llmhost_generate(h, "lim", &req, nullptr, &text) == LLMH_OK);
    CHECK(std::string(text ? text : "") == "abc");
    llmhost_free(text);
    req.response_format = nullptr;

    llmh_tool t{sizeof(llmh_tool), "function", "lookup", nullptr, nullptr, 0};
    const llmh_tool *tools[] = {&t};
    req.tools = tools;
    req.n_tools = 1;
    CHECK(llmhost_generate(h, "lim", &req, nullptr, nullptr) == LLMH_ERR_UNSUPPORTED);
    CHECK(contains(llmhost_last_error(), "tools"));
    req.tools = nullptr;
    req.n_tools = 0;

    req.reasoning = LLMH_REASONING_ON;
    CHECK(llmhost_generate(h, "lim", &req, nullptr, nullptr) == LLMH_ERR_UNSUPPORTED);
    CHECK(contains(llmhost_last_error(), "reasoning"));
    req.reasoning = LLMH_REASONING_DEFAULT;
    CHECK(llmhost_generate(h, "lim", &req, nullptr, nullptr) == LLMH_OK);
    llmhost_close(h);
}
