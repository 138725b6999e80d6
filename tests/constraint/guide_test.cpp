// Guide: budget-aware closing (output under a budget always completes), the refusal of tokens
// that would not leave room to finish, and fast-forward of forced tokens.
#include "constraint_test_util.hpp"

#include "llmhost/constraint/guide.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <random>

using namespace ctest_util;

namespace {

const char *kPerson = R"({"type":"object","properties":{
  "name":{"type":"string","minLength":3},
  "tags":{"type":"array","items":{"type":"string"},"minItems":1},
  "address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"integer","minimum":10000,"maximum":99999}},"required":["city","zip"]},
  "ok":{"type":"boolean"}},
  "required":["name","tags","address"],"additionalProperties":false})";

std::vector<std::string> json_pieces() {
    return {"{\"",     "\": ",          "\", \"", "\"}",  "}}",    "]}",     "name",    "tags",
            "address", "city",          "zip",    "true", "false", "\": \"", "\": [\"", "\"]",
            "abc",     " the",          " a",     "123",  "99",    "\\n",    "\\u00",   "   ",
            "\n\n",    "{\"city\": \"", "ok"};
}

struct Walk {
    std::string out;
    std::size_t used = 0;
    bool eos = false;
};

// A "model" that samples uniformly among the allowed ids: the worst case for closing (it never
// closes a string by itself).
Walk random_walk(const std::shared_ptr<const Constraint> &c, std::size_t budget,
                 std::uint64_t seed) {
    Guide g(c);
    const TokenVocabulary &v = c->vocabulary();
    std::vector<uint32_t> mask(mask_words(v.size()));
    std::mt19937_64 rng(seed);
    Walk w;
    std::size_t r = budget;
    while (r > 0) {
        REQUIRE(g.fill_mask(mask, r) > 0);
        std::vector<int32_t> allowed;
        for (std::size_t id = 0; id < v.size(); ++id)
            if (mask_test(mask, static_cast<int32_t>(id)))
                allowed.push_back(static_cast<int32_t>(id));
        int32_t id = -1;
        for (int tries = 0; !allowed.empty() && tries < 8; ++tries) {
            const std::size_t k = rng() % allowed.size();
            if (g.commit(allowed[k], r)) {
                id = allowed[k];
                break;
            }
            allowed.erase(allowed.begin() + static_cast<std::ptrdiff_t>(k)); // refused: never again
        }
        if (id < 0) {
            id = g.close(r);
            REQUIRE(id >= 0);
            REQUIRE(g.commit(id, r));
        }
        ++w.used;
        --r;
        if (v.is_eos(id)) {
            w.eos = true;
            break;
        }
        w.out += v.token_bytes(id);
        for (int32_t f : g.forced(r)) {
            w.out += v.token_bytes(f);
            ++w.used;
            --r;
        }
    }
    CHECK(g.is_accepting());
    return w;
}

} // namespace

TEST_CASE("guide: a uniform random walk always ends in valid JSON within the budget") {
    auto vocab = byte_vocab(json_pieces());
    auto c = Constraint::create(Grammar::from_json_schema(kPerson), vocab);
    const std::size_t least = Guide(c).min_tokens();
    REQUIRE(least > 10);
    REQUIRE(least != Guide::kNoBound);
    int cut = 0;
    for (std::uint64_t seed = 0; seed < 150; ++seed) {
        const std::size_t budget = least + seed % 60;
        Walk w = random_walk(c, budget, seed);
        CAPTURE(seed);
        CAPTURE(budget);
        CAPTURE(w.out);
        CHECK(w.used <= budget);
        nlohmann::json j = nlohmann::json::parse(w.out); // throws (test fails) if it does not parse
        CHECK(j.at("name").get<std::string>().size() >= 3);
        CHECK(j.at("tags").size() >= 1);
        const int zip = j.at("address").at("zip").get<int>();
        CHECK(zip >= 10000);
        CHECK(zip <= 99999);
        if (!w.eos) ++cut;
    }
    CHECK(cut > 100); // the random walk rarely stops by itself: closing did the work
}

TEST_CASE("guide: a budget of exactly min_tokens() closes at once and completes") {
    auto vocab = byte_vocab(json_pieces());
    auto c = Constraint::create(Grammar::from_json_schema(kPerson), vocab);
    const std::size_t least = Guide(c).min_tokens();
    Walk w = random_walk(c, least, 7);
    CHECK(w.used == least);
    CHECK(nlohmann::json::accept(w.out));
}

TEST_CASE("guide: commit refuses a token that leaves no room to finish, state unchanged") {
    auto vocab = byte_vocab({"[[[["});
    auto c =
        Constraint::create(Grammar::from_json_schema(
                               R"({"type":"array","items":{"type":"array","items":{}}})",
                               {.compact = true, .max_whitespace = 64, .prefix = {}, .suffix = {}}),
                           vocab);
    Guide g(c);
    const int32_t deep = static_cast<int32_t>(vocab->size()) - 2; // "[[[[" (last id is EOS)
    REQUIRE(vocab->token_bytes(deep) == "[[[[");
    // "[[[[" needs "]]]]" (4 more tokens) to close: 5 tokens of budget are enough, 4 are not.
    CHECK_FALSE(g.commit(deep, 4));
    CHECK(g.matcher().count() == 0);
    CHECK(g.commit(deep, 5));
    CHECK(g.min_tokens() == 4);
}

TEST_CASE("guide: forced() fast-forwards the bytes every continuation starts with") {
    auto vocab = byte_vocab({"{\"", "name", "\":", "\":\"", "na"});
    auto c = Constraint::create(
        Grammar::from_json_schema(
            R"({"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false})",
            {.compact = true, .max_whitespace = 0, .prefix = {}, .suffix = {}}),
        vocab);
    Guide g(c);
    std::vector<uint32_t> mask(mask_words(vocab->size()));
    REQUIRE(g.fill_mask(mask, 100) > 0);
    const int32_t open = 256; // {"
    REQUIRE(g.commit(open, 100));
    CHECK(g.matcher().forced_bytes() == "name\":\"");
    // Forced: name":" -> greedy "name", "\":\"" minus the last (a longer token could cover it).
    const auto f = g.forced(99);
    std::string spelled;
    for (int32_t id : f) spelled += vocab->token_bytes(id);
    CHECK(spelled == "name");
    CHECK(g.matcher().count() == 2);
    // The budget bounds fast-forward too.
    Guide h(c);
    REQUIRE(h.commit(open, 100));
    CHECK(h.forced(0).empty());
}

TEST_CASE("guide: away from the budget the mask is the matcher's") {
    auto vocab = byte_vocab(json_pieces());
    auto c = Constraint::create(Grammar::from_json_schema(kPerson), vocab);
    Guide g(c);
    Matcher m(c);
    std::vector<uint32_t> a(mask_words(vocab->size())), b(a.size());
    CHECK(g.fill_mask(a, 10000) == m.fill_mask(b));
    CHECK(a == b);
    CHECK_FALSE(g.is_closing());
}

TEST_CASE("guide: a vocabulary that cannot spell the completion has no bound") {
    // Only "a" and "{}" as tokens: the shortest completion of an object with a required key
    // needs '"', which no token spells.
    auto vocab = std::make_shared<const TokenVocabulary>(
        std::vector<std::string>{"a", "{}", "{", ""}, std::vector<int32_t>{3});
    auto c = Constraint::create(
        Grammar::from_json_schema(
            R"({"type":"object","properties":{"k":{"type":"string"}},"required":["k"]})",
            {.compact = true, .max_whitespace = 64, .prefix = {}, .suffix = {}}),
        vocab);
    Guide g(c);
    CHECK(g.min_tokens() == Guide::kNoBound);
    std::vector<uint32_t> mask(mask_words(vocab->size()));
    CHECK(g.fill_mask(mask, 1) == 1); // "{" only; no closing plan exists, masks still apply
    CHECK(mask_test(mask, 2));
}
