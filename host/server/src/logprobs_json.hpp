// The `logprobs` objects of OpenAI responses, built from the provider's per-token reports
// (shared/reference/openai-wire.md §2, §6): chat {"content": [{token, logprob, bytes,
// top_logprobs}], "refusal": null}, legacy completions {tokens, token_logprobs, top_logprobs,
// text_offset}. A streamed chunk carries the entries of the tokens whose text it carries.
#pragma once

#include "backend.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace llmhost::server {

// `bytes` as UTF-8, each invalid or truncated sequence replaced by U+FFFD (as OpenAI shows a
// token that holds part of a character; its exact bytes go to "bytes").
std::string lossy_utf8(std::string_view bytes);

// Number of UTF-8 characters in `bytes` (bytes that are not continuation bytes).
std::size_t utf8_chars(std::string_view bytes);

class LogprobsBuilder {
public:
    // `chat`: the chat shape, else the legacy one; `text_offset`: characters before the first
    // token (the echoed prompt).
    LogprobsBuilder(bool chat, std::size_t text_offset = 0) : chat_(chat), offset_(text_offset) {}

    void add(const TokenLogprob &chosen, const std::vector<TokenLogprob> &top);
    bool empty() const { return entries_.empty(); }
    // The logprobs object of the tokens added since the last take(), and forgets them.
    nlohmann::json take();

private:
    bool chat_;
    std::size_t offset_;
    nlohmann::json entries_ = nlohmann::json::array(); // chat entries, or legacy rows
};

} // namespace llmhost::server
