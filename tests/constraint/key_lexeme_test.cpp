// Member names of open objects ("any string but the declared names"): the automaton is recognised
// as the any-string automaton less those names, and the masks built from the any-string mask
// agree with advance() on every token at every step, for keys that are, start, extend or
// escape a declared name, and for tokens that close the key and go on.
#include "constraint_test_util.hpp"
#include "counted_string.hpp"
#include "key_lexeme.hpp"
#include "regex.hpp"

#include <doctest/doctest.h>

using namespace ctest_util;

namespace {

const std::vector<std::string> kExtra = {
    "id",    "\"id",     "id\"", "id\":", "\"id\":", "name",         "na",
    "names", "me\"",     "\"n",  "\",",   "\":",     "\": ",         "\"}",
    "x\":",  "\\u0069d", "é\"",  "\"\"",  "idx",     "\"name\": \"", "ids\":"};

bool walk_all(const std::string &schema, const std::string &text) {
    static auto vocab = byte_vocab(kExtra);
    return walk_checking_every_token(vocab, schema, text);
}

} // namespace

TEST_CASE("key lexemes: any string less names is recognised, nothing else is") {
    Dfa any = compile_re(re_rep(re_any_char(), 0, -1), ReMode::JsonString, "t", "", 20000, true);
    Dfa less = dfa_difference(any, dfa_literals({"\"id\"", "\"name\"", "\"na\""}), 200000, "t", "");
    KeyView kv = key_view(less);
    REQUIRE(kv.ok());
    int ends = 0;
    for (auto e : kv.name_end) ends += e;
    CHECK(ends == 3);
    CHECK(key_view(any).ok()); // no names: every state free
    CHECK_FALSE(key_view(compile_re(parse_regex("[a-z]+", false, "p", ""), ReMode::JsonString, "p",
                                    "", 20000, true))
                    .ok());
    CHECK_FALSE(key_view(dfa_literal("\"id\"")).ok());
    CHECK_FALSE(key_view(counted_string_dfa(0, 3, 1000, "t", "")).ok());
}

TEST_CASE("key lexemes: masks agree with advance() on every token") {
    const char *s =
        R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},
                        "na":{"type":"null"}},"additionalProperties":{"type":"boolean"}})";
    CHECK(walk_all(s, R"({"id": 1, "name": "x", "na": null})"));
    CHECK(walk_all(s, R"({"idx": true, "names": false, "n": true, "": false, "é": true})"));
    CHECK(walk_all(s, R"({"\u0078y": true})")); // escaped spelling of an undeclared name
    CHECK_FALSE(walk_all(s, R"({"id": true})"));
    CHECK_FALSE(walk_all(s, R"({"na": true})"));
    CHECK_FALSE(walk_all(s, R"({"name": 1})"));
    CHECK_FALSE(walk_all(s, R"({"other": 1})"));
}
