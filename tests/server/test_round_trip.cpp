// Round trip: the openai plugin (in a client Host) -> llmhost serve (a server Host) -> echo.
// Two Hosts, so the server never lists or calls the provider that points back at itself.
#include <doctest/doctest.h>

#include "server_fixture.hpp"

using namespace llmhost::test;
using nlohmann::json;

namespace {

json remote_entry(unsigned short port, const std::string &key) {
    return {{"plugin", "openai"},
            {"config",
             {{"base_url", "http://127.0.0.1:" + std::to_string(port) + "/v1"},
              {"model", "echo"},
              {"max_retries", 0}}},
            {"secrets", {{"api_key", key}}}};
}

// A Host whose only provider, "remote", is the openai plugin aimed at the server.
struct ClientHost {
    ClientHost(unsigned short port, const std::string &key)
        : config(json{{"providers", {{"remote", remote_entry(port, key)}}}}),
          host(llmhost::Host::open(host_options(config.path()))) {}
    TempConfig config;
    std::unique_ptr<llmhost::Host> host;
};

llmhost::Message msg(std::string role, std::string content) {
    llmhost::Message m;
    m.role = std::move(role);
    m.content = std::move(content);
    return m;
}

} // namespace

TEST_CASE("openai plugin -> llmhost serve -> echo: streamed - plain - completions - models") {
    llmhost::server::ServerOptions o;
    o.api_keys = {"rt-key"};
    ServerFixture f(json{{"providers", {{"echo", echo_entry({{"prefix", "P "}})}}}}, o);
    ClientHost c(f.port, "rt-key");

    for (bool stream : {true, false}) {
        CAPTURE(stream);
        llmhost::GenerateRequest req;
        req.messages = {msg("system", "be an echo"), msg("user", "round trip works")};
        req.stream = stream;
        std::vector<std::string> pieces;
        auto res = c.host->generate("remote", req, [&](std::string_view p, uint32_t) {
            pieces.emplace_back(p);
            return true;
        });
        CHECK(res.text == "P round trip works");
        CHECK(res.finish_reason == LLMH_FINISH_STOP);
        CHECK(res.completion_tokens >= 3);
        if (stream) CHECK(pieces.size() >= 3); // token by token through both hops
    }

    llmhost::GenerateRequest completion;
    completion.prompt = "raw prompt text";
    completion.max_tokens = 50;
    auto res = c.host->generate("remote", completion);
    CHECK(res.text == "P raw prompt text");

    auto models = c.host->list_models("remote");
    REQUIRE(!models.empty());
    CHECK(models[0].id.rfind("echo", 0) == 0);
}

TEST_CASE("round trip errors: a wrong key and an unknown model come back as ABI errors") {
    llmhost::server::ServerOptions o;
    o.api_keys = {"rt-key"};
    ServerFixture f(json{{"providers", {{"echo", echo_entry()}, {"echo2", echo_entry()}}}}, o);
    llmhost::GenerateRequest req;
    req.messages = {msg("user", "x")};
    {
        ClientHost bad(f.port, "not-the-key");
        try {
            bad.host->generate("remote", req);
            FAIL("expected an auth error");
        } catch (const llmhost::HostError &e) {
            CHECK(e.code() == LLMH_ERR_AUTH_INVALID);
            CHECK(e.hint().find("OPENAI_API_KEY") != std::string::npos);
            CHECK(std::string(e.what()).find("not-the-key") == std::string::npos);
        }
    }
    ClientHost c(f.port, "rt-key");
    req.model = "nosuch/model";
    try {
        c.host->generate("remote", req);
        FAIL("expected not_found");
    } catch (const llmhost::HostError &e) {
        CHECK(e.code() == LLMH_ERR_NOT_FOUND);
        CHECK(e.hint().find("echo2") != std::string::npos); // the hint lists the server's models
    }
}

TEST_CASE("openai plugin -> llmhost serve -> echo: a tool loop, reasoning, json_object - streamed "
          "and not") {
    ServerFixture f(json{{"providers", {{"echo", echo_entry()}}}});
    ClientHost c(f.port, "unused");
    llmhost::Tool weather{"get_weather", "the weather", R"({"type":"object"})", false};
    for (bool stream : {true, false}) {
        CAPTURE(stream);
        llmhost::GenerateRequest req;
        req.stream = stream;
        req.tools = {weather};
        req.messages = {msg("user", R"(get_weather {"city": "Oslo"})")};
        std::vector<llmh_event_type> events;
        req.on_event = [&](const llmhost::Event &e) {
            events.push_back(e.type);
            return true;
        };
        auto call = c.host->generate("remote", req);
        CHECK(call.finish_reason == LLMH_FINISH_TOOL_CALLS);
        REQUIRE(call.tool_calls.size() == 1);
        CHECK(call.tool_calls[0].id == "call_1_0");
        CHECK(call.tool_calls[0].name == "get_weather");
        CHECK(call.tool_calls[0].arguments == R"({"city": "Oslo"})");
        CHECK(call.text.empty());
        REQUIRE(!events.empty());
        CHECK(events.front() == LLMH_EVENT_TOOL_CALL_START);

        llmhost::Message assistant = msg("assistant", "");
        assistant.tool_calls = call.tool_calls;
        llmhost::Message result = msg("tool", "cloudy");
        result.tool_call_id = call.tool_calls[0].id;
        req.messages.push_back(assistant);
        req.messages.push_back(result);
        auto answer = c.host->generate("remote", req);
        CHECK(answer.finish_reason == LLMH_FINISH_STOP);
        CHECK(answer.text == "The tool get_weather returned: cloudy");

        llmhost::GenerateRequest think;
        think.stream = stream;
        think.messages = {msg("user", "deep thought")};
        think.reasoning_effort = "medium";
        auto r = c.host->generate("remote", think);
        CHECK(r.reasoning == "Thinking about: deep thought");
        CHECK(r.text == "deep thought");
        CHECK(r.reasoning_tokens == 4);

        llmhost::GenerateRequest structured;
        structured.stream = stream;
        structured.messages = {msg("user", "a b")};
        structured.response_format.type = LLMH_RESPONSE_JSON_OBJECT;
        CHECK(json::parse(c.host->generate("remote", structured).text) == json{{"echo", "a b"}});
    }
}
