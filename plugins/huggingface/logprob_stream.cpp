// Token bytes and the ordering of logprob reports (see logprob_stream.hpp).
#include "logprob_stream.hpp"

#include <vector>

namespace llmhost::hf {

namespace {

// GPT-2's bytes_to_unicode(): printable bytes stand for themselves, the others for U+0100 + n.
std::array<std::int16_t, 0x144> byte_level_inverse() {
    std::array<std::int16_t, 0x144> inv;
    inv.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        inv[printable ? b : 0x100 + n++] = static_cast<std::int16_t>(b);
    }
    return inv;
}

// Code points of valid UTF-8; false on anything else.
bool code_points(const std::string &s, std::vector<char32_t> &out) {
    out.clear();
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > s.size()) return false;
        char32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back(cp);
        i += len;
    }
    return true;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

} // namespace

TokenBytes::TokenBytes(const tok::Tokenizer &tokenizer) : tok_(tokenizer) {
    // Probe the vocabulary: byte-level BPE has "Ġ" (the space byte) decoding to " ".
    if (auto g = tok_.token_to_id("\xC4\xA0"); g && tok_.decode(std::vector<std::int32_t>{*g}) == " ") {
        kind_ = Kind::ByteLevel;
        byte_of_ = byte_level_inverse();
    } else if (tok_.token_to_id("\xE2\x96\x81") || tok_.token_to_id("<0x20>")) {
        kind_ = Kind::Metaspace; // "▁" and/or byte-fallback tokens
    }
}

std::string TokenBytes::operator()(std::int32_t id) const {
    const std::string piece = tok_.id_to_token(id);
    if (piece.empty() || tok_.is_special(id)) return piece;
    if (kind_ == Kind::ByteLevel) {
        std::vector<char32_t> cps;
        std::string out;
        if (!code_points(piece, cps)) return piece;
        for (char32_t cp : cps) {
            if (cp >= byte_of_.size() || byte_of_[cp] < 0) return piece; // an added token's text
            out.push_back(static_cast<char>(byte_of_[cp]));
        }
        return out;
    }
    if (kind_ == Kind::Metaspace) {
        if (piece.size() == 6 && piece.starts_with("<0x") && piece.back() == '>' &&
            hex(piece[3]) >= 0 && hex(piece[4]) >= 0)
            return std::string(1, static_cast<char>(hex(piece[3]) * 16 + hex(piece[4])));
        std::string out;
        for (std::size_t i = 0; i < piece.size();) {
            if (piece.compare(i, 3, "\xE2\x96\x81") == 0) {
                out.push_back(' ');
                i += 3;
            } else {
                out.push_back(piece[i++]);
            }
        }
        return out;
    }
    return tok_.decode(std::vector<std::int32_t>{id});
}

void LogprobStream::queue(const engine::TokenLogprobs &lp, std::size_t text_offset) {
    if (enabled_ && !stopped_) queue_.push_back({lp, text_offset});
}

void LogprobStream::before_emit(std::size_t end) {
    while (!queue_.empty() && queue_.front().offset < end) {
        Queued q = std::move(queue_.front());
        queue_.pop_front();
        report(q.lp);
    }
}

void LogprobStream::stop_at(std::size_t offset) {
    before_emit(offset);
    queue_.clear();
    stopped_ = true;
}

void LogprobStream::finish() {
    while (!queue_.empty()) {
        Queued q = std::move(queue_.front());
        queue_.pop_front();
        report(q.lp);
    }
}

void LogprobStream::report(const engine::TokenLogprobs &lp) {
    llmh::TokenLogprob chosen{bytes_(lp.id), lp.logprob};
    std::vector<llmh::TokenLogprob> top;
    top.reserve(lp.top.size());
    for (const auto &[id, logprob] : lp.top) top.push_back({bytes_(id), logprob});
    sink_.emit_logprob(chosen, top);
}

} // namespace llmhost::hf
