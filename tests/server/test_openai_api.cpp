// The server's request validation, model resolution and response shapes, without sockets.
#include <doctest/doctest.h>

#include "auth.hpp"
#include "logprobs_json.hpp"
#include "openai_api.hpp"

#include <llmhost/host.h>
#include <llmhost/plugin.h>

#include <nlohmann/json.hpp>

#include <limits>

using namespace llmhost::server;
using nlohmann::json;

TEST_CASE("chat requests: fields map onto the generation - bad values name their param") {
    ApiError err;
    auto p = parse_chat_request(R"({"model":"echo/m","messages":[{"role":"developer","content":"s"},
        {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
        {"role":"assistant","content":null}],
        "max_completion_tokens":9,"max_tokens":99,"stop":"END","seed":-1,"temperature":0.2,
        "stream":true,"stream_options":{"include_usage":true},"metadata":{"ignored":true}})",
                                err);
    REQUIRE(p);
    CHECK(p->request.messages.size() == 3);
    CHECK(p->request.messages[0].role == "system"); // developer is the newer name
    CHECK(p->request.messages[1].content == "ab");
    CHECK(p->request.max_tokens == 9); // max_completion_tokens wins
    CHECK(p->request.stop == std::vector<std::string>{"END"});
    CHECK(p->request.seed.has_value());
    CHECK(p->request.stream);
    CHECK(p->include_usage);
    CHECK(p->model_label == "echo/m");
    struct Bad {
        const char *body;
        const char *param;
    };
    for (
        auto b :
        {Bad{R"({"messages":[]})", "messages"},
         Bad{R"({"messages":[{"role":"wizard","content":"x"}]})", "messages[0].role"},
         Bad{R"({"messages":[{"role":"user"}]})", "messages[0].content"},
         Bad{R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})",
             "messages[0].content[0]"},
         Bad{R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})", "max_tokens"},
         Bad{R"({"messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})",
             "stop"},
         Bad{R"({"messages":[{"role":"user","content":"x"}],"top_p":2})", "top_p"},
         Bad{R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
         Bad{R"({"messages":[{"role":"user","content":"x"}],"model":5})", "model"},
         Bad{R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})",
             "tools[0].function"}}) {
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
    CHECK(p->request.max_tokens == 16);
    CHECK_FALSE(p->chat);
    CHECK(p->request.messages.empty());
    CHECK(p->request.prompt == "hi");
    auto explicit_max =
        parse_completion_request(R"({"prompt":["one"],"max_tokens":3,"echo":true})", err);
    CHECK(explicit_max->echo_prompt);
    CHECK(explicit_max->request.max_tokens == 3); // not the default 16 (issue 10)
    CHECK(parse_completion_request(R"({"prompt":"x","max_tokens":400})", err)->request.max_tokens ==
          400);
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
    t = resolve_model("Qwen/Qwen2.5-0.5B", providers, "huggingface",
                      err); // an HF id, default provider
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
    CHECK(api_error_from_backend({LLMH_ERR_CONTEXT_OVERFLOW, "long"}, "p").code ==
          "context_length_exceeded");
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
    llmhost::GenerateResult r;
    r.prompt_tokens = 2;
    r.completion_tokens = 3;
    r.reasoning_tokens = 1;
    r.cached_tokens = 2;
    json usage = data(sse_usage_chunk(m, r))["usage"];
    CHECK(usage["total_tokens"] == 5);
    CHECK(usage["completion_tokens_details"]["reasoning_tokens"] == 1);
    CHECK(usage["prompt_tokens_details"]["cached_tokens"] == 2);
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

TEST_CASE("logprobs and response_format parse onto the generation") {
    ApiError err;
    auto p = parse_chat_request(
        R"({"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":3,
        "response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object"}}}})",
        err);
    REQUIRE(p);
    CHECK(p->request.logprobs);
    CHECK(p->request.top_logprobs == 3);
    CHECK(p->request.response_format.type == LLMH_RESPONSE_JSON_SCHEMA);
    CHECK(p->request.response_format.name == "n");
    CHECK(json::parse(p->request.response_format.schema_json) == json{{"type", "object"}});
    auto text = parse_chat_request(
        R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}})", err);
    CHECK(text->request.response_format.type ==
          LLMH_RESPONSE_TEXT); // free text: nothing to constrain
    auto legacy = parse_completion_request(R"({"prompt":"x","logprobs":0})", err);
    CHECK(legacy->request.logprobs);
    CHECK(legacy->request.top_logprobs == 0);
    CHECK_FALSE(parse_completion_request(R"({"prompt":"x","logprobs":2,"echo":true})", err));
    CHECK(err.param == "echo");
}

TEST_CASE("a provider's configuration error is a 500 - request errors stay 4xx") {
    auto config =
        api_error_from_backend({LLMH_ERR_INVALID_ARGUMENT, "max_context 9999 exceeds 2048",
                                "set max_context to at most 2048", 0, 500},
                               "hf");
    CHECK(config.status == 500);
    CHECK(config.type == "server_error");
    CHECK(config.code == "provider_misconfigured");
    CHECK_FALSE(config.should_retry);
    CHECK(config.message.find("max_context") != std::string::npos);
    CHECK(api_error_from_backend({LLMH_ERR_CONTEXT_OVERFLOW, "prompt too long"}, "hf").status ==
          400);
    CHECK(api_error_from_backend({LLMHOST_ERR_CONFIG, "bad file"}, "hf").status == 500);
    auto unsupported = api_error_from_backend(
        {LLMH_ERR_UNSUPPORTED, "provider 'e' does not support logprobs"}, "e");
    CHECK(unsupported.status == 400);
    CHECK(unsupported.type == "invalid_request_error");
    CHECK(unsupported.code == "unsupported");
    // An upstream's 503 behind a network error stays the 502 it was.
    CHECK(api_error_from_backend({LLMH_ERR_NETWORK, "down", "", 0, 503}, "p").status == 502);
}

TEST_CASE("model ids never show a server path - retrieval percent-decodes") {
    CHECK(public_model_id("hf", "/srv/models/tiny-llama") == "hf/tiny-llama");
    CHECK(public_model_id("hf", "/srv/models/tiny-llama/") == "hf/tiny-llama");
    CHECK(public_model_id("hf", "Qwen/Qwen2.5-0.5B") == "hf/Qwen/Qwen2.5-0.5B");
    CHECK(public_model_id("echo", "") == "echo");
    std::vector<ModelEntry> entries = {{"echo", ""}, {"hf", "/srv/models/tiny"}, {"hf", "org/m"}};
    CHECK(json::parse(models_body(entries))["data"][1]["id"] == "hf/tiny");
    ApiError err;
    CHECK(json::parse(*model_body(entries, "hf%2Forg%2Fm", err))["id"] == "hf/org/m");
    CHECK(json::parse(*model_body(entries, "hf/tiny", err))["owned_by"] == "hf");
    CHECK_FALSE(model_body(entries, "hf//srv/models/tiny", err));
    CHECK(err.status == 404);
    CHECK(err.code == "model_not_found");
}

TEST_CASE("logprobs objects: chat entries with exact bytes - legacy rows with text offsets") {
    CHECK(lossy_utf8("a\xC3") == "a\xEF\xBF\xBD");
    CHECK(lossy_utf8("\xA9"
                     "b") == "\xEF\xBF\xBD"
                             "b");
    CHECK(lossy_utf8("\xC3\xA9") == "\xC3\xA9");
    CHECK(lossy_utf8("\xE4\xBD") == "\xEF\xBF\xBD"); // one replacement for a truncated sequence
    LogprobsBuilder chat(true);
    chat.add({"\xC3", -0.5f}, {{"\xC3", -0.5f}, {"x", -2.25f}});
    json c = chat.take();
    CHECK(c["refusal"].is_null());
    REQUIRE(c["content"].size() == 1);
    CHECK(c["content"][0]["token"] == "\xEF\xBF\xBD");
    CHECK(c["content"][0]["bytes"] == json{195});
    CHECK(c["content"][0]["logprob"] == -0.5);
    CHECK(c["content"][0]["top_logprobs"][1] ==
          json{{"token", "x"}, {"logprob", -2.25}, {"bytes", {120}}});
    CHECK(chat.empty());
    CHECK(chat.take()["content"] == json::array());
    LogprobsBuilder legacy(false, 2);
    legacy.add({"h\xC3\xA9", -0.1f}, {{"h\xC3\xA9", -0.1f}});
    legacy.add({"!", -std::numeric_limits<float>::infinity()}, {});
    json l = legacy.take();
    CHECK(l["tokens"] == json{"h\xC3\xA9", "!"});
    CHECK(l["token_logprobs"] == json{-0.1, -9999.0});
    CHECK(l["text_offset"] == json{2, 4}); // characters, not bytes
    CHECK(l["top_logprobs"][0] == json{{"h\xC3\xA9", -0.1}});
    CHECK(l["top_logprobs"][1] == json::object());
}
