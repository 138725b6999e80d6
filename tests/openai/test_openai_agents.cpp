// Tool calling, reasoning and structured output through the plugin's C ABI: the recorded
// OpenAI-compatible answers in tests/fixtures/openai_sse replayed by the fake server (split at
// odd places), the request body the plugin sends, and hostile upstreams.
#include <doctest/doctest.h>

#include "fake_openai_server.hpp"
#include "plugin_harness.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using llmhost::test::FakeOpenAiServer;
using llmhost::test::FakeReply;
using llmhost::test::FakeRequest;
using llmhost::test::OpenAiPlugin;
using llmhost::test::Outcome;
using nlohmann::json;

namespace {

const std::string kKey = "sk-test-AGENT-7777";

std::string fixture(const std::string &name) {
    std::ifstream f(std::string(LLMHOST_OPENAI_SSE_FIXTURES) + "/" + name, std::ios::binary);
    REQUIRE_MESSAGE(f.good(), "missing fixture " << name);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The stream cut into pieces of 1, 13, 64, 7, 200 and 3 bytes, over and over: events, lines and
// UTF-8 characters end up split across reads.
std::vector<std::string> split(const std::string &all) {
    static const size_t sizes[] = {1, 13, 64, 7, 200, 3};
    std::vector<std::string> pieces;
    for (size_t i = 0, k = 0; i < all.size(); i += sizes[k++ % 6])
        pieces.push_back(all.substr(i, sizes[k % 6]));
    return pieces;
}

FakeReply replay(const std::string &name) {
    if (name.size() > 5 && name.substr(name.size() - 5) == ".json")
        return FakeReply::json(200, fixture(name));
    return FakeReply::stream(split(fixture(name)));
}

std::string config(const FakeOpenAiServer &s, int max_retries = 0) {
    return json{{"base_url", s.base_url()},
                {"model", "gpt-4o-mini"},
                {"max_retries", max_retries},
                {"timeout_s", 20}}
        .dump();
}

// A chat request with two tools; after `with_history()` it also carries the assistant's tool call
// and the tool's result, the turn that fixture (c) answers. Not copyable: it points into itself.
struct AgentRequest {
    llmh_params params = llmh_default_params();
    llmh_tool weather{
        sizeof(llmh_tool),
        "function",
        "get_weather",
        "Current weather in a city",
        R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})",
        1};
    llmh_tool time{sizeof(llmh_tool), "function", "get_time", nullptr, nullptr, 0};
    const llmh_tool *tools[2] = {&weather, &time};
    llmh_message user{sizeof(llmh_message),
                      "user",
                      "What's the weather in Paris?",
                      nullptr,
                      nullptr,
                      nullptr,
                      0,
                      nullptr};
    llmh_tool_call call{sizeof(llmh_tool_call), "call_q7Xb2LmN9sTfRk4VwZc1Hy8D", "get_weather",
                        R"({"city":"Paris"})"};
    const llmh_tool_call *calls[1] = {&call};
    llmh_message assistant{
        sizeof(llmh_message),        "assistant", nullptr, nullptr, nullptr, calls, 1,
        "I should call get_weather."};
    llmh_message result{sizeof(llmh_message),
                        "tool",
                        R"({"temp_c":18,"sky":"sunny"})",
                        "get_weather",
                        "call_q7Xb2LmN9sTfRk4VwZc1Hy8D",
                        nullptr,
                        0,
                        nullptr};
    const llmh_message *messages[3] = {&user, &assistant, &result};
    llmh_request req{};

    explicit AgentRequest(bool stream) {
        params.stream = stream;
        req.struct_size = sizeof req;
        req.messages = messages;
        req.n_messages = 1;
        req.params = &params;
        req.tools = tools;
        req.n_tools = 2;
        req.parallel_tool_calls = -1;
    }
    AgentRequest(const AgentRequest &) = delete;
    AgentRequest &with_history() {
        req.n_messages = 3;
        return *this;
    }
};

Outcome run_fixture(const std::string &name, bool stream, FakeRequest *seen = nullptr) {
    FakeOpenAiServer server([&](const FakeRequest &, int) { return replay(name); });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    AgentRequest a(stream);
    Outcome o = p.run(a.req);
    if (seen) *seen = server.requests().at(0);
    for (const auto &e : o.events) CHECK_MESSAGE(e.rfind("protocol:", 0) != 0, e);
    for (size_t i = 1; i < o.n_tokens.size(); ++i) CHECK(o.n_tokens[i] > o.n_tokens[i - 1]);
    return o;
}

using Events = std::vector<std::string>;

} // namespace

TEST_CASE("fixture (a): one streamed tool call - arguments in pieces - tool_calls finish - usage") {
    FakeRequest seen;
    Outcome o = run_fixture("a_tool_call.sse", true, &seen);
    REQUIRE(o.status == LLMH_OK);
    CHECK(o.events == Events{"start:0:call_q7Xb2LmN9sTfRk4VwZc1Hy8D:get_weather", "args:0:{\"",
                             "args:0:city", "args:0:\":\"", "args:0:Paris", "args:0:\"}"});
    REQUIRE(o.tool_calls.size() == 1);
    CHECK(o.tool_calls[0].arguments == R"({"city":"Paris"})");
    CHECK(json::parse(o.tool_calls[0].arguments) == json{{"city", "Paris"}});
    CHECK(o.text().empty());
    CHECK(o.result.finish_reason == LLMH_FINISH_TOOL_CALLS);
    CHECK(o.result.prompt_tokens == 81);
    CHECK(o.result.completion_tokens == 15);
    CHECK(o.result.reasoning_tokens == 0);
    json body = json::parse(seen.body);
    CHECK(body["tools"][0]["function"]["name"] == "get_weather");
    CHECK(body["tools"][0]["function"]["strict"] == true);
    CHECK(body["tools"][0]["function"]["parameters"]["required"] == json::array({"city"}));
    CHECK(body["tools"][1] == json::parse(R"({"type":"function","function":{"name":"get_time"}})"));
    CHECK(body["stream"] == true);
}

TEST_CASE("fixture (a) not streamed: the same call from message.tool_calls") {
    Outcome o = run_fixture("a_tool_call.json", false);
    REQUIRE(o.status == LLMH_OK);
    CHECK(o.events == Events{"start:0:call_q7Xb2LmN9sTfRk4VwZc1Hy8D:get_weather",
                             "args:0:{\"city\":\"Paris\"}"});
    CHECK(o.result.finish_reason == LLMH_FINISH_TOOL_CALLS);
    CHECK(o.result.prompt_tokens == 81);
}

TEST_CASE("fixture (b): two parallel calls interleaved by index - each assembled - cached tokens") {
    Outcome o = run_fixture("b_parallel_tool_calls.sse", true);
    REQUIRE(o.status == LLMH_OK);
    CHECK(o.events == Events{"start:0:call_Wm4Ks8PzQ1vYtR6dN3hJx0Ea:get_weather",
                             "start:1:call_Bn7Tq2XcL5fGv9Zk1Rp8Ys4M:get_time",
                             "args:0:{\"city\":", "args:1:{\"timezone\":", "args:0: \"Paris\"}",
                             "args:1: \"Europe/Paris\"}"});
    REQUIRE(o.tool_calls.size() == 2);
    CHECK(json::parse(o.tool_calls[0].arguments) == json{{"city", "Paris"}});
    CHECK(json::parse(o.tool_calls[1].arguments) == json{{"timezone", "Europe/Paris"}});
    CHECK(o.result.finish_reason == LLMH_FINISH_TOOL_CALLS);
    CHECK(o.result.prompt_tokens == 112);
    CHECK(o.result.completion_tokens == 48);
    CHECK(o.result.cached_tokens == 64);
}

TEST_CASE("fixture (c): the answer after a tool result - and the history reaches the body as "
          "OpenAI wants it") {
    for (bool stream : {true, false}) {
        CAPTURE(stream);
        FakeOpenAiServer server([&](const FakeRequest &, int) {
            return replay(stream ? "c_answer_after_tool.sse" : "c_answer_after_tool.json");
        });
        OpenAiPlugin p({{"api_key", kKey}});
        REQUIRE(p.create(config(server)) == LLMH_OK);
        AgentRequest a(stream);
        a.with_history();
        a.req.tool_choice = LLMH_TOOL_CHOICE_NONE;
        a.req.parallel_tool_calls = 0;
        Outcome o = p.run(a.req);
        REQUIRE(o.status == LLMH_OK);
        CHECK(o.text() == "It's currently 18\xC2\xB0"
                          "C and sunny in Paris.");
        CHECK(o.pieces.size() == (stream ? 10u : 1u));
        CHECK(o.tool_calls.empty());
        CHECK(o.result.finish_reason == LLMH_FINISH_STOP);
        CHECK(o.result.prompt_tokens == 118);
        CHECK(o.result.completion_tokens == 10);
        json body = json::parse(server.requests().at(0).body);
        REQUIRE(body["messages"].size() == 3);
        CHECK(body["messages"][1] ==
              json::parse(R"({"role":"assistant","content":null,"tool_calls":[{"id":
            "call_q7Xb2LmN9sTfRk4VwZc1Hy8D","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]})"));
        CHECK(body["messages"][2] ==
              json::parse(R"({"role":"tool","content":"{\"temp_c\":18,\"sky\":\"sunny\"}",
            "name":"get_weather","tool_call_id":"call_q7Xb2LmN9sTfRk4VwZc1Hy8D"})"));
        CHECK(body["tool_choice"] == "none");
        CHECK(body["parallel_tool_calls"] == false);
        for (const auto &line : p.logs()) CHECK(line.find(kKey) == std::string::npos);
    }
}

TEST_CASE("fixture (d): DeepSeek reasoning_content comes out as reasoning - before the text - with "
          "its tokens") {
    for (const char *name :
         {"d_deepseek_reasoning_content.sse", "d_deepseek_reasoning_content.json"}) {
        CAPTURE(name);
        Outcome o = run_fixture(name, std::string(name).find(".sse") != std::string::npos);
        REQUIRE(o.status == LLMH_OK);
        CHECK(o.reasoning == "The user asks 9.11 vs 9.8. 9.8 = 9.80, and 80 > 11.");
        CHECK(o.text() == "9.8 is larger.");
        REQUIRE_FALSE(o.events.empty());
        CHECK(o.events.front().rfind("reasoning:", 0) == 0);
        CHECK(o.events.back().rfind("piece:", 0) == 0);
        size_t first_piece = 0;
        while (o.events[first_piece].rfind("reasoning:", 0) == 0) ++first_piece;
        for (size_t i = first_piece; i < o.events.size(); ++i)
            CHECK(o.events[i].rfind("piece:", 0) == 0);
        CHECK(o.result.finish_reason == LLMH_FINISH_STOP);
        CHECK(o.result.completion_tokens == 24);
        CHECK(o.result.reasoning_tokens == 19);
    }
}

TEST_CASE("fixture (e): vLLM's newer 'reasoning' deltas come out as reasoning") {
    Outcome o = run_fixture("e_vllm_reasoning.sse", true);
    REQUIRE(o.status == LLMH_OK);
    CHECK(o.reasoning == "Okay, the user wants a greeting. Keep it short.");
    CHECK(o.text() == "\n\nHello! How can I help?");
    CHECK(o.events.size() == 12 + 8);
    CHECK(o.result.prompt_tokens == 12);
    CHECK(o.result.completion_tokens == 23);
}

TEST_CASE("every agent field reaches the body: tool_choice function - parallel - json_schema - "
          "reasoning effort - penalties") {
    FakeOpenAiServer server(
        [](const FakeRequest &, int) { return replay("c_answer_after_tool.json"); });
    OpenAiPlugin p;
    const uint32_t caps = p.desc().capabilities;
    CHECK((caps & LLMH_CAP_TOOLS) != 0);
    CHECK((caps & LLMH_CAP_STRUCTURED_OUTPUT) != 0);
    CHECK((caps & LLMH_CAP_REASONING) != 0);
    REQUIRE(p.create(config(server)) == LLMH_OK);
    AgentRequest a(false);
    a.req.tool_choice = LLMH_TOOL_CHOICE_FUNCTION;
    a.req.tool_choice_name = "get_time";
    a.req.parallel_tool_calls = 1;
    llmh_response_format rf{sizeof(llmh_response_format), LLMH_RESPONSE_JSON_SCHEMA, "answer",
                            R"({"type":"object","properties":{"temp":{"type":"number"}}})", 1};
    a.req.response_format = &rf;
    a.req.reasoning = LLMH_REASONING_ON;
    a.req.reasoning_effort = "low";
    a.params.presence_penalty = 0.25f;
    a.params.frequency_penalty = 0.5f;
    REQUIRE(p.run(a.req).status == LLMH_OK);
    json body = json::parse(server.requests().at(0).body);
    CHECK(body["tool_choice"] ==
          json::parse(R"({"type":"function","function":{"name":"get_time"}})"));
    CHECK(body["parallel_tool_calls"] == true);
    CHECK(body["response_format"] ==
          json::parse(R"({"type":"json_schema","json_schema":{"name":"answer",
        "schema":{"type":"object","properties":{"temp":{"type":"number"}}},"strict":true}})"));
    CHECK(body["reasoning_effort"] == "low");
    CHECK(body["presence_penalty"].get<double>() == doctest::Approx(0.25));
    CHECK(body["frequency_penalty"].get<double>() == doctest::Approx(0.5));

    a.req.reasoning = LLMH_REASONING_OFF;
    a.req.reasoning_effort = nullptr;
    a.req.response_format = nullptr;
    REQUIRE(p.run(a.req).status == LLMH_OK);
    body = json::parse(server.requests().at(1).body);
    CHECK(body["reasoning_effort"] == "none");
    CHECK_FALSE(body.contains("response_format"));
}

TEST_CASE("a raw prompt with tools is refused before anything is sent, naming the field") {
    FakeOpenAiServer server(
        [](const FakeRequest &, int) { return replay("c_answer_after_tool.json"); });
    OpenAiPlugin p;
    REQUIRE(p.create(config(server)) == LLMH_OK);
    AgentRequest a(false);
    a.req.messages = nullptr;
    a.req.n_messages = 0;
    a.req.prompt = "Once upon";
    Outcome o = p.run(a.req);
    CHECK(o.status == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(o.error.message).find("tools") != std::string::npos);
    CHECK(server.request_count() == 0);
}

TEST_CASE("servers that say stop after their calls still end in tool_calls") {
    FakeOpenAiServer server([](const FakeRequest &, int) {
        return FakeReply::stream(
            {R"(data: {"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"call_ol","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]})"
             "\n\n",
             R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
             "\n\ndata: [DONE]\n\n"});
    });
    OpenAiPlugin p;
    REQUIRE(p.create(config(server)) == LLMH_OK);
    AgentRequest a(true);
    Outcome o = p.run(a.req);
    REQUIRE(o.status == LLMH_OK);
    CHECK(o.events == Events{"start:0:call_ol:get_time", "args:0:{}"});
    CHECK(o.result.finish_reason == LLMH_FINISH_TOOL_CALLS);
}

TEST_CASE("Ollama's parallel calls all at index 0 come out as two calls, not one merged") {
    auto chunk = [](const std::string &id, const std::string &path) {
        json call = {
            {"id", id},
            {"index", 0},
            {"type", "function"},
            {"function", {{"name", "get_weather"}, {"arguments", json{{"city", path}}.dump()}}}};
        json j = {{"id", "chatcmpl-512"},
                  {"object", "chat.completion.chunk"},
                  {"model", "qwen2.5:7b"},
                  {"system_fingerprint", "fp_ollama"},
                  {"choices",
                   {{{"index", 0},
                     {"delta", {{"role", "assistant"}, {"content", ""}, {"tool_calls", {call}}}},
                     {"finish_reason", nullptr}}}}};
        return "data: " + j.dump() + "\n\n";
    };
    FakeOpenAiServer server([&](const FakeRequest &, int) {
        return FakeReply::stream(
            {chunk("call_8z2k", "Paris"), chunk("call_q1xw", "Rome"),
             R"(data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"tool_calls"}]})"
             "\n\ndata: [DONE]\n\n"});
    });
    OpenAiPlugin p;
    REQUIRE(p.create(config(server)) == LLMH_OK);
    AgentRequest a(true);
    Outcome o = p.run(a.req);
    REQUIRE(o.status == LLMH_OK);
    REQUIRE(o.tool_calls.size() == 2);
    CHECK(o.tool_calls[0].id == "call_8z2k");
    CHECK(json::parse(o.tool_calls[0].arguments) == json{{"city", "Paris"}});
    CHECK(o.tool_calls[1].id == "call_q1xw");
    CHECK(json::parse(o.tool_calls[1].arguments) == json{{"city", "Rome"}});
    CHECK(o.result.finish_reason == LLMH_FINISH_TOOL_CALLS);
}

TEST_CASE("hostile upstreams: each a clear error - never a crash - a silent drop or a broken event "
          "order") {
    auto chunk = [](const std::string &delta, const char *finish = nullptr) {
        json j = {{"id", "chatcmpl-x"},
                  {"object", "chat.completion.chunk"},
                  {"choices",
                   {{{"index", 0},
                     {"delta", json::parse(delta)},
                     {"finish_reason", finish ? json(finish) : json()}}}}};
        return "data: " + j.dump() + "\n\n";
    };
    const std::string start = chunk(
        R"({"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]})");
    const std::string end = chunk("{}", "tool_calls") + "data: [DONE]\n\n";
    struct Case {
        const char *what;
        std::vector<std::string> pieces;
        const char *expect;
    };
    std::vector<Case> cases = {
        {"tool_calls not an array",
         {chunk(R"({"tool_calls":{"index":0,"id":"c","function":{"name":"f"}}})"), end},
         "'tool_calls' is not an array"},
        {"negative index",
         {chunk(R"({"tool_calls":[{"index":-1,"id":"c","function":{"name":"f"}}]})"), end},
         "index -1 is negative"},
        {"huge index",
         {chunk(R"({"tool_calls":[{"index":99999999999,"id":"c","function":{"name":"f"}}]})"), end},
         "beyond the 128 tool calls"},
        {"name missing forever",
         {chunk(
              R"({"tool_calls":[{"index":0,"id":"call_1","function":{"arguments":"{\"a\":1}"}}]})"),
          end},
         "tool call 0 never got a function name"},
        {"arguments not a string",
         {start, chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":{"city":"Paris"}}}]})"),
          end},
         "'arguments' is not a string"},
        {"garbage JSON in a data line",
         {start, "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\n\n", end},
         "stream event is not JSON"},
        {"tool_calls finish without a call",
         {chunk(R"({"content":""})"), end},
         "finished with tool_calls but sent no tool call"},
        {"a call renamed mid-stream",
         {start, chunk(R"({"tool_calls":[{"index":0,"function":{"name":"rm_rf"}}]})"), end},
         "changed its name"},
    };
    std::vector<std::string> ten_mb = {start};
    const std::string mib = chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":")" +
                                  std::string(1u << 20, 'x') + "\"}}]}");
    for (int i = 0; i < 10; ++i) ten_mb.push_back(mib);
    ten_mb.push_back(end);
    cases.push_back({"10 MB of arguments", ten_mb, "arguments exceed 4 MiB"});

    for (const auto &c : cases) {
        CAPTURE(c.what);
        FakeOpenAiServer server(
            [&](const FakeRequest &, int) { return FakeReply::stream(c.pieces); });
        OpenAiPlugin p({{"api_key", kKey}});
        REQUIRE(p.create(config(server, 2)) == LLMH_OK);
        AgentRequest a(true);
        Outcome o = p.run(a.req);
        CHECK(o.status == LLMH_ERR_NETWORK);
        CHECK_MESSAGE(std::string(o.error.message).find(c.expect) != std::string::npos,
                      o.error.message);
        CHECK(std::string(o.error.hint).size() > 0);
        CHECK(std::string(o.error.message).find(kKey) == std::string::npos);
        for (const auto &e : o.events) CHECK_MESSAGE(e.rfind("protocol:", 0) != 0, e);
        CHECK(server.request_count() == 1); // an answer already under way is not retried
    }
}
