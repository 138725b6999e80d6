// ABI 2 on the wire: tools, tool_choice, parallel_tool_calls, tool messages, response_format,
// reasoning_effort and penalties in request bodies; tool calls, reasoning and detailed usage
// decoded from responses and chunks; each wrong JSON type refused.
#include <doctest/doctest.h>

#include "wire.hpp"

#include <nlohmann/json.hpp>

using namespace llmhost::openai;
using nlohmann::json;

namespace {

llmh::Message message(std::string role, std::string content) {
    llmh::Message m;
    m.role = std::move(role);
    m.content = std::move(content);
    return m;
}

llmh::Request chat_with_tools() {
    llmh::Request r;
    r.is_chat = true;
    r.messages.push_back(message("user", "weather in Paris?"));
    llmh::Message call = message("assistant", "");
    call.tool_calls.push_back({"call_1", "get_weather", R"({"city":"Paris"})"});
    call.reasoning = "the user wants the weather";
    r.messages.push_back(call);
    llmh::Message result = message("tool", R"({"temp_c":18})");
    result.tool_call_id = "call_1";
    result.name = "get_weather";
    r.messages.push_back(result);
    r.tools.push_back({"get_weather", "Current weather",
                       R"({"type":"object","properties":{"city":{"type":"string"}}})", true});
    r.tools.push_back({"get_time", "", "", false});
    return r;
}

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const llmh::Error &e) {
        return std::string(llmh_status_name(e.code())) + ": " + e.what();
    }
    return "no error";
}

json body_of(const llmh::Request &r, bool chat = true) {
    return json::parse(build_request_body(r, "m", chat, false));
}

} // namespace

TEST_CASE("tools - tool messages - assistant tool calls go out in OpenAI's shapes") {
    json b = body_of(chat_with_tools());
    REQUIRE(b["tools"].size() == 2);
    CHECK(
        b["tools"][0] ==
        json::parse(
            R"({"type":"function","function":{"name":"get_weather","description":"Current weather",
                      "parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}})"));
    CHECK(b["tools"][1] == json::parse(R"({"type":"function","function":{"name":"get_time"}})"));
    const json &assistant = b["messages"][1];
    CHECK(assistant["content"].is_null()); // only tool calls: null, not ""
    CHECK(
        assistant["tool_calls"] ==
        json::parse(
            R"([{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}])"));
    CHECK_FALSE(assistant.contains("reasoning"));
    CHECK_FALSE(assistant.contains("reasoning_content"));
    CHECK(
        b["messages"][2] ==
        json::parse(
            R"({"role":"tool","content":"{\"temp_c\":18}","tool_call_id":"call_1","name":"get_weather"})"));
    CHECK(b["messages"][0] == json::parse(R"({"role":"user","content":"weather in Paris?"})"));
    CHECK_FALSE(b.contains("tool_choice")); // auto is OpenAI's default with tools
    CHECK_FALSE(b.contains("parallel_tool_calls"));

    llmh::Request r = chat_with_tools();
    r.messages[1].content = "Let me check.";
    CHECK(body_of(r)["messages"][1]["content"] == "Let me check.");
    r.messages[0].has_content = false;
    CHECK(body_of(r)["messages"][0]["content"].is_null());
}

TEST_CASE("tool_choice and parallel_tool_calls: every value reaches the body") {
    llmh::Request r = chat_with_tools();
    r.tool_choice = llmh::ToolChoice::none;
    CHECK(body_of(r)["tool_choice"] == "none");
    r.tool_choice = llmh::ToolChoice::required;
    CHECK(body_of(r)["tool_choice"] == "required");
    r.tool_choice = llmh::ToolChoice::function;
    r.tool_choice_name = "get_time";
    CHECK(body_of(r)["tool_choice"] ==
          json::parse(R"({"type":"function","function":{"name":"get_time"}})"));
    r.parallel_tool_calls = false;
    CHECK(body_of(r)["parallel_tool_calls"] == false);
    r.parallel_tool_calls = true;
    CHECK(body_of(r)["parallel_tool_calls"] == true);

    llmh::Request plain; // without tools OpenAI refuses both fields, and both hold trivially
    plain.is_chat = true;
    plain.messages.push_back(message("user", "hi"));
    plain.tool_choice = llmh::ToolChoice::none;
    plain.parallel_tool_calls = false;
    json p = body_of(plain);
    CHECK_FALSE(p.contains("tools"));
    CHECK_FALSE(p.contains("tool_choice"));
    CHECK_FALSE(p.contains("parallel_tool_calls"));
}

TEST_CASE("a tool's parameters or a json_schema that is not a JSON object is refused, naming it") {
    llmh::Request r = chat_with_tools();
    r.tools[1].parameters_json = "[1,2]";
    std::string e = error_of([&] { body_of(r); });
    CHECK(e.find("invalid_argument") == 0);
    CHECK(e.find("get_time") != std::string::npos);
    r.tools[1].parameters_json = "{oops";
    CHECK(error_of([&] { body_of(r); }).find("get_time") != std::string::npos);

    llmh::Request s;
    s.is_chat = true;
    s.messages.push_back(message("user", "hi"));
    s.response_format.type = LLMH_RESPONSE_JSON_SCHEMA;
    s.response_format.schema_json = "\"string\"";
    e = error_of([&] { body_of(s); });
    CHECK(e.find("invalid_argument") == 0);
    CHECK(e.find("json_schema") != std::string::npos);
}

TEST_CASE("response_format: json_object - json_schema with name, schema and strict - text sends "
          "nothing") {
    llmh::Request r;
    r.is_chat = true;
    r.messages.push_back(message("user", "hi"));
    CHECK_FALSE(body_of(r).contains("response_format"));
    r.response_format.type = LLMH_RESPONSE_JSON_OBJECT;
    CHECK(body_of(r)["response_format"] == json{{"type", "json_object"}});
    r.response_format.type = LLMH_RESPONSE_JSON_SCHEMA;
    r.response_format.name = "weather";
    r.response_format.schema_json = R"({"type":"object","required":["temp"]})";
    r.response_format.strict = true;
    CHECK(body_of(r)["response_format"] ==
          json::parse(R"({"type":"json_schema","json_schema":{"name":"weather",
                      "schema":{"type":"object","required":["temp"]},"strict":true}})"));
    r.response_format.name.clear();
    r.response_format.strict = false;
    json rf = body_of(r)["response_format"]["json_schema"];
    CHECK(rf["name"] == "response"); // OpenAI requires a name
    CHECK_FALSE(rf.contains("strict"));
}

TEST_CASE(
    "reasoning: effort as given - ON without one is medium - OFF is none - default sends nothing") {
    llmh::Request r;
    r.is_chat = true;
    r.messages.push_back(message("user", "hi"));
    CHECK_FALSE(body_of(r).contains("reasoning_effort"));
    r.reasoning = LLMH_REASONING_ON;
    r.reasoning_effort = "high";
    CHECK(body_of(r)["reasoning_effort"] == "high");
    r.reasoning_effort.clear();
    CHECK(body_of(r)["reasoning_effort"] == "medium");
    r.reasoning = LLMH_REASONING_OFF;
    CHECK(body_of(r)["reasoning_effort"] == "none");
}

TEST_CASE("presence and frequency penalties are sent on both endpoints when set") {
    llmh::Request r;
    r.is_chat = true;
    r.messages.push_back(message("user", "hi"));
    CHECK_FALSE(body_of(r).contains("presence_penalty"));
    CHECK_FALSE(body_of(r).contains("frequency_penalty"));
    r.presence_penalty = 0.5f;
    r.frequency_penalty = -1.25f;
    CHECK(body_of(r)["presence_penalty"].get<double>() == doctest::Approx(0.5));
    CHECK(body_of(r)["frequency_penalty"].get<double>() == doctest::Approx(-1.25));
    llmh::Request legacy;
    legacy.prompt = "Once";
    legacy.presence_penalty = 1.0f;
    CHECK(body_of(legacy, false)["presence_penalty"].get<double>() == doctest::Approx(1.0));
}

TEST_CASE(
    "the legacy completions endpoint refuses tools, tool_choice, response_format and reasoning") {
    auto refused = [](const std::function<void(llmh::Request &)> &set, const char *field) {
        llmh::Request r;
        r.prompt = "Once";
        set(r);
        std::string e = error_of([&] { build_request_body(r, "m", false, false); });
        CHECK_MESSAGE(e.find("unsupported") == 0, e);
        CHECK_MESSAGE(e.find(field) != std::string::npos, e);
    };
    refused([](llmh::Request &r) { r.tools.push_back({"f", "", "", false}); }, "tools");
    refused([](llmh::Request &r) { r.tool_choice = llmh::ToolChoice::required; }, "tool_choice");
    refused([](llmh::Request &r) { r.response_format.type = LLMH_RESPONSE_JSON_OBJECT; },
            "response_format");
    refused([](llmh::Request &r) { r.reasoning = LLMH_REASONING_OFF; }, "reasoning_effort");
    refused([](llmh::Request &r) { r.reasoning_effort = "low"; }, "reasoning_effort");
}

TEST_CASE(
    "streamed deltas decode tool-call fragments - reasoning - tool_calls finish - detailed usage") {
    auto d = decode_stream_event({"", R"({"choices":[{"index":0,"delta":{"tool_calls":[
        {"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}},
        {"index":1,"function":{"arguments":"{\"x\""}}]},"finish_reason":null}]})"},
                                 true);
    REQUIRE(d.tool_calls.size() == 2);
    CHECK(d.tool_calls[0].index == 0);
    CHECK(d.tool_calls[0].id == "call_a");
    CHECK(d.tool_calls[0].name == "f");
    CHECK(d.tool_calls[1].index == 1);
    CHECK_FALSE(d.tool_calls[1].id);
    CHECK_FALSE(d.tool_calls[1].name);
    CHECK(d.tool_calls[1].arguments == "{\"x\"");
    CHECK(decode_stream_event(
              {"", R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"}, true)
              .finish == LLMH_FINISH_TOOL_CALLS);
    CHECK(decode_stream_event(
              {"", R"({"choices":[{"index":0,"delta":{"reasoning_content":"hm"}}]})"}, true)
              .reasoning == "hm");
    CHECK(decode_stream_event(
              {"", R"({"choices":[{"index":0,"delta":{"reasoning":"hm2","content":null}}]})"}, true)
              .reasoning == "hm2");
    // vLLM in transition sends both fields with the same text: it must come out once
    CHECK(
        decode_stream_event(
            {"", R"({"choices":[{"index":0,"delta":{"reasoning":"x","reasoning_content":"x"}}]})"},
            true)
            .reasoning == "x");
    CHECK(decode_stream_event(
              {"",
               R"({"choices":[{"index":0,"delta":{"tool_calls":null,"reasoning_content":null}}]})"},
              true)
              .tool_calls.empty());
    d = decode_stream_event({"", R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":8,
        "prompt_tokens_details":{"cached_tokens":6},"completion_tokens_details":{"reasoning_tokens":5}}})"},
                            true);
    REQUIRE(d.usage);
    CHECK(d.usage->reasoning_tokens == 5);
    CHECK(d.usage->cached_tokens == 6);
    d = decode_stream_event(
        {"", R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":-3,
        "prompt_tokens_details":null,"prompt_cache_hit_tokens":4,"completion_tokens_details":"x"}})"},
        true);
    CHECK(d.usage->completion_tokens == 0); // hostile counts: 0, neither a throw nor a wrap
    CHECK(d.usage->cached_tokens == 4);     // DeepSeek's name
    CHECK(d.usage->reasoning_tokens == 0);
}

TEST_CASE("non-streamed messages decode tool calls by position and reasoning_content") {
    auto r = decode_response(R"({"choices":[{"index":0,"message":{"role":"assistant","content":null,
        "reasoning_content":"think","tool_calls":[
          {"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}},
          {"id":"call_b","type":"function","function":{"name":"g","arguments":"{\"y\":1}"}}]},
        "finish_reason":"tool_calls"}]})",
                             true);
    CHECK(r.text.empty());
    CHECK(r.reasoning == "think");
    CHECK(r.finish == LLMH_FINISH_TOOL_CALLS);
    REQUIRE(r.tool_calls.size() == 2);
    CHECK(r.tool_calls[1].index == 1);
    CHECK(r.tool_calls[1].name == "g");
    CHECK(r.tool_calls[1].arguments == "{\"y\":1}");
    CHECK(
        decode_response(
            R"({"choices":[{"index":0,"message":{"role":"assistant","content":"x","tool_calls":[]},
        "finish_reason":"stop"}]})",
            true)
            .tool_calls.empty()); // vLLM's default []
}

TEST_CASE("tool calls and reasoning of the wrong JSON type are malformed responses, named") {
    auto stream_error = [](const std::string &delta) {
        return error_of([&] {
            decode_stream_event({"", R"({"choices":[{"index":0,"delta":)" + delta + "}]}"}, true);
        });
    };
    CHECK(stream_error(R"({"tool_calls":{"index":0}})").find("'tool_calls' is not an array") !=
          std::string::npos);
    CHECK(stream_error(R"({"tool_calls":[3]})").find("not an object") != std::string::npos);
    CHECK(stream_error(R"({"tool_calls":[{"index":"0"}]})").find("'index' is not an integer") !=
          std::string::npos);
    CHECK(stream_error(R"({"tool_calls":[{"index":1.5}]})").find("'index' is not an integer") !=
          std::string::npos);
    CHECK(stream_error(R"({"tool_calls":[{"index":0,"function":{"arguments":{"city":"Paris"}}}]})")
              .find("'arguments' is not a string") != std::string::npos);
    CHECK(stream_error(R"({"tool_calls":[{"index":0,"function":{"name":7}}]})")
              .find("'name' is not a string") != std::string::npos);
    CHECK(stream_error(R"({"tool_calls":[{"index":0,"id":[]}]})").find("'id' is not a string") !=
          std::string::npos);
    CHECK(stream_error(R"({"tool_calls":[{"index":0,"function":"f"}]})")
              .find("'function' is not an object") != std::string::npos);
    CHECK(stream_error(R"({"tool_calls":[{"index":0,"type":"code_interpreter"}]})")
              .find("code_interpreter") != std::string::npos);
    CHECK(stream_error(R"({"reasoning_content":{"text":"x"}})")
              .find("'reasoning_content' is not a string") != std::string::npos);
    for (const char *d : {R"({"tool_calls":{"index":0}})", R"({"tool_calls":[{"index":"0"}]})"})
        CHECK(stream_error(d).find("network: the endpoint sent a malformed response") == 0);
    // clang-format off
    const std::string not_array = "{\"choices\":[{\"index\":0,\"message\":{\"tool_calls\":\"f()\"}}]}";
    // clang-format on
    const std::string e = error_of([&] { decode_response(not_array, true); });
    CHECK(e.find("'tool_calls' is not an array") != std::string::npos);
}
