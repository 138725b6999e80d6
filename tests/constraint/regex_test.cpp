#include "constraint_test_util.hpp"

#include <doctest/doctest.h>

using namespace ctest_util;

TEST_CASE("regex: literals, classes, alternation, repetition") {
    auto g = Grammar::from_regex("ab[0-9]+(x|yz)?");
    CHECK(accepts(g, "ab1"));
    CHECK(accepts(g, "ab123x"));
    CHECK(accepts(g, "ab9yz"));
    CHECK_FALSE(accepts(g, "ab"));
    CHECK_FALSE(accepts(g, "ab1y"));
    CHECK_FALSE(accepts(g, "xab1"));
    auto counted = Grammar::from_regex("a{2,3}");
    CHECK_FALSE(accepts(counted, "a"));
    CHECK(accepts(counted, "aa"));
    CHECK(accepts(counted, "aaa"));
    CHECK_FALSE(accepts(counted, "aaaa"));
}

TEST_CASE("regex: escapes, negated classes and UTF-8") {
    auto g = Grammar::from_regex("\\d{3}-[^a-z]\\.\\w+");
    CHECK(accepts(g, "123-Z.ab_9"));
    CHECK_FALSE(accepts(g, "123-z.ab"));
    auto u = Grammar::from_regex("[α-ω]+€");
    CHECK(accepts(u, "αβγ€"));
    CHECK_FALSE(accepts(u, "abc€"));
    // A partial multi-byte character is not accepting, and invalid UTF-8 is refused.
    CHECK_FALSE(accepts(u, "\xCE"));
    CHECK_FALSE(accepts(u, "\xCE\x41€"));
    auto dot = Grammar::from_regex(".");
    CHECK(accepts(dot, "é"));
    CHECK_FALSE(accepts(dot, "\n"));
}

TEST_CASE("regex: unsupported and invalid patterns are compile errors") {
    for (const char *bad :
         {"(a", "a)", "[a-", "a{3,1}", "(?=a)", "\\1", "a\\b", "*a", "\\p{L}", "a^b"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(Grammar::from_regex(bad), CompileError);
    }
}
