// llmhost's request extensions "grammar" (GBNF) and "regex" over raw HTTP: bad shapes are a 400
// naming the field, contradictory constraints are a 400 naming both fields, and a provider
// whose plugin lacks LLMH_CAP_GRAMMAR (echo) is refused rather than answering unconstrained.
// That they arrive when valid is test_every_field.cpp's job.
#include <doctest/doctest.h>

#include "server_fixture.hpp"

using namespace llmhost::test;
using nlohmann::json;

namespace {

json both_config() {
    return {{"providers",
             {{"echo", echo_entry()},
              {"recording", {{"plugin", "recording"}, {"config", json::object()}}}}}};
}

HttpReply chat(unsigned short port, const std::string &model, json extra) {
    json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    for (auto &[k, v] : extra.items()) body[k] = v;
    return http(port, "POST", "/v1/chat/completions", body.dump());
}

json error_of(const HttpReply &r) {
    REQUIRE_MESSAGE(r.status == 400, r.body);
    json e = r.json()["error"];
    CHECK(e["type"] == "invalid_request_error");
    return e;
}

bool has(const json &e, const std::string &needle) {
    return e["message"].get<std::string>().find(needle) != std::string::npos;
}

json weather_tool() {
    return {{"type", "function"},
            {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}};
}

} // namespace

TEST_CASE("grammar/regex: a provider without the grammar capability refuses, naming provider and "
          "field") {
    ServerFixture f(both_config());
    for (const char *name : {"grammar", "regex"}) {
        CAPTURE(name);
        json e = error_of(chat(f.port, "echo", {{name, "root ::= \"x\""}}));
        CHECK(e["code"] == "unsupported");
        CHECK(has(e, "provider 'echo'"));
        CHECK(has(e, name));
        auto legacy = http(f.port, "POST", "/v1/completions",
                           json{{"model", "echo"}, {"prompt", "x"}, {name, "a"}}.dump());
        CHECK(error_of(legacy)["code"] == "unsupported");
    }
    // null means absent, as for every other field.
    CHECK(chat(f.port, "echo", {{"grammar", nullptr}, {"regex", nullptr}}).status == 200);
}

TEST_CASE("grammar/regex: bad shapes are a 400 naming the field") {
    ServerFixture f(both_config());
    for (const char *name : {"grammar", "regex"}) {
        CAPTURE(name);
        for (json bad : {json(5), json::array({"a"}), json{{"root", "x"}}, json(true), json("")}) {
            CAPTURE(bad.dump());
            json e = error_of(chat(f.port, "recording", {{name, bad}}));
            CHECK(e["param"] == name);
        }
        auto legacy = http(f.port, "POST", "/v1/completions",
                           json{{"model", "recording"}, {"prompt", "x"}, {name, 1}}.dump());
        CHECK(error_of(legacy)["param"] == name);
        // A NUL byte would cut the C string short: a different constraint, so refused.
        json e = error_of(chat(f.port, "recording", {{name, std::string("ab\0c", 4)}}));
        CHECK(has(e, "NUL"));
    }
}

TEST_CASE("grammar/regex: contradictory constraints are a 400 naming both fields") {
    ServerFixture f(both_config());
    json e = error_of(chat(f.port, "recording", {{"grammar", "root ::= \"a\""}, {"regex", "a"}}));
    CHECK(has(e, "grammar"));
    CHECK(has(e, "regex"));
    for (const char *name : {"grammar", "regex"}) {
        CAPTURE(name);
        e = error_of(
            chat(f.port, "recording",
                 {{name, "root ::= \"a\""}, {"response_format", {{"type", "json_object"}}}}));
        CHECK(has(e, name));
        CHECK(has(e, "response_format"));
        for (json choice : {json("required"),
                            json{{"type", "function"}, {"function", {{"name", "get_weather"}}}}}) {
            e = error_of(chat(f.port, "recording",
                              {{name, "a"}, {"tools", {weather_tool()}}, {"tool_choice", choice}}));
            CHECK(has(e, name));
            CHECK(has(e, "tool_choice"));
        }
        // A text response_format and tool_choice auto/none do not constrain: accepted.
        CHECK(chat(f.port, "recording",
                   {{name, "a"},
                    {"response_format", {{"type", "text"}}},
                    {"tools", {weather_tool()}},
                    {"tool_choice", "auto"}})
                  .status == 200);
    }
}
