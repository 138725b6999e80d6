// Matcher mechanics: multi-byte tokens in the mask, rollback, EOS, forced bytes, shortest
// completion.
#include "constraint_test_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace ctest_util;

namespace {
int32_t id_of(const TokenVocabulary &v, const std::string &bytes) {
    for (std::size_t i = 256; i < v.size(); ++i)
        if (v.token_bytes(static_cast<int32_t>(i)) == bytes) return static_cast<int32_t>(i);
    FAIL("no token " << bytes);
    return -1;
}
} // namespace

TEST_CASE(
    "matcher: the mask holds exactly the tokens advance() takes, multi-byte tokens included") {
    auto vocab = byte_vocab({"{\"", "\": ", "\", \"", "true", "tru", "e}", "}", "\"}", "ab",
                             "abc\"", "1,", "12", "\"x\": 1}"});
    auto g = Grammar::from_json_schema(
        R"({"type":"object","properties":{"ab":{"type":"boolean"},"x":{"type":"integer"}},"required":["ab"],"additionalProperties":false})");
    auto c = Constraint::create(g, vocab);
    Matcher m(c);
    std::vector<uint32_t> mask(mask_words(vocab->size()));
    // Walk {"ab": true, "x": 12} in tokens, checking every vocabulary token against advance().
    std::vector<std::string> script = {"{\"", "ab", "\": ", "tru", "e", ",",  " ",
                                       "\"",  "x",  "\"",   ":",   " ", "12", "}"};
    for (const auto &piece : script) {
        m.fill_mask(mask);
        for (std::size_t id = 0; id < vocab->size(); ++id) {
            const bool allowed = mask_test(mask, static_cast<int32_t>(id));
            const bool ok = m.advance(static_cast<int32_t>(id));
            CAPTURE(piece);
            CAPTURE(vocab->token_bytes(static_cast<int32_t>(id)));
            CHECK(allowed == ok);
            if (ok) m.rollback(1);
        }
        int32_t id = piece.size() == 1 ? static_cast<uint8_t>(piece[0]) : id_of(*vocab, piece);
        REQUIRE(m.advance(id));
    }
    CHECK(m.is_accepting());
    m.fill_mask(mask);
    CHECK(mask_test(mask, eos_of(*vocab)));
    CHECK(std::count_if(mask.begin(), mask.end(), [](uint32_t w) { return w != 0; }) >= 1);
}

TEST_CASE("matcher: EOS only when accepting, nothing after EOS") {
    auto vocab = byte_vocab();
    auto c = Constraint::create(Grammar::from_regex("ab?"), vocab);
    Matcher m(c);
    const int32_t eos = eos_of(*vocab);
    CHECK_FALSE(m.advance(eos));
    REQUIRE(m.advance('a'));
    CHECK(m.is_accepting());
    CHECK(m.advance(eos));
    CHECK(m.is_terminated());
    CHECK_FALSE(m.advance('b'));
    std::vector<uint32_t> mask(mask_words(vocab->size()));
    CHECK(m.fill_mask(mask) == 0);
    m.rollback(1);
    CHECK(m.advance('b'));
    CHECK_FALSE(m.advance('b'));
    CHECK_FALSE(m.advance(-1));
    CHECK_FALSE(m.advance(static_cast<int32_t>(vocab->size())));
}

TEST_CASE("matcher: rollback restores earlier states exactly") {
    auto vocab = byte_vocab();
    auto c = Constraint::create(
        Grammar::from_json_schema(R"({"type":"array","items":{"type":"integer"},"maxItems":2})"),
        vocab);
    Matcher m(c);
    std::vector<uint32_t> a(mask_words(vocab->size())), b(mask_words(vocab->size()));
    REQUIRE(m.advance('['));
    m.fill_mask(a);
    for (char ch : std::string("1, 2")) REQUIRE(m.advance(static_cast<uint8_t>(ch)));
    CHECK(m.count() == 5);
    CHECK_FALSE(m.advance(',')); // maxItems 2
    m.rollback(4);
    CHECK(m.count() == 1);
    m.fill_mask(b);
    CHECK(a == b);
    m.rollback(100);
    CHECK(m.count() == 0);
    CHECK(m.advance('['));
    m.reset();
    CHECK(m.count() == 0);
}

TEST_CASE("matcher: forced bytes, min bytes to accept, shortest completion") {
    auto vocab = byte_vocab();
    auto g = Grammar::from_json_schema(
        R"({"type":"object","properties":{"name":{"type":"string","minLength":2},"n":{"type":"integer"}},"required":["name","n"],"additionalProperties":false})");
    JsonSchemaOptions compact;
    compact.compact = true;
    auto gc = Grammar::from_json_schema(
        R"({"type":"object","properties":{"name":{"type":"string","minLength":2},"n":{"type":"integer"}},"required":["name","n"],"additionalProperties":false})",
        compact);
    CHECK(gc->min_output_bytes() == std::string(R"({"name":"xx","n":0})").size());
    Matcher m(Constraint::create(gc, vocab));
    CHECK(m.forced_bytes() == "{\"n"); // "name" or "n": members come in any order
    CHECK(m.advance_bytes("{\"name\":\"a"));
    CHECK(m.min_bytes_to_accept() == std::string("x\",\"n\":0}").size());
    const std::string rest = m.shortest_completion();
    CHECK(rest.size() == m.min_bytes_to_accept());
    CHECK(m.advance_bytes(rest));
    CHECK(m.is_accepting());
    // The non-compact grammar's shortest path takes no optional whitespace either.
    Matcher w(Constraint::create(g, vocab));
    CHECK(w.min_bytes_to_accept() == g->min_output_bytes());
    const std::string all = w.shortest_completion();
    CHECK(all.size() == g->min_output_bytes());
    CHECK(w.advance_bytes(all));
    CHECK(w.is_accepting());
}

TEST_CASE("matcher: a constraint is shared by many matchers") {
    auto vocab = byte_vocab();
    auto c = Constraint::create(Grammar::from_regex("[0-9]+"), vocab);
    std::vector<Matcher> ms;
    for (int i = 0; i < 8; ++i) ms.emplace_back(c);
    for (int i = 0; i < 8; ++i)
        for (int k = 0; k <= i; ++k) REQUIRE(ms[i].advance('0' + k));
    for (int i = 0; i < 8; ++i) CHECK(ms[i].count() == static_cast<std::size_t>(i + 1));
}

TEST_CASE("matcher: inside strings, the mask agrees with advance() on UTF-8 tokens, broken ones "
          "included") {
    // Whole characters, characters cut short, and invalid sequences (overlong, surrogate, past
    // U+10FFFF, stray continuation bytes), behind ASCII and after the closing quote: the lexeme
    // masks take whole subtrees of such tokens at once, and must take exactly these.
    auto vocab = byte_vocab(
        {"\xC3\xA9", "a\xC3\xA9", "ab\xC3\xA9z", "\xE4\xB8\xAD", "\xE4\xB8\xAD\xE6\x96\x87",
         "\xE4\xB8\xAD\xE6\x96", "\xE4\xB8", "\xE4\xB8\xAD\"", "\xE4\xB8\xAD\xC0\x80",
         "\xE4\xB8\xAD\x80", "\xC0\x80", "\xED\xA0\x80", "\xED\x9F\xBF", "\xF4\x90\x80\x80",
         "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80x", "a\x80", "ab\xE4\xB8\xAD\"}", "\xC3\xA9\"",
         "\xC3\xA9\\n", "\xE4\xB8\xAD\x01", "zz\xE2\x82\xAC",
         // Under q, w, v, k: nothing but ASCII and one bad sequence each.
         "q\xC3\xA9", "q\x80", "w\xE4\xB8\xAD", "w\xED\xA0\x80", "v\xF0\x9F\x98\x80",
         "v\xF4\x90\x80\x80", "kk\xC3\xA9", "k\xC0\x80", "jj\xE4\xB8\xADj"});
    const char *schemas[] = {
        R"({"type":"string"})",
        R"({"type":"string","maxLength":3})",
        R"({"type":"string","pattern":"^[a-z\u00e9\u4e2d]*$"})",
        R"({"type":"object","properties":{"k":{"type":"string"}},"required":["k"]})",
    };
    for (const char *schema : schemas) {
        CAPTURE(schema);
        auto c = Constraint::create(Grammar::from_json_schema(schema), vocab);
        Matcher m(c);
        std::vector<uint32_t> mask(mask_words(vocab->size()));
        const std::string prefix = schema[9] == 'o' ? "{\"k\": \"" : "\"";
        for (std::size_t step = 0; step <= prefix.size() + 1; ++step) {
            m.fill_mask(mask);
            for (std::size_t id = 0; id < vocab->size(); ++id) {
                const bool allowed = mask_test(mask, static_cast<int32_t>(id));
                const bool ok = m.advance(static_cast<int32_t>(id));
                CAPTURE(step);
                CAPTURE(vocab->token_bytes(static_cast<int32_t>(id)));
                CHECK(allowed == ok);
                if (ok) m.rollback(1);
            }
            // Into the string, then one character further in.
            const uint8_t next = step < prefix.size() ? static_cast<uint8_t>(prefix[step]) : 'a';
            if (!m.advance(next)) break;
        }
    }
}
