// Request bodies, response decoding, error mapping and the SDKs' retry rules.
#include <doctest/doctest.h>

#include "errors.hpp"
#include "retry_rules.hpp"
#include "wire.hpp"

#include <nlohmann/json.hpp>

using namespace llmhost::openai;
using nlohmann::json;

namespace {
llmh::Message msg(std::string role, std::string content) {
    llmh::Message m;
    m.role = std::move(role);
    m.content = std::move(content);
    return m;
}
} // namespace

TEST_CASE("a chat request body carries model - messages - limits - stop - seed and usage for streams") {
    llmh::Request r;
    r.is_chat = true;
    r.messages = {msg("system", "be brief"), msg("user", "hi")};
    r.max_tokens = 7;
    r.temperature = 0.5f;
    r.seed = 42;
    r.stop = {"\n\n", "END"};
    json b = json::parse(build_request_body(r, "gpt-x", true, true));
    CHECK(b["model"] == "gpt-x");
    CHECK(b["messages"].size() == 2);
    CHECK(b["messages"][1]["content"] == "hi");
    CHECK(b["max_tokens"] == 7);
    CHECK(b["seed"] == 42);
    CHECK(b["stop"] == json::array({"\n\n", "END"}));
    CHECK(b["stream"] == true);
    CHECK(b["stream_options"]["include_usage"] == true);
    json plain = json::parse(build_request_body(r, "m", true, false));
    CHECK_FALSE(plain.contains("stream"));
    r.temperature = -1;
    r.seed.reset();
    json d = json::parse(build_request_body(r, "m", true, false));
    CHECK_FALSE(d.contains("temperature"));
    CHECK_FALSE(d.contains("seed"));
}

TEST_CASE("top_k, min_p and repetition_penalty are sent, never dropped") {
    llmh::Request r;
    r.messages = {msg("user", "hi")};
    json off = json::parse(build_request_body(r, "m", true, false));
    CHECK_FALSE(off.contains("top_k"));
    CHECK_FALSE(off.contains("min_p"));
    CHECK_FALSE(off.contains("repetition_penalty"));
    r.top_k = 40;
    r.min_p = 0.05f;
    r.repetition_penalty = 1.1f;
    json b = json::parse(build_request_body(r, "m", true, false));
    CHECK(b["top_k"] == 40);
    CHECK(b["min_p"].get<double>() == doctest::Approx(0.05));
    CHECK(b["repetition_penalty"].get<double>() == doctest::Approx(1.1));
    r.repetition_penalty = 1.0f; // 1 is "off"
    CHECK_FALSE(json::parse(build_request_body(r, "m", true, false)).contains("repetition_penalty"));
}

TEST_CASE("a raw prompt goes to the legacy completions body") {
    llmh::Request r;
    r.prompt = "Once";
    json b = json::parse(build_request_body(r, "m", false, false));
    CHECK(b["prompt"] == "Once");
    CHECK_FALSE(b.contains("messages"));
}

TEST_CASE("stream events decode to content - finish reason - usage and [DONE]") {
    auto d = decode_stream_event({"", R"({"choices":[{"index":0,"delta":{"role":"assistant","content":"He"},"finish_reason":null}]})"}, true);
    CHECK(d.content == "He");
    CHECK(d.finish == LLMH_FINISH_NONE);
    d = decode_stream_event({"", R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})"}, true);
    CHECK(d.finish == LLMH_FINISH_LENGTH);
    d = decode_stream_event({"", R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}})"}, true);
    REQUIRE(d.usage);
    CHECK(d.usage->completion_tokens == 5);
    CHECK(decode_stream_event({"", "[DONE]"}, true).done);
    d = decode_stream_event({"", R"({"choices":[{"index":0,"text":"abc","finish_reason":"stop"}]})"}, false);
    CHECK(d.content == "abc");
    CHECK(d.finish == LLMH_FINISH_STOP);
    // llama.cpp sends content:null in the first delta
    CHECK(decode_stream_event({"", R"({"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]})"}, true).content.empty());
}

TEST_CASE("malformed data - an error object and event: error abort the stream") {
    auto code_of = [](const llmhost::openai::SseEvent &e) {
        try {
            decode_stream_event(e, true);
        } catch (const llmh::Error &err) {
            return std::string(llmh_status_name(err.code())) + ": " + err.what();
        }
        return std::string("no error");
    };
    CHECK(code_of({"", "{not json"}).find("malformed") != std::string::npos);
    CHECK(code_of({"", ""}).find("malformed") != std::string::npos);
    CHECK(code_of({"", R"({"error":{"message":"overloaded"}})"}).find("overloaded") != std::string::npos);
    CHECK(code_of({"error", R"({"message":"boom"})"}).find("boom") != std::string::npos);
}

TEST_CASE("non-streamed responses and model lists decode - others are rejected") {
    auto r = decode_response(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2}})", true);
    CHECK(r.text == "Hi");
    CHECK(r.finish == LLMH_FINISH_STOP);
    CHECK(r.usage->prompt_tokens == 9);
    CHECK_THROWS_AS(decode_response("<html>", true), llmh::Error);
    auto models = decode_models(R"({"object":"list","data":[{"id":"a","object":"model","created":0,"owned_by":"me"},{"id":"b"}]})");
    REQUIRE(models.size() == 2);
    CHECK(models[1].id == "b");
    CHECK_THROWS_AS(decode_models("[]"), llmh::Error);
}

TEST_CASE("HTTP failures map to ABI codes with the user's next step") {
    auto err = map_http_failure({401, R"({"error":{"message":"Incorrect API key","code":"invalid_api_key"}})", 0, "req_1"},
                                "https://api.example/v1", "m", {});
    CHECK(err.code() == LLMH_ERR_AUTH_INVALID);
    CHECK(err.hint().find("OPENAI_API_KEY") != std::string::npos);
    CHECK(std::string(err.what()).find("req_1") != std::string::npos);
    err = map_http_failure({404, R"({"error":{"message":"The model `x` does not exist","code":"model_not_found"}})", 0, ""},
                           "u", "x", {"gpt-a", "gpt-b"});
    CHECK(err.code() == LLMH_ERR_NOT_FOUND);
    CHECK(err.hint().find("gpt-a, gpt-b") != std::string::npos);
    err = map_http_failure({429, "{}", 12, ""}, "u", "m", {});
    CHECK(err.code() == LLMH_ERR_RATE_LIMITED);
    CHECK(err.retry_after_s() == doctest::Approx(12));
    CHECK(err.hint().find("retry after 12 s") != std::string::npos);
    err = map_http_failure({503, "upstream down", 0, ""}, "u", "m", {});
    CHECK(err.code() == LLMH_ERR_NETWORK);
    CHECK(err.hint().find("endpoint is failing") != std::string::npos);
    CHECK(map_http_failure({400, "{}", 0, ""}, "u", "m", {}).code() == LLMH_ERR_INVALID_ARGUMENT);
}

TEST_CASE("retry decisions follow the SDKs: x-should-retry - then 408/409/429/5xx") {
    llmhost::net::Headers none;
    for (int s : {408, 409, 429, 500, 502, 503, 504}) CHECK(should_retry_status(s, none));
    for (int s : {400, 401, 403, 404, 422}) CHECK_FALSE(should_retry_status(s, none));
    llmhost::net::Headers no;
    no.add("x-should-retry", "false");
    CHECK_FALSE(should_retry_status(503, no));
    llmhost::net::Headers yes;
    yes.add("X-Should-Retry", "true");
    CHECK(should_retry_status(400, yes));
}

TEST_CASE("retry delays: retry-after-ms - retry-after - else jittered exponential backoff to 8 s") {
    std::mt19937_64 rng(1);
    llmhost::net::Headers ms;
    ms.add("retry-after-ms", "250");
    CHECK(retry_delay(0, ms, rng).count() == 250);
    llmhost::net::Headers s;
    s.add("retry-after", "2");
    CHECK(retry_delay(0, s, rng).count() == 2000);
    llmhost::net::Headers too_long;
    too_long.add("retry-after", "3600"); // beyond 60 s: ignored, back off instead
    CHECK(retry_delay(0, too_long, rng).count() <= 500);
    llmhost::net::Headers none;
    for (int k = 0; k < 6; ++k) {
        double cap = std::min(0.5 * (1 << k), 8.0) * 1000;
        for (int i = 0; i < 50; ++i) {
            auto d = retry_delay(k, none, rng).count();
            CHECK(d <= cap);
            CHECK(d >= cap * 0.75 - 1);
        }
    }
}

TEST_CASE("logprobs - top_logprobs - response_format reach the body") {
    llmh::Request r;
    r.is_chat = true;
    r.messages = {msg("user", "hi")};
    r.logprobs = true;
    r.top_logprobs = 3;
    r.response_format.type = LLMH_RESPONSE_JSON_SCHEMA;
    r.response_format.name = "n";
    r.response_format.schema_json = R"({"type":"object"})";
    json b = json::parse(build_request_body(r, "m", true, false));
    CHECK(b["logprobs"] == true);
    CHECK(b["top_logprobs"] == 3);
    CHECK(b["response_format"]["json_schema"]["schema"]["type"] == "object");
    llmh::Request legacy;
    legacy.prompt = "p";
    legacy.logprobs = true;
    legacy.top_logprobs = 2;
    CHECK(json::parse(build_request_body(legacy, "m", false, false))["logprobs"] == 2);
    legacy.response_format.type = LLMH_RESPONSE_JSON_OBJECT;
    try {
        build_request_body(legacy, "m", false, false);
        FAIL("response_format on the legacy endpoint must be refused");
    } catch (const llmh::Error &e) {
        CHECK(e.code() == LLMH_ERR_UNSUPPORTED);
    }
    llmh::Request none;
    none.is_chat = true;
    json n = json::parse(build_request_body(none, "m", true, false));
    CHECK_FALSE(n.contains("logprobs"));
    CHECK_FALSE(n.contains("response_format"));
}

TEST_CASE("logprobs are decoded from responses and chunks: exact bytes - legacy alternatives by rank") {
    json entry = {{"token", "\\xc3"}, {"logprob", -0.5}, {"bytes", {195}},
                  {"top_logprobs", {{{"token", "a"}, {"logprob", -1.0}, {"bytes", {97}}}}}};
    json body = {{"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "x"}}},
                               {"logprobs", {{"content", {entry}}}}, {"finish_reason", "stop"}}}}};
    auto r = decode_response(body.dump(), true);
    CHECK(r.has_logprobs);
    REQUIRE(r.logprobs.size() == 1);
    CHECK(r.logprobs[0].chosen.token == "\xc3");
    CHECK(r.logprobs[0].chosen.logprob == -0.5f);
    REQUIRE(r.logprobs[0].top.size() == 1);
    CHECK(r.logprobs[0].top[0].token == "a");
    body["choices"][0]["logprobs"] = nullptr;
    CHECK_FALSE(decode_response(body.dump(), true).has_logprobs);

    SseEvent ev;
    ev.data = json{{"choices", {{{"index", 0}, {"delta", {{"content", "x"}}}, {"logprobs", {{"content", {entry, entry}}}}}}}}.dump();
    auto d = decode_stream_event(ev, true);
    CHECK(d.has_logprobs);
    CHECK(d.logprobs.size() == 2);

    json legacy = {{"choices", {{{"index", 0}, {"text", "ab"}, {"finish_reason", "stop"},
                                 {"logprobs", {{"tokens", {"a", "b"}}, {"token_logprobs", {-0.1, -0.2}},
                                               {"top_logprobs", {{{"z", -3.0}, {"a", -0.1}}, {{"b", -0.2}}}}}}}}}};
    auto l = decode_response(legacy.dump(), false);
    REQUIRE(l.logprobs.size() == 2);
    CHECK(l.logprobs[1].chosen.token == "b");
    CHECK(l.logprobs[1].chosen.logprob == doctest::Approx(-0.2));
    REQUIRE(l.logprobs[0].top.size() == 2);
    CHECK(l.logprobs[0].top[0].token == "a"); // most likely first
}
