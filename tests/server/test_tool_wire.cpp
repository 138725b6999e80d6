// The OpenAI tool-calling and reasoning wire format of the server, without sockets: how the
// parser maps tools, tool_choice, tool messages, reasoning_effort and the sampling extensions
// onto llmhost::GenerateRequest, the 400 (naming the param) for every malformed shape, and the
// response body and stream chunks of tool calls and reasoning.
#include <doctest/doctest.h>

#include "openai_api.hpp"

#include <nlohmann/json.hpp>

using namespace llmhost::server;
using nlohmann::json;

namespace {

json user(const std::string &text) { return {{"role", "user"}, {"content", text}}; }
json weather_tool() {
    return {
        {"type", "function"},
        {"function",
         {{"name", "get_weather"},
          {"description", "the weather in a city"},
          {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}},
          {"strict", true}}}};
}
json body_with(json extra) {
    json b = {{"model", "echo"}, {"messages", {user("hi")}}};
    for (auto &[k, v] : extra.items()) b[k] = v;
    return b;
}

} // namespace

TEST_CASE("tools, tool_choice, parallel_tool_calls and tool messages map onto the request") {
    json call = {{"id", "call_9"},
                 {"type", "function"},
                 {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}};
    json body =
        body_with({{"tools", {weather_tool()}},
                   {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_weather"}}}}},
                   {"parallel_tool_calls", false},
                   {"messages",
                    {user("weather?"),
                     {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", {call}}},
                     {{"role", "tool"},
                      {"tool_call_id", "call_9"},
                      {"name", "get_weather"},
                      {"content", {{{"type", "text"}, {"text", "sunny"}}}}},
                     {{"role", "assistant"},
                      {"content", ""},
                      {"tool_calls", json::array()},
                      {"reasoning_content", "thought"}}}}});
    ApiError err;
    auto p = parse_chat_request(body.dump(), err);
    REQUIRE_MESSAGE(p, err.message);
    const auto &g = p->request;
    REQUIRE(g.tools.size() == 1);
    CHECK(g.tools[0].name == "get_weather");
    CHECK(g.tools[0].description == "the weather in a city");
    CHECK(json::parse(g.tools[0].parameters_json) == weather_tool()["function"]["parameters"]);
    CHECK(g.tools[0].strict);
    CHECK(g.tool_choice == LLMH_TOOL_CHOICE_FUNCTION);
    CHECK(g.tool_choice_name == "get_weather");
    CHECK(g.parallel_tool_calls == std::optional<bool>(false));
    REQUIRE(g.messages.size() == 4);
    REQUIRE(g.messages[1].tool_calls.size() == 1);
    CHECK(g.messages[1].content.empty());
    CHECK(g.messages[1].tool_calls[0].id == "call_9");
    CHECK(g.messages[1].tool_calls[0].name == "get_weather");
    CHECK(g.messages[1].tool_calls[0].arguments == "{\"city\":\"Paris\"}");
    CHECK(g.messages[2].role == "tool");
    CHECK(g.messages[2].tool_call_id == "call_9");
    CHECK(g.messages[2].name == "get_weather");
    CHECK(g.messages[2].content == "sunny");
    CHECK(g.messages[3].reasoning == "thought");
    for (auto [choice, expected] : {std::pair{json("none"), LLMH_TOOL_CHOICE_NONE},
                                    std::pair{json("auto"), LLMH_TOOL_CHOICE_AUTO},
                                    std::pair{json("required"), LLMH_TOOL_CHOICE_REQUIRED}}) {
        auto q = parse_chat_request(
            body_with({{"tools", {weather_tool()}}, {"tool_choice", choice}}).dump(), err);
        REQUIRE(q);
        CHECK(q->request.tool_choice == expected);
    }
    auto dflt = parse_chat_request(body_with({}).dump(), err);
    CHECK_FALSE(dflt->request.parallel_tool_calls.has_value());
}

TEST_CASE(
    "reasoning_effort, chat_template_kwargs and the sampling extensions map onto the request") {
    ApiError err;
    auto none = parse_chat_request(body_with({{"reasoning_effort", "none"}}).dump(), err);
    CHECK(none->request.reasoning == LLMH_REASONING_OFF);
    CHECK(none->request.reasoning_effort.empty());
    for (const char *e : {"minimal", "low", "medium", "high"}) {
        auto p = parse_chat_request(body_with({{"reasoning_effort", e}}).dump(), err);
        REQUIRE(p);
        CHECK(p->request.reasoning == LLMH_REASONING_ON);
        CHECK(p->request.reasoning_effort == e);
    }
    auto off = parse_chat_request(
        body_with({{"chat_template_kwargs", {{"enable_thinking", false}}}}).dump(), err);
    CHECK(off->request.reasoning == LLMH_REASONING_OFF);
    auto on = parse_chat_request(
        body_with({{"chat_template_kwargs", {{"enable_thinking", true}}}}).dump(), err);
    CHECK(on->request.reasoning == LLMH_REASONING_ON);
    CHECK(parse_chat_request(body_with({}).dump(), err)->request.reasoning ==
          LLMH_REASONING_DEFAULT);
    auto s = parse_chat_request(body_with({{"top_k", 40},
                                           {"min_p", 0.05},
                                           {"repetition_penalty", 1.1},
                                           {"presence_penalty", 0.5},
                                           {"frequency_penalty", -0.25}})
                                    .dump(),
                                err);
    REQUIRE(s);
    CHECK(s->request.top_k == 40);
    CHECK(s->request.min_p == doctest::Approx(0.05));
    CHECK(s->request.repetition_penalty == doctest::Approx(1.1));
    CHECK(s->request.presence_penalty == doctest::Approx(0.5));
    CHECK(s->request.frequency_penalty == doctest::Approx(-0.25));
    CHECK(parse_chat_request(body_with({{"top_k", -1}}).dump(), err)->request.top_k ==
          0); // vLLM's "off"
    auto legacy = parse_completion_request(R"({"prompt":"x","top_k":3,"presence_penalty":1})", err);
    REQUIRE(legacy);
    CHECK(legacy->request.top_k == 3);
    CHECK(legacy->request.presence_penalty == doctest::Approx(1.0));
}

TEST_CASE("every malformed tool-calling shape is a 400 naming its param") {
    json call = {
        {"id", "c1"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}};
    auto assistant_with = [&](json c) {
        return json{
            {"messages",
             {user("q"), {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", {c}}}}}};
    };
    json tool_named_f = {{"type", "function"}, {"function", {{"name", "f"}}}};
    json many = json::array();
    for (int i = 0; i <= 128; ++i)
        many.push_back({{"type", "function"}, {"function", {{"name", "f" + std::to_string(i)}}}});
    json huge_name = {{"type", "function"}, {"function", {{"name", std::string(65, 'a')}}}};
    struct Bad {
        json extra;
        std::string param;
    };
    json no_id = call, no_fn = call, args_obj = call, bad_type = call;
    no_id.erase("id");
    no_fn.erase("function");
    args_obj["function"]["arguments"] = json::object();
    bad_type["type"] = "code";
    const std::vector<Bad> bad = {
        {{{"tools", {{"type", "function"}}}}, "tools"},
        {{{"tools", "get_weather"}}, "tools"},
        {{{"tools", {{{"type", "function"}, {"function", {{"description", "no name"}}}}}}},
         "tools[0].function.name"},
        {{{"tools", {huge_name}}}, "tools[0].function.name"},
        {{{"tools", {{{"type", "function"}, {"function", {{"name", "bad name!"}}}}}}},
         "tools[0].function.name"},
        {{{"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", "{}"}}}}}}},
         "tools[0].function.parameters"},
        {{{"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"strict", "yes"}}}}}}},
         "tools[0].function.strict"},
        {{{"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"extra", 1}}}}}}},
         "tools[0].function.extra"},
        {{{"tools", {{{"type", "retrieval"}}}}}, "tools[0].type"},
        {{{"tools", {tool_named_f, tool_named_f}}}, "tools[1].function.name"},
        {{{"tools", many}}, "tools"},
        {{{"tools", {tool_named_f}}, {"tool_choice", "sometimes"}}, "tool_choice"},
        {{{"tools", {tool_named_f}},
          {"tool_choice", {{"type", "function"}, {"function", {{"name", "g"}}}}}},
         "tool_choice.function.name"},
        {{{"tool_choice", {{"type", "function"}, {"function", {{"name", "f"}}}}}},
         "tool_choice.function.name"},
        {{{"tool_choice", "required"}}, "tool_choice"},
        {{{"tool_choice", {{"type", "function"}}}}, "tool_choice"},
        {{{"parallel_tool_calls", "yes"}}, "parallel_tool_calls"},
        {assistant_with(no_id), "messages[1].tool_calls[0].id"},
        {assistant_with(no_fn), "messages[1].tool_calls[0].function"},
        {assistant_with(args_obj), "messages[1].tool_calls[0].function.arguments"},
        {assistant_with(bad_type), "messages[1].tool_calls[0].type"},
        {assistant_with("call"), "messages[1].tool_calls[0]"},
        {{{"messages", {user("q"), {{"role", "assistant"}, {"tool_calls", "x"}}}}},
         "messages[1].tool_calls"},
        {{{"messages", {{{"role", "user"}, {"content", "q"}, {"tool_calls", {call}}}}}},
         "messages[0].tool_calls"},
        {{{"messages", {user("q"), {{"role", "tool"}, {"content", "42"}}}}},
         "messages[1].tool_call_id"},
        {{{"messages", {user("q"), {{"role", "tool"}, {"content", "42"}, {"tool_call_id", 5}}}}},
         "messages[1].tool_call_id"},
        {{{"messages", {{{"role", "user"}, {"content", "q"}, {"tool_call_id", "c"}}}}},
         "messages[0].tool_call_id"},
        {{{"messages", {user("q"), {{"role", "tool"}, {"tool_call_id", "c"}}}}},
         "messages[1].content"},
        {{{"messages", {{{"role", "user"}, {"content", "q"}, {"name", 7}}}}}, "messages[0].name"},
        {{{"messages", {{{"role", "assistant"}, {"function_call", {{"name", "f"}}}}}}},
         "messages[0].function_call"},
        {{{"reasoning_effort", "extreme"}}, "reasoning_effort"},
        {{{"reasoning_effort", 3}}, "reasoning_effort"},
        {{{"chat_template_kwargs", {{"add_generation_prompt", false}}}},
         "chat_template_kwargs.add_generation_prompt"},
        {{{"chat_template_kwargs", {{"enable_thinking", "yes"}}}},
         "chat_template_kwargs.enable_thinking"},
        {{{"chat_template_kwargs", {{"enable_thinking", false}}}, {"reasoning_effort", "high"}},
         "chat_template_kwargs.enable_thinking"},
        {{{"chat_template_kwargs", "x"}}, "chat_template_kwargs"},
        {{{"top_k", 1.5}}, "top_k"},
        {{{"min_p", 2}}, "min_p"},
        {{{"repetition_penalty", 0}}, "repetition_penalty"},
        {{{"presence_penalty", 3}}, "presence_penalty"},
        {{{"frequency_penalty", "x"}}, "frequency_penalty"},
        {{{"response_format", {{"type", "xml"}}}}, "response_format"},
        {{{"functions", {{{"name", "f"}}}}}, "functions"},
    };
    for (const auto &b : bad) {
        json body = body_with(b.extra);
        CAPTURE(body.dump());
        ApiError err;
        CHECK_FALSE(parse_chat_request(body.dump(), err));
        CHECK(err.status == 400);
        CHECK(err.param == b.param);
        CHECK_FALSE(err.message.empty());
    }
    // The legacy endpoint has no chat-only fields.
    for (const char *field :
         {"tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort"}) {
        ApiError err;
        json body = {
            {"prompt", "x"},
            {field, field == std::string("tools") ? json::array({tool_named_f}) : json("auto")}};
        CAPTURE(body.dump());
        CHECK_FALSE(parse_completion_request(body.dump(), err));
        CHECK(err.param == field);
        CHECK(err.message.find("/v1/chat/completions") != std::string::npos);
    }
}

TEST_CASE("response shapes: tool_calls with null content - reasoning_content - finish tool_calls") {
    ResponseMeta m = make_response_meta(true, "echo");
    llmhost::GenerateResult r;
    r.finish_reason = LLMH_FINISH_TOOL_CALLS;
    r.tool_calls = {{"call_1_0", "get_weather", "{\"city\":\"Paris\"}"},
                    {"call_1_1", "search", "{}"}};
    r.reasoning = "Thinking about: q";
    r.prompt_tokens = 4;
    r.completion_tokens = 7;
    r.reasoning_tokens = 3;
    json body = json::parse(completion_body(m, r));
    json msg = body["choices"][0]["message"];
    CHECK(msg["content"].is_null());
    CHECK(msg["role"] == "assistant");
    CHECK(msg["reasoning_content"] == "Thinking about: q");
    REQUIRE(msg["tool_calls"].size() == 2);
    CHECK(msg["tool_calls"][0] ==
          json{{"id", "call_1_0"},
               {"type", "function"},
               {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}});
    CHECK(body["choices"][0]["finish_reason"] == "tool_calls");
    CHECK(body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3);
    CHECK(body["usage"]["total_tokens"] == 11);
    llmhost::GenerateResult text;
    text.text = "hi";
    text.finish_reason = LLMH_FINISH_STOP;
    json plain = json::parse(completion_body(m, text))["choices"][0]["message"];
    CHECK(plain["content"] == "hi");
    CHECK_FALSE(plain.contains("tool_calls"));
    CHECK_FALSE(plain.contains("reasoning_content"));
    auto data = [](const std::string &ev) { return json::parse(ev.substr(6)); };
    json start = data(sse_tool_call_start_chunk(m, 1, "call_1_1", "search"))["choices"][0]["delta"];
    CHECK(start == json{{"tool_calls",
                         {{{"index", 1},
                           {"id", "call_1_1"},
                           {"type", "function"},
                           {"function", {{"name", "search"}, {"arguments", ""}}}}}}});
    json args = data(sse_tool_call_args_chunk(m, 1, "{\"q\""))["choices"][0]["delta"];
    CHECK(args == json{{"tool_calls", {{{"index", 1}, {"function", {{"arguments", "{\"q\""}}}}}}});
    CHECK(data(sse_reasoning_chunk(m, "Thinking "))["choices"][0]["delta"] ==
          json{{"reasoning_content", "Thinking "}});
    CHECK(finish_reason_name(LLMH_FINISH_TOOL_CALLS) == "tool_calls");
    CHECK(finish_reason_name(LLMH_FINISH_LENGTH) == "length");
    CHECK(finish_reason_name(LLMH_FINISH_STOP) == "stop");
}
