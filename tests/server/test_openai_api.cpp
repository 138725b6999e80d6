// The server's request validation, model resolution and response shapes, without sockets.
#include <doctest/doctest.h>

#include "auth.hpp"
#include "openai_api.hpp"

#include <llmhost/plugin.h>

#include <nlohmann/json.hpp>

using namespace llmhost::server;
using nlohmann::json;

TEST_CASE("chat requests: fields map onto the generation - bad values name their param") {
    ApiError err;
    auto p = parse_chat_request(R"({"model":"echo/m","messages":[{"role":"developer","content":"s"},
        {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
        {"role":"assistant","content":null}],
        "max_completion_tokens":9,"max_tokens":99,"stop":"END","seed":-1,"temperature":0.2,
        "stream":true,"stream_options":{"include_usage":true},"metadata":{"ignored":true}})", err);
    REQUIRE(p);
    CHECK(p->generation.messages.size() == 3);
    CHECK(p->generation.messages[0].first == "system"); // developer is the newer name
    CHECK(p->generation.messages[1].second == "ab");
    CHECK(p->generation.max_tokens == 9); // max_completion_tokens wins
    CHECK(p->generation.stop == std::vector<std::string>{"END"});
    CHECK(p->generation.seed.has_value());
    CHECK(p->include_usage);
    CHECK(p->model_label == "echo/m");
    struct Bad { const char *body; const char *param; };
    for (auto b : {Bad{R"({"messages":[]})", "messages"},
                   Bad{R"({"messages":[{"role":"wizard","content":"x"}]})", "messages[0].role"},
                   Bad{R"({"messages":[{"role":"user"}]})", "messages[0].content"},
                   Bad{R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})", "messages[0].content"},
                   Bad{R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})", "max_tokens"},
                   Bad{R"({"messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})", "stop"},
                   Bad{R"({"messages":[{"role":"user","content":"x"}],"top_p":2})", "top_p"},
                   Bad{R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
                   Bad{R"({"messages":[{"role":"user","content":"x"}],"model":5})", "model"},
                   Bad{R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})", "tools"}}) {
        CAPTURE(b.body);
        CHECK_FALSE(parse_chat_request(b.body, err));
        CHECK(err.status == 400);
        CHECK(err.param == b.param);
    }
    CHECK_FALSE(parse_chat_request("[1,2]", err));
    CHECK(err.message.find("JSON object") != std::string::npos);
}

TEST_CASE("completion requests default max_tokens to 16 as the legacy API does") {
    ApiError err;
    auto p = parse_completion_request(R"({"model":"x","prompt":"hi"})", err);
    REQUIRE(p);
    CHECK(p->generation.max_tokens == 16);
    CHECK_FALSE(p->generation.chat);
    CHECK(parse_completion_request(R"({"prompt":["one"],"max_tokens":3,"echo":true})", err)->echo_prompt);
    CHECK_FALSE(parse_completion_request(R"({"prompt":[1,2,3]})", err));
    CHECK(err.param == "prompt");
}

TEST_CASE("model names: provider - provider/model - default provider's model - else 404") {
    ApiError err;
    std::vector<std::string> providers = {"echo", "huggingface"};
    auto t = resolve_model("echo", providers, "huggingface", err);
    CHECK(t->provider == "echo");
    CHECK(t->model.empty());
    t = resolve_model("huggingface/Qwen/Qwen2.5-0.5B", providers, "", err);
    CHECK(t->provider == "huggingface");
    CHECK(t->model == "Qwen/Qwen2.5-0.5B");
    t = resolve_model("Qwen/Qwen2.5-0.5B", providers, "huggingface", err); // an HF id, default provider
    CHECK(t->provider == "huggingface");
    CHECK(t->model == "Qwen/Qwen2.5-0.5B");
    t = resolve_model("", providers, "echo", err);
    CHECK(t->provider == "echo");
    CHECK_FALSE(resolve_model("gpt-4o", providers, "openai", err)); // default not configured
    CHECK(err.status == 404);
    CHECK(err.code == "model_not_found");
    CHECK(err.message.find("echo, huggingface") != std::string::npos);
}

TEST_CASE("provider errors map to statuses the SDKs handle") {
    CHECK(api_error_from_backend({LLMH_ERR_NOT_FOUND, "no model"}, "p").status == 404);
    auto rl = api_error_from_backend({LLMH_ERR_RATE_LIMITED, "slow", "", 7}, "p");
    CHECK(rl.status == 429);
    CHECK(rl.retry_after_s == 7);
    auto auth = api_error_from_backend({LLMH_ERR_AUTH_INVALID, "bad token", "set HF_TOKEN"}, "hf");
    CHECK(auth.status == 502);
    CHECK_FALSE(auth.should_retry);
    CHECK(auth.message.find("set HF_TOKEN") != std::string::npos);
    CHECK(api_error_from_backend({LLMH_ERR_INTERNAL, "bug"}, "p").status == 500);
    CHECK(api_error_from_backend({LLMH_ERR_CONTEXT_OVERFLOW, "long"}, "p").code == "context_length_exceeded");
}

TEST_CASE("envelope and chunk shapes") {
    ApiError e;
    e.message = "m";
    json env = json::parse(error_body(e));
    CHECK(env["error"]["param"].is_null());
    CHECK(env["error"]["code"].is_null());
    CHECK(env["error"]["type"] == "invalid_request_error");
    ResponseMeta m = make_response_meta(true, "echo");
    auto data = [](const std::string &ev) {
        REQUIRE(ev.rfind("data: ", 0) == 0);
        REQUIRE(ev.size() > 8);
        CHECK(ev.substr(ev.size() - 2) == "\n\n");
        return json::parse(ev.substr(6));
    };
    CHECK(data(sse_role_chunk(m))["choices"][0]["delta"]["role"] == "assistant");
    CHECK(data(sse_content_chunk(m, "x"))["choices"][0]["finish_reason"].is_null());
    auto fin = data(sse_finish_chunk(m, "length", true));
    CHECK(fin["choices"][0]["finish_reason"] == "length");
    CHECK(fin["usage"].is_null());
    GenerationResult r;
    r.prompt_tokens = 2;
    r.completion_tokens = 3;
    CHECK(data(sse_usage_chunk(m, r))["usage"]["total_tokens"] == 5);
    CHECK(json::parse(models_body({{"echo", ""}, {"hf", "a/b"}}))["data"][1]["id"] == "hf/a/b");
}

TEST_CASE("API keys compare in constant time and parse from a comma list") {
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "abcd"));
    CHECK_FALSE(constant_time_equal("", "a"));
    CHECK(bearer_matches("Bearer k2", {"k1", "k2"}));
    CHECK(bearer_matches("bearer k1", {"k1"}));
    CHECK_FALSE(bearer_matches("Bearer k", {"k1"}));
    CHECK_FALSE(bearer_matches("Basic k1", {"k1"}));
    CHECK(split_keys(" a, b ,,c ") == std::vector<std::string>{"a", "b", "c"});
}
