#include "constraint_test_util.hpp"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

namespace ctest_util {

std::shared_ptr<const TokenVocabulary> byte_vocab(const std::vector<std::string> &extra) {
    std::vector<std::string> t;
    for (int b = 0; b < 256; ++b) t.push_back(std::string(1, static_cast<char>(b)));
    for (const auto &e : extra) t.push_back(e);
    t.push_back("<eos>");
    int32_t eos = static_cast<int32_t>(t.size() - 1);
    return std::make_shared<const TokenVocabulary>(std::move(t), std::vector<int32_t>{eos});
}

int32_t eos_of(const TokenVocabulary &v) { return v.eos_ids().at(0); }

bool accepts(const std::shared_ptr<const Grammar> &g, const std::string &text) {
    static auto vocab = byte_vocab();
    auto c = Constraint::create(g, vocab);
    Matcher m(c);
    std::vector<uint32_t> mask(mask_words(vocab->size()));
    for (char ch : text) {
        const int32_t id = static_cast<uint8_t>(ch);
        m.fill_mask(mask);
        const bool in_mask = mask_test(mask, id);
        const bool ok = m.advance(id);
        REQUIRE(in_mask == ok); // the mask and advance() must agree
        if (!ok) return false;
    }
    m.fill_mask(mask);
    const int32_t eos = eos_of(*vocab);
    REQUIRE(mask_test(mask, eos) == m.is_accepting());
    if (!m.is_accepting()) return false;
    REQUIRE(m.min_bytes_to_accept() == 0);
    REQUIRE(m.advance(eos));
    REQUIRE(m.is_terminated());
    return true;
}

bool schema_accepts(const std::string &schema, const std::string &instance,
                    const JsonSchemaOptions &o) {
    return accepts(Grammar::from_json_schema(schema, o), instance);
}

bool walk_checking_every_token(const std::shared_ptr<const TokenVocabulary> &vocab,
                               const std::string &schema, const std::string &text) {
    auto c = Constraint::create(Grammar::from_json_schema(schema), vocab);
    Matcher m(c);
    std::vector<uint32_t> mask(mask_words(vocab->size()));
    auto check_all = [&] {
        m.fill_mask(mask);
        for (int32_t id = 0; id < static_cast<int32_t>(vocab->size()); ++id) {
            if (vocab->is_eos(id)) continue;
            const bool adv = m.advance(id);
            if (adv) m.rollback(1);
            CAPTURE(schema);
            CAPTURE(text);
            CAPTURE(vocab->token_bytes(id));
            REQUIRE(mask_test(mask, id) == adv);
        }
    };
    for (char ch : text) {
        check_all();
        if (!m.advance(static_cast<uint8_t>(ch))) return false;
    }
    check_all();
    return m.is_accepting();
}

} // namespace ctest_util
