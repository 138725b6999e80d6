#include "constraint_test_util.hpp"

#include <doctest/doctest.h>

using namespace ctest_util;

TEST_CASE("gbnf: llama.cpp syntax with rules, groups, repetition and comments") {
    auto g = Grammar::from_gbnf(R"(# a list of answers
root   ::= "answer: " item ("," ws item)* "."
item   ::= [a-z]+ | num
num    ::= "-"? [0-9]{1,3}
ws     ::= [ \t]*
)");
    CHECK(accepts(g, "answer: yes."));
    CHECK(accepts(g, "answer: a, -12,b,\t999."));
    CHECK_FALSE(accepts(g, "answer: 1234."));
    CHECK_FALSE(accepts(g, "answer: yes"));
    CHECK_FALSE(accepts(g, "answer: ."));
}

TEST_CASE("gbnf: rules spanning lines, escapes, nested groups, recursion") {
    auto g = Grammar::from_gbnf("root ::= expr\n"
                                "expr ::= term (\n  (\"+\" | \"-\") term\n)*\n"
                                "term ::= [0-9]+ | \"(\" expr \")\"\n"
                                "nl ::= \"\\n\" | \"\\x41\"\n");
    CHECK(accepts(g, "1+(2-(3+4))"));
    CHECK_FALSE(accepts(g, "1+(2"));
    CHECK_FALSE(accepts(g, "1++2"));
}

TEST_CASE("gbnf: errors name the line and column") {
    try {
        Grammar::from_gbnf("root ::= a\n");
        FAIL("expected an error");
    } catch (const CompileError &e) {
        CHECK(e.keyword() == "gbnf");
        CHECK(std::string(e.what()).find("undefined rule 'a'") != std::string::npos);
    }
    CHECK_THROWS_AS(Grammar::from_gbnf("root ::= \"a"), CompileError);
    CHECK_THROWS_AS(Grammar::from_gbnf("root ::= [a-"), CompileError);
    CHECK_THROWS_AS(Grammar::from_gbnf("x ::= \"a\""), CompileError); // no root
    CHECK_THROWS_AS(Grammar::from_gbnf("root ::= root \"a\" | \"b\""),
                    CompileError);                                            // left recursion
    CHECK_THROWS_AS(Grammar::from_gbnf("root ::= \"a\" root"), CompileError); // no base case
}
