// StreamDecoder: what it emits is always whole UTF-8 characters, and all of it together is the
// full decode.
#include <doctest/doctest.h>

#include "test_support.hpp"

using llmhost::tok::StreamDecoder;

namespace {
bool valid_utf8(const std::string &s) {
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}
} // namespace

TEST_CASE("streaming decode never emits half a character and adds up to decode()") {
    auto lines = tok_test::corpus_lines();
    for (const auto &name : tok_test::model_names()) {
        CAPTURE(name);
        auto tok = tok_test::load_model(name);
        if (!tok) continue;
        for (std::size_t i = 0; i < lines.size(); i += 4) {
            CAPTURE(lines[i]);
            auto ids = tok->encode(lines[i], true);
            for (bool skip : {false, true}) {
                StreamDecoder stream(*tok, skip);
                std::string all;
                for (int32_t id : ids) {
                    std::string piece = stream.push(id);
                    CHECK(valid_utf8(piece));
                    all += piece;
                }
                all += stream.flush();
                CHECK(all == tok->decode(ids, skip));
            }
        }
    }
}

// One character split over several tokens (<0xNN> byte tokens in llama2, byte-level pieces in
// llama3): nothing is emitted until its last byte arrives.
TEST_CASE("pieces of one character are held back until it is complete") {
    for (const char *name : {"llama2", "llama3"}) {
        CAPTURE(std::string(name));
        auto tok = tok_test::load_model(name);
        if (!tok) continue;
        const std::string rare = "\xF0\xA0\x9C\x8E"; // U+2070E, a rare CJK ideograph
        auto ids = tok->encode(rare, false);
        REQUIRE(ids.size() >= 2);
        StreamDecoder stream(*tok);
        std::string emitted;
        for (std::size_t i = 0; i + 1 < ids.size(); ++i) emitted += stream.push(ids[i]);
        CHECK(emitted.find('\xF0') == std::string::npos);
        emitted += stream.push(ids.back());
        CHECK(emitted.find(rare) != std::string::npos);
        CHECK(stream.flush().empty());
    }
}
