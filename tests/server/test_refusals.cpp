// llmhost serve never answers 200 while doing something other than what was asked (issue 10):
// over raw HTTP against the echo plugin (which lacks LLMH_CAP_LOGPROBS; test_tool_calls.cpp
// covers the agent capabilities): max_tokens of the legacy endpoint, refused fields and messages,
// capability refusals, GET /v1/models/{id}, and a misconfigured provider as a 500.
#include <doctest/doctest.h>

#include "server_fixture.hpp"

using namespace llmhost::test;
using nlohmann::json;

namespace {

json echo_config(json cfg = json::object()) {
    return {{"providers", {{"echo", echo_entry(std::move(cfg))}}}};
}

json user(const std::string &text) { return {{"role", "user"}, {"content", text}}; }

HttpReply chat(unsigned short port, json body) {
    if (!body.contains("model")) body["model"] = "echo";
    if (!body.contains("messages")) body["messages"] = json::array({user("hi")});
    return http(port, "POST", "/v1/chat/completions", body.dump());
}

void check_400(const HttpReply &r, const std::string &param, const std::string &code = "") {
    CHECK(r.status == 400);
    json e = r.json()["error"];
    CHECK(e["type"] == "invalid_request_error");
    CHECK(e["param"] == param);
    if (!code.empty()) CHECK(e["code"] == code);
}

} // namespace

TEST_CASE("legacy completions honour max_tokens (and default to 16)") {
    ServerFixture f(echo_config({{"loop", true}}));
    for (int n : {3, 20}) {
        auto r = http(f.port, "POST", "/v1/completions",
                      json{{"model", "echo"}, {"prompt", "a b c d"}, {"max_tokens", n}}.dump());
        REQUIRE(r.status == 200);
        CHECK(r.json()["usage"]["completion_tokens"] == n);
        CHECK(r.json()["choices"][0]["finish_reason"] == "length");
    }
    auto r =
        http(f.port, "POST", "/v1/completions", json{{"model", "echo"}, {"prompt", "a b"}}.dump());
    CHECK(r.json()["usage"]["completion_tokens"] == 16);
}

TEST_CASE("fields llmhost does not honour are refused with 400 naming them") {
    ServerFixture f(echo_config());
    check_400(chat(f.port, {{"functions", {{{"name", "f"}}}}}), "functions", "unsupported");
    check_400(chat(f.port, {{"function_call", "auto"}}), "function_call", "unsupported");
    check_400(chat(f.port, {{"n", 2}}), "n", "unsupported");
    check_400(chat(f.port, {{"logit_bias", {{"50256", -100}}}}), "logit_bias", "unsupported");
    check_400(chat(f.port, {{"chat_template_kwargs", {{"add_generation_prompt", true}}}}),
              "chat_template_kwargs.add_generation_prompt", "unsupported");
    check_400(chat(f.port, {{"no_such_field", 1}}), "no_such_field", "unknown_parameter");
    // Values that mean "off", nulls and tracking fields are fine.
    auto ok = chat(f.port, {{"tools", json::array()},
                            {"tool_choice", "none"},
                            {"presence_penalty", 0},
                            {"frequency_penalty", nullptr},
                            {"user", "u1"},
                            {"store", false},
                            {"metadata", {{"k", "v"}}},
                            {"n", 1},
                            {"response_format", {{"type", "text"}}}});
    CHECK(ok.status == 200);
    auto legacy = http(f.port, "POST", "/v1/completions",
                       json{{"model", "echo"}, {"prompt", "x"}, {"best_of", 3}}.dump());
    check_400(legacy, "best_of", "unsupported");
}

TEST_CASE("message parts and fields llmhost cannot carry are refused, not dropped") {
    ServerFixture f(echo_config());
    check_400(
        chat(f.port, {{"messages", {{{"role", "assistant"}, {"function_call", {{"name", "f"}}}}}}}),
        "messages[0].function_call", "unsupported");
    check_400(chat(f.port, {{"messages",
                             {{{"role", "user"}, {"content", "x"}, {"audio", {{"id", "a"}}}}}}}),
              "messages[0].audio", "unsupported");
    json image = {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,AAAA"}}}};
    auto r =
        chat(f.port,
             {{"messages",
               {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "see"}}, image}}}}}});
    check_400(r, "messages[0].content[1]", "unsupported");
    CHECK(r.json()["error"]["message"].get<std::string>().find("image_url") != std::string::npos);
    // A participant name is carried now; an assistant turn with an empty tool_calls list is fine.
    CHECK(chat(f.port, {{"messages", {{{"role", "user"}, {"content", "x"}, {"name", "bob"}}}}})
              .status == 200);
    CHECK(chat(f.port, {{"messages",
                         {user("q"),
                          {{"role", "assistant"}, {"content", "a"}, {"tool_calls", json::array()}},
                          user("r")}}})
              .status == 200);
}

TEST_CASE("logprobs on a provider without the capability: 400 unsupported - bad shapes name their "
          "param") {
    ServerFixture f(echo_config());
    for (json extra : {json{{"logprobs", true}},
                       json{{"logprobs", true}, {"top_logprobs", 2}, {"stream", true}}}) {
        CAPTURE(extra.dump());
        auto r = chat(f.port, extra);
        CHECK(r.status == 400);
        json e = r.json()["error"];
        CHECK(e["type"] == "invalid_request_error");
        CHECK(e["code"] == "unsupported");
        const std::string msg = e["message"];
        CHECK(msg.find("provider 'echo'") != std::string::npos);
        CHECK(msg.find("logprobs") != std::string::npos);
    }
    auto legacy = http(f.port, "POST", "/v1/completions",
                       json{{"model", "echo"}, {"prompt", "x"}, {"logprobs", 2}}.dump());
    CHECK(legacy.status == 400);
    CHECK(legacy.json()["error"]["code"] == "unsupported");
    check_400(chat(f.port, {{"top_logprobs", 2}}), "top_logprobs");
    check_400(chat(f.port, {{"logprobs", true}, {"top_logprobs", 21}}), "top_logprobs");
    check_400(http(f.port, "POST", "/v1/completions",
                   json{{"model", "echo"}, {"prompt", "x"}, {"logprobs", 6}}.dump()),
              "logprobs");
    check_400(chat(f.port, {{"response_format", "json"}}), "response_format");
    check_400(chat(f.port, {{"response_format", {{"type", "xml"}}}}), "response_format");
    check_400(chat(f.port, {{"response_format",
                             {{"type", "json_schema"}, {"json_schema", {{"schema", 1}}}}}}),
              "response_format");
}

TEST_CASE("GET /v1/models/{id}: ids with '/' and percent-encoding - 404 envelope for unknown ids") {
    ServerFixture f(echo_config({{"instance_id", "a/b"}}));
    auto list = http(f.port, "GET", "/v1/models").json();
    REQUIRE(list["data"].size() == 1);
    const std::string id = list["data"][0]["id"];
    CHECK(id == "echo/echo:a/b");
    for (const std::string target :
         {"/v1/models/echo/echo:a/b", "/v1/models/echo%2Fecho%3Aa%2Fb"}) {
        CAPTURE(target);
        auto r = http(f.port, "GET", target);
        REQUIRE(r.status == 200);
        CHECK(r.json() == list["data"][0]);
    }
    auto missing = http(f.port, "GET", "/v1/models/echo%2Fnope");
    CHECK(missing.status == 404);
    CHECK(missing.json()["error"]["code"] == "model_not_found");
    CHECK(missing.json()["error"]["message"].get<std::string>().find("echo/nope") !=
          std::string::npos);
    // The id shown routes back to the same provider and model.
    auto r = chat(f.port, {{"model", id}, {"messages", {user("routed")}}});
    CHECK(r.status == 200);
    CHECK(r.json()["model"] == id);
}

TEST_CASE("a provider that fails to create (its configuration) is a 500, not the client's 400") {
    ServerFixture f(echo_config({{"fail_create", true}}));
    auto r = chat(f.port, json::object());
    CHECK(r.status == 500);
    json e = r.json()["error"];
    CHECK(e["type"] == "server_error");
    CHECK(e["code"] == "provider_misconfigured");
    CHECK(r.header("x-should-retry") == "false");
    bool logged = false;
    for (const auto &l : f.log_lines())
        logged |= l.find("generation on 'echo' failed") != std::string::npos;
    CHECK(logged);
}
