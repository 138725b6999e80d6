// logprobs and response_format end to end: HTTP client -> llmhost serve -> the openai plugin
// (LLMH_CAP_LOGPROBS | LLMH_CAP_RESPONSE_FORMAT) -> a fake OpenAI endpoint. The fake checks what
// arrives upstream; its logprobs must come back in OpenAI's shapes, chunk by chunk when streamed,
// including tokens that hold half a UTF-8 character.
#include <doctest/doctest.h>

#include "fake_openai_server.hpp"
#include "server_fixture.hpp"

using namespace llmhost::test;
using nlohmann::json;

namespace {

// Upstream tokens: "Hi", then " é" split as " \xC3" + "\xA9" (half a character each).
json up_entry(const std::string &token, std::vector<int> bytes, double lp) {
    json alt = {{"token", "alt"}, {"logprob", -3.5}, {"bytes", {97, 108, 116}}};
    return {{"token", token}, {"logprob", lp}, {"bytes", bytes}, {"top_logprobs", {alt, alt}}};
}
const json kHi = up_entry("Hi", {72, 105}, -0.25);
const json kHalf1 = up_entry(" \\xc3", {32, 195}, -1.5);
const json kHalf2 = up_entry("\\xa9", {169}, -0.125);

std::string chat_chunk(const std::string &content, json entries, const char *finish = nullptr) {
    json choice = {{"index", 0},
                   {"delta", content.empty() ? json::object() : json{{"content", content}}},
                   {"logprobs", entries.is_null()
                                    ? json(nullptr)
                                    : json{{"content", entries}, {"refusal", nullptr}}},
                   {"finish_reason", finish ? json(finish) : json(nullptr)}};
    return "data: " +
           json{{"id", "c"},
                {"object", "chat.completion.chunk"},
                {"created", 1},
                {"model", "m"},
                {"choices", {choice}}}
               .dump() +
           "\n\n";
}

FakeReply answer(const FakeRequest &req) {
    json body = json::parse(req.body);
    if (req.target == "/v1/completions") {
        json lp = {
            {"tokens", {"Hi", " there"}},
            {"token_logprobs", {-0.5, -1.0}},
            {"top_logprobs", {{{"Hi", -0.5}, {"Yo", -2.0}}, {{" there", -1.0}, {"!", -3.0}}}},
            {"text_offset", {0, 2}}};
        return FakeReply::json(
            200,
            json{{"id", "cmpl-1"},
                 {"object", "text_completion"},
                 {"created", 1},
                 {"model", "m"},
                 {"choices",
                  {{{"index", 0},
                    {"text", "Hi there"},
                    {"logprobs", lp},
                    {"finish_reason", "stop"}}}},
                 {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 2}, {"total_tokens", 3}}}}
                .dump());
    }
    if (body.value("stream", false))
        return FakeReply::stream({chat_chunk("", json::array()), chat_chunk("Hi", {kHi}),
                                  chat_chunk(" é", {kHalf1, kHalf2}),
                                  chat_chunk("", nullptr, "stop"), "data: [DONE]\n\n"});
    const bool json_mode = body.contains("response_format");
    json choice = {{"index", 0},
                   {"message", {{"role", "assistant"}, {"content", json_mode ? "{}" : "Hi é"}}},
                   {"logprobs", body.value("logprobs", false)
                                    ? json{{"content", {kHi, kHalf1, kHalf2}}}
                                    : json(nullptr)},
                   {"finish_reason", "stop"}};
    return FakeReply::json(
        200, json{{"id", "x"},
                  {"object", "chat.completion"},
                  {"created", 1},
                  {"model", "m"},
                  {"choices", {choice}},
                  {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 3}, {"total_tokens", 4}}}}
                 .dump());
}

json up_config(const FakeOpenAiServer &fake) {
    return {
        {"providers",
         {{"up",
           {{"plugin", "openai"},
            {"config", {{"base_url", fake.base_url()}, {"model", "m"}, {"max_retries", 0}}}}}}}};
}

void check_entries(const json &content,
                   const std::vector<std::pair<std::string, std::vector<int>>> &want) {
    REQUIRE(content.is_array());
    REQUIRE(content.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        CHECK(content[i]["token"] == want[i].first);
        CHECK(content[i]["bytes"] == json(want[i].second));
        CHECK(content[i]["logprob"].is_number());
        REQUIRE(content[i]["top_logprobs"].size() == 2);
        CHECK(content[i]["top_logprobs"][0] ==
              json{{"token", "alt"}, {"logprob", -3.5}, {"bytes", {97, 108, 116}}});
    }
}

const std::string kReplacement = "\xEF\xBF\xBD"; // U+FFFD: the lossy text of half a character

} // namespace

TEST_CASE("chat logprobs through serve and the openai plugin: JSON") {
    FakeOpenAiServer fake([](const FakeRequest &r, int) { return answer(r); });
    ServerFixture f(up_config(fake));
    json req = {{"model", "up"},
                {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                {"logprobs", true},
                {"top_logprobs", 2}};
    auto r = http(f.port, "POST", "/v1/chat/completions", req.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    json up = json::parse(fake.requests().back().body);
    CHECK(up["logprobs"] == true);
    CHECK(up["top_logprobs"] == 2);
    json lp = r.json()["choices"][0]["logprobs"];
    CHECK(lp["refusal"].is_null());
    check_entries(lp["content"],
                  {{"Hi", {72, 105}}, {" " + kReplacement, {32, 195}}, {kReplacement, {169}}});
    CHECK(lp["content"][0]["logprob"] == -0.25);
    CHECK(r.json()["choices"][0]["message"]["content"] == "Hi é");
}

TEST_CASE("chat logprobs through serve and the openai plugin: each chunk carries its tokens") {
    FakeOpenAiServer fake([](const FakeRequest &r, int) { return answer(r); });
    ServerFixture f(up_config(fake));
    json req = {{"model", "up"},
                {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                {"stream", true},
                {"logprobs", true},
                {"top_logprobs", 2}};
    auto r = http(f.port, "POST", "/v1/chat/completions", req.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    std::vector<json> content_chunks;
    for (const auto &d : sse_data(r.body)) {
        if (d == "[DONE]") continue;
        json c = json::parse(d);
        auto &choice = c["choices"][0];
        if (choice["delta"].contains("content") &&
            !choice["delta"]["content"].get<std::string>().empty())
            content_chunks.push_back(choice);
        else if (!choice["finish_reason"].is_null())
            CHECK(choice["logprobs"].is_null()); // nothing left over
    }
    REQUIRE(content_chunks.size() == 2);
    CHECK(content_chunks[0]["delta"]["content"] == "Hi");
    check_entries(content_chunks[0]["logprobs"]["content"], {{"Hi", {72, 105}}});
    CHECK(content_chunks[1]["delta"]["content"] == " é");
    check_entries(content_chunks[1]["logprobs"]["content"],
                  {{" " + kReplacement, {32, 195}}, {kReplacement, {169}}});
}

TEST_CASE("legacy completions logprobs through serve: tokens, token_logprobs, top_logprobs, "
          "text_offset") {
    FakeOpenAiServer fake([](const FakeRequest &r, int) { return answer(r); });
    ServerFixture f(up_config(fake));
    auto r = http(
        f.port, "POST", "/v1/completions",
        json{{"model", "up"}, {"prompt", "say hi"}, {"logprobs", 2}, {"max_tokens", 5}}.dump());
    REQUIRE_MESSAGE(r.status == 200, r.body);
    json up = json::parse(fake.requests().back().body);
    CHECK(up["logprobs"] == 2);
    CHECK(up["max_tokens"] == 5);
    json lp = r.json()["choices"][0]["logprobs"];
    CHECK(lp["tokens"] == json{"Hi", " there"});
    CHECK(lp["token_logprobs"] == json{-0.5, -1.0});
    CHECK(lp["top_logprobs"][0] == json{{"Hi", -0.5}, {"Yo", -2.0}});
    CHECK(lp["text_offset"] == json{0, 2});
}

TEST_CASE("response_format reaches an endpoint whose plugin honours it") {
    FakeOpenAiServer fake([](const FakeRequest &r, int) { return answer(r); });
    ServerFixture f(up_config(fake));
    json schema = {
        {"type", "json_schema"},
        {"json_schema", {{"name", "obj"}, {"schema", {{"type", "object"}}}, {"strict", true}}}};
    for (const json &rf : {json{{"type", "json_object"}}, schema}) {
        auto r = http(f.port, "POST", "/v1/chat/completions",
                      json{{"model", "up"},
                           {"messages", {{{"role", "user"}, {"content", "json please"}}}},
                           {"response_format", rf}}
                          .dump());
        REQUIRE_MESSAGE(r.status == 200, r.body);
        CHECK(json::parse(fake.requests().back().body)["response_format"] == rf);
        CHECK(r.json()["choices"][0]["message"]["content"] == "{}");
    }
}
