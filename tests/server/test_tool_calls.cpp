// Tool calling, reasoning and structured output over HTTP through llmhost serve to the echo
// provider (its deterministic agent rules: examples/echo-plugin-c/echo.c), non-streamed and
// streamed, and the host's capability refusals for a provider without them ("textonly").
#include <doctest/doctest.h>

#include "server_fixture.hpp"

using namespace llmhost::test;
using nlohmann::json;

namespace {

json config() {
    return {{"providers",
             {{"echo", echo_entry()},
              {"textonly", {{"plugin", "textonly"}, {"config", json::object()}}}}}};
}
json user(const std::string &text) { return {{"role", "user"}, {"content", text}}; }
json tool(const std::string &name) {
    return {{"type", "function"},
            {"function",
             {{"name", name},
              {"description", "a tool"},
              {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}};
}
HttpReply chat(unsigned short port, json body) {
    if (!body.contains("model")) body["model"] = "echo";
    return http(port, "POST", "/v1/chat/completions", body.dump());
}

// The chunks of a streamed answer, [DONE] checked and dropped.
std::vector<json> chunks_of(const HttpReply &r) {
    REQUIRE(r.status == 200);
    auto data = sse_data(r.body);
    REQUIRE(!data.empty());
    CHECK(data.back() == "[DONE]");
    std::vector<json> out;
    for (std::size_t i = 0; i + 1 < data.size(); ++i) out.push_back(json::parse(data[i]));
    return out;
}

} // namespace

TEST_CASE("a tool call, non-streamed: content null - tool_calls - finish tool_calls") {
    ServerFixture f(config());
    auto r =
        chat(f.port, {{"messages", {user("Please get_weather {\"city\": \"Paris\"} then search")}},
                      {"tools", {tool("get_weather"), tool("search")}}});
    REQUIRE(r.status == 200);
    json c = r.json()["choices"][0];
    CHECK(c["finish_reason"] == "tool_calls");
    CHECK(c["message"]["content"].is_null());
    REQUIRE(c["message"]["tool_calls"].size() == 2);
    CHECK(c["message"]["tool_calls"][0] ==
          json{{"id", "call_1_0"},
               {"type", "function"},
               {"function", {{"name", "get_weather"}, {"arguments", "{\"city\": \"Paris\"}"}}}});
    CHECK(c["message"]["tool_calls"][1]["function"] ==
          json{{"name", "search"}, {"arguments", "{}"}});
    CHECK(r.json()["usage"]["completion_tokens"] == 4); // two fragments per call
    // parallel_tool_calls false: only the first; tool_choice none: plain echo.
    auto one = chat(f.port, {{"messages", {user("get_weather and search")}},
                             {"tools", {tool("get_weather"), tool("search")}},
                             {"parallel_tool_calls", false}});
    CHECK(one.json()["choices"][0]["message"]["tool_calls"].size() == 1);
    auto none = chat(f.port, {{"messages", {user("get_weather now")}},
                              {"tools", {tool("get_weather")}},
                              {"tool_choice", "none"}});
    CHECK(none.json()["choices"][0]["message"]["content"] == "get_weather now");
    CHECK(none.json()["choices"][0]["finish_reason"] == "stop");
    CHECK_FALSE(none.json()["choices"][0]["message"].contains("tool_calls"));
    auto required = chat(f.port, {{"messages", {user("no names here")}},
                                  {"tools", {tool("get_weather"), tool("search")}},
                                  {"tool_choice", "required"}});
    CHECK(required.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] ==
          "get_weather");
    auto named =
        chat(f.port, {{"messages", {user("get_weather please")}},
                      {"tools", {tool("get_weather"), tool("search")}},
                      {"tool_choice", {{"type", "function"}, {"function", {{"name", "search"}}}}}});
    CHECK(named.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "search");
}

TEST_CASE(
    "a tool call, streamed: first delta has id, type, name and empty arguments - then fragments") {
    ServerFixture f(config());
    auto chunks = chunks_of(chat(f.port, {{"messages", {user("get_weather {\"city\": \"Oslo\"}")}},
                                          {"tools", {tool("get_weather")}},
                                          {"stream", true},
                                          {"stream_options", {{"include_usage", true}}}}));
    REQUIRE(chunks.size() >= 5);
    CHECK(chunks[0]["choices"][0]["delta"]["role"] == "assistant");
    json first = chunks[1]["choices"][0]["delta"]["tool_calls"][0];
    CHECK(first == json{{"index", 0},
                        {"id", "call_1_0"},
                        {"type", "function"},
                        {"function", {{"name", "get_weather"}, {"arguments", ""}}}});
    std::string args;
    std::size_t i = 2;
    for (; i < chunks.size() && !chunks[i]["choices"].empty() &&
           chunks[i]["choices"][0]["finish_reason"].is_null();
         ++i) {
        json d = chunks[i]["choices"][0]["delta"]["tool_calls"][0];
        CHECK(d["index"] == 0);
        CHECK_FALSE(d.contains("id"));
        CHECK_FALSE(d["function"].contains("name"));
        args += d["function"]["arguments"].get<std::string>();
    }
    CHECK(i == 4); // exactly two fragments
    CHECK(args == "{\"city\": \"Oslo\"}");
    REQUIRE(i + 1 < chunks.size());
    CHECK(chunks[i]["choices"][0]["finish_reason"] == "tool_calls");
    CHECK(chunks[i + 1]["choices"] == json::array());
    CHECK(chunks[i + 1]["usage"]["completion_tokens"] == 2);
}

TEST_CASE("the tool result turn: the answer names the tool and its result") {
    ServerFixture f(config());
    json call = {{"id", "call_1_0"},
                 {"type", "function"},
                 {"function", {{"name", "get_weather"}, {"arguments", "{}"}}}};
    auto r = chat(f.port,
                  {{"messages",
                    {user("get_weather"),
                     {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", {call}}},
                     {{"role", "tool"}, {"tool_call_id", "call_1_0"}, {"content", "sunny, 21 C"}}}},
                   {"tools", {tool("get_weather")}}});
    REQUIRE(r.status == 200);
    CHECK(r.json()["choices"][0]["message"]["content"] ==
          "The tool get_weather returned: sunny, 21 C");
    CHECK(r.json()["choices"][0]["finish_reason"] == "stop");
}

TEST_CASE("reasoning: reasoning_content non-streamed and streamed - reasoning tokens in usage") {
    ServerFixture f(config());
    auto r = chat(f.port, {{"messages", {user("two words")}}, {"reasoning_effort", "low"}});
    REQUIRE(r.status == 200);
    json j = r.json();
    CHECK(j["choices"][0]["message"]["reasoning_content"] == "Thinking about: two words");
    CHECK(j["choices"][0]["message"]["content"] == "two words");
    CHECK(j["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4);
    CHECK(j["usage"]["completion_tokens"] == 6);
    auto off = chat(f.port, {{"messages", {user("two words")}}, {"reasoning_effort", "none"}});
    CHECK_FALSE(off.json()["choices"][0]["message"].contains("reasoning_content"));
    auto thinking = chat(
        f.port, {{"messages", {user("x")}}, {"chat_template_kwargs", {{"enable_thinking", true}}}});
    CHECK(thinking.json()["choices"][0]["message"]["reasoning_content"] == "Thinking about: x");

    auto chunks = chunks_of(chat(f.port, {{"messages", {user("two words")}},
                                          {"reasoning_effort", "high"},
                                          {"stream", true},
                                          {"stream_options", {{"include_usage", true}}}}));
    std::string reasoning, content;
    bool content_started = false, reasoning_after_content = false;
    for (const auto &c : chunks) {
        if (c["choices"].empty()) continue;
        const json &d = c["choices"][0]["delta"];
        if (d.contains("reasoning_content")) {
            reasoning += d["reasoning_content"].get<std::string>();
            reasoning_after_content |= content_started;
        }
        if (d.contains("content") && !d["content"].get<std::string>().empty()) {
            content += d["content"].get<std::string>();
            content_started = true;
        }
    }
    CHECK(reasoning == "Thinking about: two words");
    CHECK(content == "two words");
    CHECK_FALSE(reasoning_after_content);
    CHECK(chunks.back()["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4);
}

TEST_CASE("structured output: json_object answers a JSON object - json_schema is refused by echo") {
    ServerFixture f(config());
    auto r = chat(f.port, {{"messages", {user("say \"hi\"")}},
                           {"response_format", {{"type", "json_object"}}}});
    REQUIRE(r.status == 200);
    json doc = json::parse(r.json()["choices"][0]["message"]["content"].get<std::string>());
    CHECK(doc == json{{"echo", "say \"hi\""}});
    auto schema =
        chat(f.port, {{"messages", {user("x")}},
                      {"response_format",
                       {{"type", "json_schema"},
                        {"json_schema", {{"name", "s"}, {"schema", {{"type", "object"}}}}}}}});
    CHECK(schema.status == 400);
    CHECK(schema.json()["error"]["code"] == "unsupported");
    CHECK(schema.json()["error"]["message"].get<std::string>().find("json_schema") !=
          std::string::npos);
}

TEST_CASE("a provider without the capabilities: 400 unsupported naming the field") {
    ServerFixture f(config());
    struct Case {
        json extra;
        std::string field;
    };
    for (const auto &c : std::vector<Case>{
             {{{"tools", {tool("f")}}}, "tools"},
             {{{"messages",
                {user("q"), {{"role", "tool"}, {"tool_call_id", "c"}, {"content", "r"}}}}},
              "tools"},
             {{{"reasoning_effort", "high"}}, "reasoning"},
             {{{"reasoning_effort", "none"}}, "reasoning"},
             {{{"chat_template_kwargs", {{"enable_thinking", false}}}}, "reasoning"},
             {{{"response_format", {{"type", "json_object"}}}}, "response_format"},
             {{{"logprobs", true}}, "logprobs"}}) {
        json body = {{"model", "textonly"}, {"messages", {user("hi")}}};
        for (auto &[k, v] : c.extra.items()) body[k] = v;
        CAPTURE(body.dump());
        auto r = chat(f.port, body);
        CHECK(r.status == 400);
        json e = r.json()["error"];
        CHECK(e["code"] == "unsupported");
        CHECK(e["message"].get<std::string>().find(c.field) != std::string::npos);
        CHECK(e["message"].get<std::string>().find("textonly") != std::string::npos);
    }
    // An empty tools list is no tools: nothing to refuse.
    CHECK(
        chat(f.port, {{"model", "textonly"}, {"messages", {user("hi")}}, {"tools", json::array()}})
            .status == 200);
}

TEST_CASE("hostile tool-calling requests over HTTP: 400 with the param, the server keeps serving") {
    ServerFixture f(config());
    json many = json::array();
    for (int i = 0; i < 10000; ++i) many.push_back(tool("t" + std::to_string(i)));
    auto r = chat(f.port, {{"messages", {user("hi")}}, {"tools", many}});
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["param"] == "tools");
    auto unbalanced = chat(
        f.port, {{"messages", {user("get_weather {\"a\": {\"b\": " + std::string(100000, '['))}},
                 {"tools", {tool("get_weather")}}});
    REQUIRE(unbalanced.status == 200);
    CHECK(unbalanced.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] ==
          "{}");
    auto legacy = http(f.port, "POST", "/v1/completions",
                       json{{"model", "echo"}, {"prompt", "x"}, {"tools", {tool("f")}}}.dump());
    CHECK(legacy.status == 400);
    CHECK(legacy.json()["error"]["param"] == "tools");
    CHECK(chat(f.port, {{"messages", {user("still here")}}})
              .json()["choices"][0]["message"]["content"] == "still here");
}
