#include "logprobs_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace llmhost::server {
namespace {

using nlohmann::json;

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid or truncated; `consumed`
// is how many bytes one U+FFFD replaces (the maximal invalid prefix, at least 1).
std::size_t valid_sequence(std::string_view s, std::size_t i, std::size_t &consumed) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4)) return consumed = 1, 0;
    std::size_t k = 1;
    for (; k < len && i + k < s.size(); ++k) {
        const unsigned char n = b(i + k);
        bool ok = (n & 0xC0) == 0x80;
        if (k == 1 && c == 0xE0) ok = ok && n >= 0xA0; // overlong
        if (k == 1 && c == 0xED) ok = ok && n < 0xA0;  // surrogates
        if (k == 1 && c == 0xF0) ok = ok && n >= 0x90;
        if (k == 1 && c == 0xF4) ok = ok && n < 0x90;
        if (!ok) break;
    }
    if (k == len) return consumed = len, len;
    return consumed = k, 0;
}

json byte_values(std::string_view bytes) {
    json a = json::array();
    for (unsigned char c : bytes) a.push_back(static_cast<int>(c));
    return a;
}

// float -> JSON number without float noise (-0.1f, not -0.10000000149011612); -inf (a token of
// probability 0) becomes OpenAI's -9999.0, since JSON has no infinities.
json number(float f) {
    if (!std::isfinite(f)) return -9999.0;
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf - 1, f);
    *r.ptr = '\0';
    return std::strtod(buf, nullptr);
}

} // namespace

std::string lossy_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size();) {
        std::size_t consumed = 1;
        if (std::size_t n = valid_sequence(bytes, i, consumed))
            out.append(bytes.substr(i, n));
        else
            out.append("\xEF\xBF\xBD");
        i += consumed;
    }
    return out;
}

std::size_t utf8_chars(std::string_view bytes) {
    std::size_t n = 0;
    for (unsigned char c : bytes) n += (c & 0xC0) != 0x80;
    return n;
}

void LogprobsBuilder::add(const TokenLogprob &chosen, const std::vector<TokenLogprob> &top) {
    if (chat_) {
        json alternatives = json::array();
        for (const auto &t : top)
            alternatives.push_back({{"token", lossy_utf8(t.token)},
                                    {"logprob", number(t.logprob)},
                                    {"bytes", byte_values(t.token)}});
        entries_.push_back({{"token", lossy_utf8(chosen.token)},
                            {"logprob", number(chosen.logprob)},
                            {"bytes", byte_values(chosen.token)},
                            {"top_logprobs", std::move(alternatives)}});
        return;
    }
    json alternatives = json::object();
    for (const auto &t : top) {
        auto key = lossy_utf8(t.token);
        if (!alternatives.contains(key)) alternatives[key] = number(t.logprob); // most likely first
    }
    entries_.push_back({{"token", lossy_utf8(chosen.token)},
                        {"logprob", number(chosen.logprob)},
                        {"top", std::move(alternatives)},
                        {"offset", offset_}});
    offset_ += utf8_chars(chosen.token);
}

json LogprobsBuilder::take() {
    json out;
    if (chat_) {
        out = {{"content", std::move(entries_)}, {"refusal", nullptr}};
    } else {
        json tokens = json::array(), lps = json::array(), tops = json::array(),
             offsets = json::array();
        for (auto &e : entries_) {
            tokens.push_back(std::move(e["token"]));
            lps.push_back(std::move(e["logprob"]));
            tops.push_back(std::move(e["top"]));
            offsets.push_back(std::move(e["offset"]));
        }
        out = {{"tokens", std::move(tokens)},
               {"token_logprobs", std::move(lps)},
               {"top_logprobs", std::move(tops)},
               {"text_offset", std::move(offsets)}};
    }
    entries_ = json::array();
    return out;
}

} // namespace llmhost::server
