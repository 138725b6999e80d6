// Counted strings (minLength/maxLength alone): the directly built product automaton has the
// language of the regex route, the bisimulation recognises exactly such automata, and the masks
// from the vocabulary's string profile agree with advance() on every token at every step,
// multi-byte, escaped, partial UTF-8 and quote-crossing tokens included.
#include "constraint_test_util.hpp"
#include "counted_string.hpp"
#include "regex.hpp"

#include <doctest/doctest.h>

using namespace ctest_util;

namespace {

const std::vector<std::string> kExtra = {"ab",
                                         "abc",
                                         "abcdefgh",
                                         "é",
                                         "éé",
                                         "\xC3",
                                         "\xA9",
                                         "\xE2\x82",
                                         "\xE2\x82\xAC",
                                         "\\n",
                                         "\\",
                                         "\\u00",
                                         "\\u0041",
                                         "u0041",
                                         "\"",
                                         "\",",
                                         "\"}",
                                         "x\"",
                                         "xy\", ",
                                         "\"abc",
                                         "\"\"",
                                         " \"",
                                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};

// Walks `text` byte by byte; at every step every token's mask bit must equal advance().
// Returns whether the text was accepted.
bool walk_all(const std::string &schema, const std::string &text) {
    static auto vocab = byte_vocab(kExtra);
    return walk_checking_every_token(vocab, schema, text);
}

} // namespace

TEST_CASE("counted strings: product automaton = regex automaton, recognised by bisimulation") {
    for (auto [lo, hi] : {std::pair{0, 0}, {0, 3}, {2, 2}, {3, 12}, {5, -1}, {0, -1}, {1, 40}}) {
        CAPTURE(lo);
        CAPTURE(hi);
        Dfa direct = counted_string_dfa(lo, hi, 40000, "maxLength", "");
        Re re = hi < 0 ? re_cat({re_rep(re_any_char(), lo, lo), re_rep(re_any_char(), 0, -1)})
                       : re_rep(re_any_char(), lo, hi);
        Dfa via_nfa = compile_re(re, ReMode::JsonString, "maxLength", "", 40000, true);
        auto a = counted_states(direct, 1 << 20), b = counted_states(via_nfa, 1 << 20);
        REQUIRE(!a.empty());
        REQUIRE(!b.empty());
        for (const auto &x : a) CHECK(x.b >= 0);
        for (const auto &x : b) CHECK(x.b >= 0);
        // Same bounds at the start: m, r after the opening quote.
        CHECK(a[direct.start].m == lo);
        CHECK(a[direct.start].r == (hi < 0 ? kUnbounded : hi));
        CHECK(b[via_nfa.start].m == lo);
        CHECK(b[via_nfa.start].r == (hi < 0 ? kUnbounded : hi));
    }
    // Not counted strings: a pattern, a literal, a number.
    for (const char *p : {"[a-z]{2,5}", "abc", "(ab)*"}) {
        CAPTURE(p);
        Dfa d = compile_re(parse_regex(p, false, "pattern", ""), ReMode::JsonString, "pattern", "",
                           20000, true);
        CHECK(counted_states(d, 1 << 20).empty());
    }
    CHECK(counted_states(dfa_literal("\"abc\""), 1 << 20).empty());
    CHECK(counted_states(dfa_literal("12"), 1 << 20).empty());
}

TEST_CASE("counted strings: masks agree with advance() on every token, at the bounds") {
    // maxLength 12 is well over the shared-key limit (64 DFA states): the profile path.
    const char *s =
        R"({"type":"object","properties":{"s":{"type":"string","minLength":3,"maxLength":12}},
                        "required":["s"],"additionalProperties":false})";
    CHECK(walk_all(s, R"({"s": "abc"})"));
    CHECK(walk_all(s, R"({"s": "abcdefghijkl"})"));
    CHECK(walk_all(s, R"({"s": "ééé\n\u0041\"\\xyza€"})")); // 12 characters
    CHECK_FALSE(walk_all(s, R"({"s": "ab"})"));
    CHECK_FALSE(walk_all(s, R"({"s": "é\n"})"));
    CHECK_FALSE(walk_all(s, R"({"s": "abcdefghijklm"})"));
    CHECK_FALSE(walk_all(s, R"({"s": "ééé\n\u0041\"\\xyza€x"})"));
    // Only a minimum: unbounded above.
    const char *mn = R"({"type":"array","items":{"type":"string","minLength":30}})";
    CHECK(walk_all(
        mn,
        R"(["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ééééééééééééééééééééééééééééééé"])"));
    CHECK_FALSE(walk_all(mn, R"(["aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"])"));
}
