// Hostile inputs: clear errors or bounded time, never a crash or a hang.
#include "constraint_test_util.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace ctest_util;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
} // namespace

// Hang guards, not benchmarks: these compiles take seconds on a loaded 2-core CI machine; the
// bound catches a blow-up (minutes, or never), not a slowdown. Speed is bench/maskbench's job.
constexpr double kHangGuardSeconds = 120;

TEST_CASE("hostile: deep nesting is an error, not a stack overflow") {
    std::string s;
    for (int i = 0; i < 5000; ++i) s += R"({"type":"array","items":)";
    s += R"({"type":"integer"})";
    for (int i = 0; i < 5000; ++i) s += "}";
    CHECK_THROWS_AS(Grammar::from_json_schema(s), CompileError);
}

TEST_CASE("hostile: cyclic $ref without a base case") {
    for (
        const char *s :
        {R"({"$ref":"#"})",
         R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})",
         R"({"$defs":{"a":{"type":"object","properties":{"x":{"$ref":"#/$defs/a"}},"required":["x"]}},"$ref":"#/$defs/a"})",
         R"({"allOf":[{"$ref":"#"}]})"}) {
        CAPTURE(s);
        CHECK_THROWS_AS(Grammar::from_json_schema(s), CompileError);
    }
    // With a base case recursion is fine.
    CHECK_NOTHROW(Grammar::from_json_schema(
        R"({"$defs":{"a":{"type":"object","properties":{"x":{"$ref":"#/$defs/a"}}}},"$ref":"#/$defs/a"})"));
}

TEST_CASE("hostile: a huge enum compiles in bounded time and matches") {
    std::string s = R"({"enum":[)";
    for (int i = 0; i < 20000; ++i)
        s += (i ? "," : "") + std::string("\"v") + std::to_string(i * 7919) + "\"";
    s += "]}";
    auto t = std::chrono::steady_clock::now();
    auto g = Grammar::from_json_schema(s);
    CHECK(seconds_since(t) < kHangGuardSeconds);
    CHECK(accepts(g, "\"v" + std::to_string(19999 * 7919) + "\""));
    CHECK_FALSE(accepts(g, "\"v1\""));
}

TEST_CASE("hostile: 10k properties") {
    std::string s = R"({"type":"object","properties":{)";
    for (int i = 0; i < 10000; ++i)
        s += (i ? "," : "") + std::string("\"p") + std::to_string(i) + "\":{\"type\":\"integer\"}";
    s += R"(},"required":["p9999"],"additionalProperties":false})";
    auto t = std::chrono::steady_clock::now();
    auto g = Grammar::from_json_schema(s);
    CHECK(seconds_since(t) < kHangGuardSeconds);
    CHECK(accepts(g, R"({"p3": 1, "p9999": 2})"));
    CHECK_FALSE(accepts(g, R"({"p3": 1})"));
}

TEST_CASE("hostile: invalid and explosive regexes are errors") {
    CHECK_THROWS_AS(Grammar::from_json_schema(R"({"type":"string","pattern":"(unclosed"})"),
                    CompileError);
    // (a|b)*a(a|b){25}: a DFA of 2^26 states; refused, not built.
    auto t = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(Grammar::from_regex("(a|b)*a(a|b){25}"), CompileError);
    CHECK(seconds_since(t) < kHangGuardSeconds);
    CHECK_THROWS_AS(Grammar::from_regex("a{100001}"), CompileError);
    CHECK_THROWS_AS(Grammar::from_json_schema(R"({"type":"string","maxLength":100000})"),
                    CompileError);
    CHECK_THROWS_AS(Grammar::from_json_schema(R"({"type":"array","minItems":1000000})"),
                    CompileError);
}

TEST_CASE("hostile: an ambiguous grammar stays bounded") {
    // Exponentially many parses of a^n: the stack set is capped and deduplicated.
    auto g = Grammar::from_gbnf("root ::= x*\nx ::= \"a\" | \"a\" \"a\" | \"a\" \"a\" \"a\"\n");
    auto t = std::chrono::steady_clock::now();
    CHECK(accepts(g, std::string(300, 'a')));
    CHECK(seconds_since(t) < kHangGuardSeconds);
}

TEST_CASE("hostile: non-schema values") {
    for (const char *s : {"[]", "1", "\"x\"", "null", R"({"type":1})", R"({"properties":[]})",
                          R"({"required":"a"})", R"({"enum":[]})", R"({"anyOf":{}})", "false",
                          R"({"items":false,"type":"array","minItems":1})"}) {
        CAPTURE(s);
        CHECK_THROWS_AS(Grammar::from_json_schema(s), CompileError);
    }
}
