// The openai plugin, loaded through its C ABI, against a fake OpenAI server with injected faults.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "fake_openai_server.hpp"
#include "plugin_harness.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <string>

using llmhost::test::FakeOpenAiServer;
using llmhost::test::FakeReply;
using llmhost::test::FakeRequest;
using llmhost::test::OpenAiPlugin;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kKey = "sk-test-SECRET-4242";

std::string chat_json(const std::string &text, const std::string &finish = "stop") {
    return json{{"id", "chatcmpl-1"}, {"object", "chat.completion"}, {"created", 1}, {"model", "m"},
                {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}},
                              {"finish_reason", finish}}}},
                {"usage", {{"prompt_tokens", 4}, {"completion_tokens", 2}, {"total_tokens", 6}}}}
        .dump();
}

std::string sse_chunk(const std::string &content, const char *finish = nullptr) {
    json delta = content.empty() ? json::object() : json{{"content", content}};
    json j = {{"id", "c"}, {"object", "chat.completion.chunk"}, {"created", 1}, {"model", "m"},
              {"choices", {{{"index", 0}, {"delta", delta},
                            {"finish_reason", finish ? json(finish) : json(nullptr)}}}}};
    return "data: " + j.dump() + "\n\n";
}

std::string config(const FakeOpenAiServer &s, int max_retries = 2, double timeout_s = 10) {
    return json{{"base_url", s.base_url()}, {"model", "m"}, {"organization", "org-1"},
                {"project", "proj-1"}, {"max_retries", max_retries}, {"timeout_s", timeout_s}}
        .dump();
}

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

void check_no_secret(const OpenAiPlugin &p, const llmhost::test::Outcome &o) {
    CHECK(std::string(o.error.message).find(kKey) == std::string::npos);
    CHECK(std::string(o.error.hint).find(kKey) == std::string::npos);
    for (const auto &line : p.logs()) CHECK(line.find(kKey) == std::string::npos);
}

} // namespace

TEST_CASE("non-streaming chat: body - headers - bearer key - usage and finish reason") {
    FakeOpenAiServer server([](const FakeRequest &, int) { return FakeReply::json(200, chat_json("Hello there", "length")); });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    llmh_params params = llmh_default_params();
    params.max_tokens = 5;
    params.has_seed = 1;
    params.seed = 9;
    const char *stops[] = {"END"};
    params.stop = stops;
    params.n_stop = 1;
    auto o = p.chat("hi", false, "gpt-test", 0, params);
    REQUIRE(o.status == LLMH_OK);
    CHECK(o.text() == "Hello there");
    CHECK(o.result.finish_reason == LLMH_FINISH_LENGTH);
    CHECK(o.result.prompt_tokens == 4);
    CHECK(o.result.completion_tokens == 2);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].method == "POST");
    CHECK(reqs[0].target == "/v1/chat/completions");
    CHECK(reqs[0].header("authorization") == "Bearer " + kKey);
    CHECK(reqs[0].header("openai-organization") == "org-1");
    CHECK(reqs[0].header("openai-project") == "proj-1");
    CHECK(reqs[0].header("content-type") == "application/json");
    json body = json::parse(reqs[0].body);
    CHECK(body["model"] == "gpt-test");
    CHECK(body["messages"][0]["content"] == "hi");
    CHECK(body["max_tokens"] == 5);
    CHECK(body["seed"] == 9);
    CHECK(body["stop"][0] == "END");
    check_no_secret(p, o);
}

TEST_CASE("streaming chat: pieces in order across comments - CRLF and split chunks - usage chunk") {
    FakeOpenAiServer server([](const FakeRequest &, int) {
        std::string all = ": ping\r\n\r\n" + sse_chunk("Hel") + sse_chunk("lo") + sse_chunk(" w\xC3\xB6rld") +
                          sse_chunk("", "stop") +
                          "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3}}\r\n\r\n" +
                          "data: [DONE]\n\n";
        std::vector<std::string> pieces;
        for (std::size_t i = 0; i < all.size(); i += 7) pieces.push_back(all.substr(i, 7)); // split anywhere
        return FakeReply::stream(pieces);
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    auto o = p.chat("hi", true);
    REQUIRE(o.status == LLMH_OK);
    REQUIRE(o.pieces.size() == 3);
    CHECK(o.pieces[0] == "Hel");
    CHECK(o.text() == "Hello w\xC3\xB6rld");
    CHECK(o.result.finish_reason == LLMH_FINISH_STOP);
    CHECK(o.result.completion_tokens == 3);
    json body = json::parse(server.requests().at(0).body);
    CHECK(body["stream"] == true);
    CHECK(body["stream_options"]["include_usage"] == true);
    CHECK(body["model"] == "m"); // the configured default model
}

TEST_CASE("429 with retry-after: the plugin waits as told - then succeeds") {
    FakeOpenAiServer server([](const FakeRequest &, int i) {
        if (i == 0) {
            FakeReply r = FakeReply::json(429, R"({"error":{"message":"slow down","type":"rate_limit_error"}})");
            r.headers.emplace_back("retry-after", "1");
            return r;
        }
        return FakeReply::json(200, chat_json("ok"));
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    auto t0 = Clock::now();
    auto o = p.chat("hi", false);
    REQUIRE(o.status == LLMH_OK);
    CHECK(o.text() == "ok");
    CHECK(seconds_since(t0) >= 0.95);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].header("x-stainless-retry-count") == "0");
    CHECK(reqs[1].header("x-stainless-retry-count") == "1");
}

TEST_CASE("429 beyond max_retries: rate_limited with retry_after and a hint") {
    FakeOpenAiServer server([](const FakeRequest &, int) {
        FakeReply r = FakeReply::json(429, R"({"error":{"message":"slow down"}})");
        r.headers.emplace_back("retry-after-ms", "30");
        return r;
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server, 1)) == LLMH_OK);
    auto o = p.chat("hi", false);
    CHECK(o.status == LLMH_ERR_RATE_LIMITED);
    CHECK(o.error.retry_after_s == doctest::Approx(0.03));
    CHECK(std::string(o.error.hint).find("retry after") != std::string::npos);
    CHECK(server.request_count() == 2); // 1 + max_retries
}

TEST_CASE("a burst of 500s is retried (default 2 retries) - a longer one reports the endpoint failing") {
    FakeOpenAiServer burst([](const FakeRequest &, int i) {
        if (i < 2) {
            FakeReply r = FakeReply::json(500, R"({"error":{"message":"internal"}})");
            r.headers.emplace_back("retry-after-ms", "10");
            return r;
        }
        return FakeReply::json(200, chat_json("recovered"));
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(burst)) == LLMH_OK);
    auto o = p.chat("hi", true);
    REQUIRE(o.status == LLMH_OK);
    CHECK(o.text() == "recovered"); // a JSON answer to a stream request is accepted as-is
    CHECK(burst.request_count() == 3);

    FakeOpenAiServer down([](const FakeRequest &, int) {
        FakeReply r = FakeReply::json(503, R"({"error":{"message":"unavailable"}})");
        r.headers.emplace_back("retry-after-ms", "10");
        return r;
    });
    OpenAiPlugin q({{"api_key", kKey}});
    REQUIRE(q.create(config(down)) == LLMH_OK);
    o = q.chat("hi", false);
    CHECK(o.status == LLMH_ERR_NETWORK);
    CHECK(o.error.http_status == 503);
    CHECK(std::string(o.error.hint).find("endpoint is failing") != std::string::npos);
    CHECK(down.request_count() == 3);
}

TEST_CASE("x-should-retry: false stops retries - 400 is never retried") {
    FakeOpenAiServer server([](const FakeRequest &, int i) {
        FakeReply r = FakeReply::json(i == 0 ? 500 : 400, R"({"error":{"message":"no"}})");
        r.headers.emplace_back("x-should-retry", "false");
        return r;
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    CHECK(p.chat("hi", false).status == LLMH_ERR_NETWORK);
    CHECK(server.request_count() == 1);
}

TEST_CASE("a stream dropped mid-event is an error - not a hang - and is not retried") {
    FakeOpenAiServer server([](const FakeRequest &, int) {
        FakeReply r = FakeReply::stream({sse_chunk("partial"), "data: {\"choices\":[{\"ind"});
        r.drop = true;
        return r;
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    auto t0 = Clock::now();
    auto o = p.chat("hi", true);
    CHECK(o.status == LLMH_ERR_NETWORK);
    CHECK(o.text() == "partial");
    CHECK(seconds_since(t0) < 5);
    CHECK(server.request_count() == 1);
    MESSAGE("dropped stream: " << o.error.message);
}

TEST_CASE("a stream that ends cleanly without [DONE] or a finish reason is reported") {
    FakeOpenAiServer server([](const FakeRequest &, int) { return FakeReply::stream({sse_chunk("a")}); });
    OpenAiPlugin p;
    REQUIRE(p.create(config(server)) == LLMH_OK);
    auto o = p.chat("hi", true);
    CHECK(o.status == LLMH_ERR_NETWORK);
    CHECK(std::string(o.error.message).find("ended before") != std::string::npos);
}

TEST_CASE("malformed SSE data and error events abort the stream with a clear message") {
    FakeOpenAiServer bad([](const FakeRequest &, int) {
        return FakeReply::stream({sse_chunk("x"), "data: {this is not json\n\n", sse_chunk("never")});
    });
    OpenAiPlugin p;
    REQUIRE(p.create(config(bad)) == LLMH_OK);
    auto o = p.chat("hi", true);
    CHECK(o.status == LLMH_ERR_NETWORK);
    CHECK(std::string(o.error.message).find("malformed") != std::string::npos);
    CHECK(o.text() == "x");

    FakeOpenAiServer err([](const FakeRequest &, int) {
        return FakeReply::stream({sse_chunk("x"), "event: error\ndata: {\"error\":{\"message\":\"model crashed\"}}\n\n"});
    });
    OpenAiPlugin q;
    REQUIRE(q.create(config(err)) == LLMH_OK);
    o = q.chat("hi", true);
    CHECK(o.status == LLMH_ERR_NETWORK);
    CHECK(std::string(o.error.message).find("model crashed") != std::string::npos);
}

TEST_CASE("401 says to check OPENAI_API_KEY and never shows the key") {
    FakeOpenAiServer server([](const FakeRequest &r, int) {
        return FakeReply::json(401, json{{"error", {{"message", "Incorrect API key provided: " + r.header("authorization").substr(7, 6) + "***"},
                                                    {"type", "invalid_request_error"}, {"code", "invalid_api_key"}}}}.dump());
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    auto o = p.chat("hi", false);
    CHECK(o.status == LLMH_ERR_AUTH_INVALID);
    CHECK(std::string(o.error.hint).find("OPENAI_API_KEY") != std::string::npos);
    CHECK(server.request_count() == 1);
    check_no_secret(p, o);
}

TEST_CASE("404 for a model lists the models the endpoint has") {
    FakeOpenAiServer server([](const FakeRequest &r, int) {
        if (r.target == "/v1/models")
            return FakeReply::json(200, R"({"object":"list","data":[{"id":"alpha","object":"model","created":0,"owned_by":"x"},{"id":"beta","object":"model","created":0,"owned_by":"x"}]})");
        return FakeReply::json(404, R"({"error":{"message":"The model `nope` does not exist","code":"model_not_found"}})");
    });
    OpenAiPlugin p;
    REQUIRE(p.create(config(server)) == LLMH_OK);
    auto o = p.chat("hi", false, "nope");
    CHECK(o.status == LLMH_ERR_NOT_FOUND);
    CHECK(std::string(o.error.hint).find("alpha, beta") != std::string::npos);
}

TEST_CASE("model listing through the ABI") {
    FakeOpenAiServer server([](const FakeRequest &, int) {
        return FakeReply::json(200, R"({"object":"list","data":[{"id":"m1","object":"model","created":0,"owned_by":"o"}]})");
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    std::vector<std::string> ids;
    llmh_error err;
    llmh_error_init(&err);
    REQUIRE(p.desc().list_models(p.provider(), [](void *u, const char *id, const char *) {
        static_cast<std::vector<std::string> *>(u)->push_back(id);
    }, &ids, &err) == LLMH_OK);
    CHECK(ids == std::vector<std::string>{"m1"});
    CHECK(server.requests().at(0).header("authorization") == "Bearer " + kKey);
}

TEST_CASE("cancelling mid-stream stops promptly") {
    FakeOpenAiServer server([](const FakeRequest &, int) {
        std::vector<std::string> many(200, sse_chunk("tok "));
        FakeReply r = FakeReply::stream(many);
        r.piece_delay_ms = 20; // 4 s in all if nobody cancels
        return r;
    });
    OpenAiPlugin p;
    REQUIRE(p.create(config(server)) == LLMH_OK);
    auto t0 = Clock::now();
    auto o = p.chat("hi", true, nullptr, 3);
    CHECK(o.status == LLMH_ERR_CANCELLED);
    CHECK(o.pieces.size() == 3);
    CHECK(seconds_since(t0) < 1.5);
}

TEST_CASE("timeouts and connection errors are reported (and retried)") {
    FakeOpenAiServer server([](const FakeRequest &, int) {
        FakeReply r;
        r.hang = true;
        return r;
    });
    OpenAiPlugin p;
    REQUIRE(p.create(config(server, 1, 0.3)) == LLMH_OK);
    auto o = p.chat("hi", false);
    CHECK(o.status == LLMH_ERR_TIMEOUT);
    CHECK(server.request_count() == 2); // timeouts are retried like the SDKs

    OpenAiPlugin q;
    REQUIRE(q.create(json{{"base_url", "http://127.0.0.1:1/v1"}, {"model", "m"}, {"max_retries", 0}}.dump()) == LLMH_OK);
    o = q.chat("hi", false);
    CHECK(o.status == LLMH_ERR_NETWORK);
    CHECK(std::string(o.error.hint).find("base_url") != std::string::npos);
}

TEST_CASE("bad configs are refused with the key named - api.openai.com without a key asks for one") {
    OpenAiPlugin p;
    CHECK(p.create(R"({"base_url": "ftp://x"})") == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(p.create_error.message).find("base_url") != std::string::npos);
    OpenAiPlugin q;
    CHECK(q.create(R"({"max_retries": "two"})") == LLMH_ERR_INVALID_ARGUMENT);
    OpenAiPlugin r;
    REQUIRE(r.create(R"({"model": "gpt-4o-mini"})") == LLMH_OK);
    auto o = r.chat("hi", false);
    CHECK(o.status == LLMH_ERR_AUTH_REQUIRED);
    CHECK(std::string(o.error.hint).find("OPENAI_API_KEY") != std::string::npos);
    CHECK(r.desc().flags(r.provider()) == LLMH_PROVIDER_THREAD_SAFE);
}

TEST_CASE("one instance serves concurrent streaming requests from many threads") {
    FakeOpenAiServer server([](const FakeRequest &r, int) {
        // echo the user's message back word by word, so each thread can check its own answer
        std::string user = json::parse(r.body)["messages"][0]["content"];
        std::vector<std::string> pieces;
        for (std::size_t i = 0; i < user.size(); i += 3) pieces.push_back(sse_chunk(user.substr(i, 3)));
        pieces.push_back(sse_chunk("", "stop"));
        pieces.push_back("data: [DONE]\n\n");
        return FakeReply::stream(pieces);
    });
    OpenAiPlugin p({{"api_key", kKey}});
    REQUIRE(p.create(config(server)) == LLMH_OK);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                std::string msg = "thread " + std::to_string(t) + " request " + std::to_string(i);
                auto o = p.chat(msg, true);
                if (o.status == LLMH_OK && o.text() == msg) ++ok;
            }
        });
    for (auto &t : threads) t.join();
    CHECK(ok == 80);
    CHECK(server.request_count() == 80);
}

TEST_CASE("logprobs and response_format: sent upstream - logprobs come back before their text") {
    json entry = {{"token", "He"}, {"logprob", -0.5}, {"bytes", {72, 101}},
                  {"top_logprobs", {{{"token", "Ha"}, {"logprob", -1.0}, {"bytes", {72, 97}}}}}};
    FakeOpenAiServer server([&](const FakeRequest &req, int) {
        json b = json::parse(req.body);
        json lp = {{"content", {entry}}};
        if (!b.value("stream", false))
            return FakeReply::json(200, json{{"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "He"}}},
                                                           {"logprobs", lp}, {"finish_reason", "stop"}}}}}.dump());
        json c1 = {{"choices", {{{"index", 0}, {"delta", {{"content", "He"}}}, {"logprobs", lp}, {"finish_reason", nullptr}}}}};
        json c2 = {{"choices", {{{"index", 0}, {"delta", {{"content", "llo"}}}, {"logprobs", lp}, {"finish_reason", "stop"}}}}};
        return FakeReply::stream({"data: " + c1.dump() + "\n\n", "data: " + c2.dump() + "\n\n", "data: [DONE]\n\n"});
    });
    OpenAiPlugin p;
    CHECK((p.desc().capabilities & LLMH_CAP_LOGPROBS) != 0);
    CHECK((p.desc().capabilities & LLMH_CAP_STRUCTURED_OUTPUT) != 0);
    REQUIRE(p.create(config(server)) == LLMH_OK);
    llmh_response_format json_object{sizeof(llmh_response_format), LLMH_RESPONSE_JSON_OBJECT, nullptr, nullptr, 0};
    auto plain = p.chat("hi", false, nullptr, 0, llmh_default_params(), 1, &json_object);
    REQUIRE(plain.status == LLMH_OK);
    CHECK(plain.events == std::vector<std::string>{"lp:He/1", "piece:He"});
    json up = json::parse(server.requests().back().body);
    CHECK(up["logprobs"] == true);
    CHECK(up["top_logprobs"] == 1);
    CHECK(up["response_format"] == json{{"type", "json_object"}});
    auto streamed = p.chat("hi", true, nullptr, 0, llmh_default_params(), 1);
    REQUIRE(streamed.status == LLMH_OK);
    CHECK(streamed.events == std::vector<std::string>{"lp:He/1", "piece:He", "lp:He/1", "piece:llo"});
    CHECK_FALSE(json::parse(server.requests().back().body).contains("response_format"));
}

TEST_CASE("an endpoint that ignores logprobs: unsupported, not an answer without them") {
    FakeOpenAiServer server([](const FakeRequest &, int) { return FakeReply::json(200, chat_json("no logprobs here")); });
    OpenAiPlugin p;
    REQUIRE(p.create(config(server)) == LLMH_OK);
    auto o = p.chat("hi", false, nullptr, 0, llmh_default_params(), 0);
    CHECK(o.status == LLMH_ERR_UNSUPPORTED);
    CHECK(std::string(o.error.message).find("logprobs") != std::string::npos);
    CHECK(o.pieces.empty());
    CHECK(p.chat("hi", false).status == LLMH_OK); // without logprobs the same answer is fine
}
