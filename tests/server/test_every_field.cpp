// Every supported field of an OpenAI chat request reaches the provider with the right value:
// llmhost serve -> host -> the recording plugin (tests/fixtures/recording_plugin.c), which answers
// with a JSON document of every field of the llmh_request it received. Each field is sent alone
// (so a dropped field cannot hide behind another that sets the same thing) and all together.
// A new field is added in ONE place: the kFields table.
#include <doctest/doctest.h>

#include "server_fixture.hpp"

using namespace llmhost::test;
using nlohmann::json;

namespace {

struct Check {
    std::string pointer; // into {"request": <recorded llmh_request>, "response": {"usage": ...}}
    json expected;
};
struct Field {
    std::string name; // the OpenAI body key
    json value;       // a non-default value
    std::vector<Check> checks;
    json also = json::object(); // other keys the field needs (top_logprobs needs logprobs)
    bool combine = true;        // false: contradicts another row (checked alone only)
};

json weather_schema() {
    return {{"type", "object"},
            {"properties", {{"city", {{"type", "string"}}}}},
            {"required", {"city"}}};
}
json weather_tool() {
    return {{"type", "function"},
            {"function",
             {{"name", "get_weather"},
              {"description", "Weather now"},
              {"parameters", weather_schema()},
              {"strict", true}}}};
}
json history() {
    json call = {{"id", "call_a"},
                 {"type", "function"},
                 {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}};
    return {
        {{"role", "system"}, {"content", "sys"}, {"name", "rules"}},
        {{"role", "developer"}, {"content", "dev"}},
        {{"role", "user"},
         {"content",
          {{{"type", "text"}, {"text", "part one "}}, {{"type", "text"}, {"text", "part two"}}}},
         {"name", "alice"}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls", {call}},
         {"reasoning_content", "I should check"}},
        {{"role", "tool"},
         {"tool_call_id", "call_a"},
         {"name", "get_weather"},
         {"content", "sunny"}},
        {{"role", "assistant"}, {"content", "It is sunny."}},
        {{"role", "user"}, {"content", "thanks"}}};
}

const std::vector<Field> &fields() {
    static const std::vector<Field> kFields = {
        {"model", "recording/my-model", {{"/request/model", "my-model"}}},
        {"messages",
         history(),
         {{"/request/messages/0/role", "system"},
          {"/request/messages/0/content", "sys"},
          {"/request/messages/0/name", "rules"},
          {"/request/messages/1/role", "system"}, // developer: the newer name of system
          {"/request/messages/1/content", "dev"},
          {"/request/messages/2/content", "part one part two"},
          {"/request/messages/2/name", "alice"},
          {"/request/messages/3/role", "assistant"},
          {"/request/messages/3/content", nullptr},
          {"/request/messages/3/tool_calls/0/id", "call_a"},
          {"/request/messages/3/tool_calls/0/name", "get_weather"},
          {"/request/messages/3/tool_calls/0/arguments", "{\"city\":\"Paris\"}"},
          {"/request/messages/3/reasoning", "I should check"},
          {"/request/messages/4/role", "tool"},
          {"/request/messages/4/tool_call_id", "call_a"},
          {"/request/messages/4/name", "get_weather"},
          {"/request/messages/4/content", "sunny"},
          {"/request/messages/5/content", "It is sunny."},
          {"/request/messages/6/content", "thanks"}}},
        {"max_completion_tokens", 77, {{"/request/params/max_tokens", 77}}},
        {"max_tokens", 55, {{"/request/params/max_tokens", 55}}, json::object(), false},
        {"temperature", 0.25, {{"/request/params/temperature", 0.25}}},
        {"top_p", 0.5, {{"/request/params/top_p", 0.5}}},
        {"top_k", 7, {{"/request/params/top_k", 7}}},
        {"min_p", 0.125, {{"/request/params/min_p", 0.125}}},
        {"repetition_penalty", 1.5, {{"/request/params/repetition_penalty", 1.5}}},
        {"presence_penalty", 0.75, {{"/request/params/presence_penalty", 0.75}}},
        {"frequency_penalty", -0.5, {{"/request/params/frequency_penalty", -0.5}}},
        {"seed", 4242, {{"/request/params/has_seed", 1}, {"/request/params/seed", 4242}}},
        {"stop", {"END", "HALT"}, {{"/request/params/stop", {"END", "HALT"}}}},
        {"stream", true, {{"/request/params/stream", 1}}},
        {"stream_options",
         {{"include_usage", true}},
         {{"/response/usage/prompt_tokens", 1}, {"/response/usage/completion_tokens", 1}},
         {{"stream", true}}},
        {"logprobs", true, {{"/request/logprobs", 1}}},
        {"top_logprobs", 3, {{"/request/top_logprobs", 3}}, {{"logprobs", true}}},
        {"response_format",
         {{"type", "json_schema"},
          {"json_schema", {{"name", "answer"}, {"schema", weather_schema()}, {"strict", true}}}},
         {{"/request/response_format/type", LLMH_RESPONSE_JSON_SCHEMA},
          {"/request/response_format/name", "answer"},
          {"/request/response_format/schema_json", weather_schema().dump()},
          {"/request/response_format/strict", 1}}},
        {"tools",
         {weather_tool()},
         {{"/request/tools/0/type", "function"},
          {"/request/tools/0/name", "get_weather"},
          {"/request/tools/0/description", "Weather now"},
          {"/request/tools/0/parameters_json", weather_schema().dump()},
          {"/request/tools/0/strict", 1}}},
        {"tool_choice",
         {{"type", "function"}, {"function", {{"name", "get_weather"}}}},
         {{"/request/tool_choice", LLMH_TOOL_CHOICE_FUNCTION},
          {"/request/tool_choice_name", "get_weather"}},
         {{"tools", {weather_tool()}}}},
        {"parallel_tool_calls", false, {{"/request/parallel_tool_calls", 0}}},
        {"reasoning_effort",
         "high",
         {{"/request/reasoning", LLMH_REASONING_ON}, {"/request/reasoning_effort", "high"}}},
        {"chat_template_kwargs",
         {{"enable_thinking", false}},
         {{"/request/reasoning", LLMH_REASONING_OFF}},
         json::object(),
         false},
        // llmhost's extensions (ABI 2.1): each excludes response_format, a forced tool_choice
        // and the other one, so they are checked alone.
        {"grammar",
         "root ::= \"yes\" | \"no\"",
         {{"/request/grammar", "root ::= \"yes\" | \"no\""}},
         json::object(),
         false},
        {"regex",
         "[0-9]{3}-[a-z]+",
         {{"/request/regex", "[0-9]{3}-[a-z]+"}},
         json::object(),
         false},
    };
    return kFields;
}

// Sends `body`, returns what the recording plugin saw and the usage the client got.
json round_trip(unsigned short port, const json &body) {
    auto r = http(port, "POST", "/v1/chat/completions", body.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    std::string content;
    json usage = nullptr;
    if (body.value("stream", false)) {
        for (const auto &d : sse_data(r.body)) {
            if (d == "[DONE]") continue;
            json c = json::parse(d);
            if (c.contains("usage") && c["usage"].is_object()) usage = c["usage"];
            if (!c["choices"].empty() && c["choices"][0]["delta"].contains("content"))
                content += c["choices"][0]["delta"]["content"].get<std::string>();
        }
    } else {
        content = r.json()["choices"][0]["message"]["content"].get<std::string>();
    }
    json recorded = json::parse(content, nullptr, false);
    REQUIRE_MESSAGE(!recorded.is_discarded(), content);
    return {{"request", recorded}, {"response", {{"usage", usage}}}};
}

json base_body() {
    return {{"model", "recording"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
}

void check(const json &seen, const Check &c) {
    CAPTURE(c.pointer);
    json::json_pointer ptr(c.pointer);
    REQUIRE_MESSAGE(seen.contains(ptr), seen.dump());
    const json &got = seen.at(ptr);
    if (c.expected.is_number_float())
        CHECK(got.get<double>() == doctest::Approx(c.expected.get<double>()));
    else
        CHECK(got == c.expected);
}

json config() {
    return {{"providers", {{"recording", {{"plugin", "recording"}, {"config", json::object()}}}}}};
}

} // namespace

TEST_CASE(
    "every field of a chat request reaches the provider - each alone, with a non-default value") {
    ServerFixture f(config());
    const json defaults = round_trip(f.port, base_body());
    for (const auto &field : fields()) {
        CAPTURE(field.name);
        json body = base_body();
        for (auto &[k, v] : field.also.items()) body[k] = v;
        body[field.name] = field.value;
        const json seen = round_trip(f.port, body);
        for (const auto &c : field.checks) {
            check(seen, c);
            // The value must differ from what a request without the field gets, or the test
            // could not notice the field being dropped.
            json::json_pointer ptr(c.pointer);
            const std::string why = c.pointer + " has the same value without '" + field.name + "'";
            CHECK_MESSAGE(!(defaults.contains(ptr) && defaults.at(ptr) == c.expected), why);
        }
    }
}

TEST_CASE("every field of a chat request reaches the provider - all in one request") {
    ServerFixture f(config());
    json body = base_body();
    for (const auto &field : fields())
        if (field.combine) {
            for (auto &[k, v] : field.also.items()) body[k] = v;
            body[field.name] = field.value;
        }
    const json seen = round_trip(f.port, body);
    for (const auto &field : fields())
        if (field.combine) {
            CAPTURE(field.name);
            for (const auto &c : field.checks) check(seen, c);
        }
}

TEST_CASE("grammar and regex reach the provider from the legacy completions endpoint too") {
    ServerFixture f(config());
    for (const char *name : {"grammar", "regex"}) {
        CAPTURE(name);
        const std::string value = name == std::string("grammar") ? "root ::= [a-z]+" : "a|b";
        auto r = http(f.port, "POST", "/v1/completions",
                      json{{"model", "recording"}, {"prompt", "x"}, {name, value}}.dump());
        REQUIRE_MESSAGE(r.status == 200, r.body);
        json seen = json::parse(r.json()["choices"][0]["text"].get<std::string>());
        CHECK(seen[name] == value);
        CHECK(seen[name == std::string("grammar") ? "regex" : "grammar"] == nullptr);
    }
}

TEST_CASE("schemas reach the provider with their member order (what guided decoding writes in)") {
    ServerFixture f(config());
    // Raw text: nlohmann::json would sort these members; zeta must stay before alpha.
    const std::string schema =
        R"({"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"type":"string"}},"required":["zeta","alpha"]})";
    const std::string body =
        R"({"model":"recording","messages":[{"role":"user","content":"hi"}],)"
        R"("response_format":{"type":"json_schema","json_schema":{"name":"z","schema":)" +
        schema + R"(}},"tools":[{"type":"function","function":{"name":"f","parameters":)" + schema +
        "}}]}";
    auto r = http(f.port, "POST", "/v1/chat/completions", body);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    const json seen = json::parse(r.json()["choices"][0]["message"]["content"].get<std::string>());
    CHECK(seen["response_format"]["schema_json"] == schema);
    CHECK(seen["tools"][0]["parameters_json"] == schema);
}
