// The text side of logprobs: each token's raw bytes, and WHEN to report a token's logprobs so
// that the order the ABI promises holds with the stream decoder and stop strings.
//
// Ordering. A token's text may be held back — by the StreamDecoder (half a UTF-8 character) or
// by the StopStringMatcher (text that could begin a stop string). Each token is queued with the
// offset in the decoded text where its text starts; before each text event the queued tokens
// whose text starts before the end of `text` are reported, so a token's logprob always precedes
// the first emit carrying its text. When a stop string matches at offset S, the tokens starting
// before S are reported and those starting at or after S (whose text is all inside the stop
// string, or beyond it) are dropped: the ABI does not report tokens consumed by a stop string.
// A token that yields no text (a skipped special token) goes out with the next emit, or at the
// end. eos is never passed here (the engine does not report it).
#pragma once

#include <llmhost/engine/logprobs.hpp>
#include <llmhost/plugin.hpp>
#include <llmhost/tokenizer/tokenizer.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <string>

namespace llmhost::hf {

// Raw bytes of one token id, from the tokenizer's public API: byte-level BPE (GPT-2, Llama-3,
// Qwen) maps each character of the vocabulary string back to its byte, so a token holding half a
// UTF-8 character gives those bytes (not U+FFFD); metaspace vocabularies (Llama-2, Gemma) turn
// "▁" into a space and byte-fallback "<0xNN>" into the byte; special tokens give their content.
class TokenBytes {
public:
    explicit TokenBytes(const tok::Tokenizer &tokenizer);
    std::string operator()(std::int32_t id) const;

private:
    enum class Kind { ByteLevel, Metaspace, Other };
    const tok::Tokenizer &tok_;
    Kind kind_ = Kind::Other;
    std::array<std::int16_t, 0x144> byte_of_{}; // byte-level alphabet code point -> byte, or -1
};

class LogprobStream {
public:
    LogprobStream(llmh::EventSink &sink, const TokenBytes &bytes, bool enabled)
        : sink_(sink), bytes_(bytes), enabled_(enabled) {}
    // The token's text starts at `text_offset` of the decoded text (bytes out of the decoder).
    void queue(const engine::TokenLogprobs &lp, std::size_t text_offset);
    // Before emitting text that ends at offset `end` of the decoded text.
    void before_emit(std::size_t end);
    // A stop string starts at `offset`: report what precedes it, drop the rest for good.
    void stop_at(std::size_t offset);
    // End of generation without a stop string: report everything left.
    void finish();

private:
    struct Queued {
        engine::TokenLogprobs lp;
        std::size_t offset;
    };
    void report(const engine::TokenLogprobs &lp);

    llmh::EventSink &sink_;
    const TokenBytes &bytes_;
    bool enabled_;
    bool stopped_ = false;
    std::deque<Queued> queue_;
};

} // namespace llmhost::hf
