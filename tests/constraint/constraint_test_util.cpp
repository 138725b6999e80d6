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

} // namespace ctest_util
