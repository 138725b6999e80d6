// The OpenAI wire format as the plugin speaks it (shared/reference/openai-wire.md §1-3, §6):
// request bodies built from an llmh::Request, and the decoding of responses, streamed chunks and
// model lists. Pure functions over JSON text: no I/O, so every rule here is unit-tested.
#pragma once

#include "sse_parser.hpp"

#include <llmhost/plugin.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::openai {

struct Usage {
    uint32_t prompt_tokens = 0;
    uint32_t completion_tokens = 0;
};

// One token's logprob and its alternatives, as the upstream reported it (ABI 1.1 on_logprob).
struct TokenLogprobs {
    llmh::TokenLogprob chosen;
    std::vector<llmh::TokenLogprob> top;
};

// `chat`: POST /chat/completions with messages; otherwise the legacy POST /completions.
// logprobs/top_logprobs and response_format are passed on (chat: logprobs + top_logprobs; legacy:
// logprobs = the number of alternatives); response_format on the legacy endpoint is refused.
std::string build_request_body(const llmh::Request &request, const std::string &model, bool chat,
                               bool stream);

// "stop" -> STOP, "length" -> LENGTH, "content_filter"/"tool_calls" -> STOP, null -> NONE.
llmh_finish_reason map_finish_reason(std::string_view reason);

// What one streamed event carries.
struct StreamDelta {
    bool done = false;      // data: [DONE]
    std::string content;    // text to emit (may be empty)
    llmh_finish_reason finish = LLMH_FINISH_NONE;
    std::optional<Usage> usage;
    std::vector<TokenLogprobs> logprobs; // the tokens of `content`, when the endpoint sent them
    bool has_logprobs = false;           // a non-null logprobs object came with the choice
};

// Decodes one event of a streamed response. Throws llmh::Error on `event: error`, an `error`
// object in the data, or data that is not JSON (what the SDKs do: the stream is aborted).
StreamDelta decode_stream_event(const SseEvent &event, bool chat);

struct FullResponse {
    std::string text;
    llmh_finish_reason finish = LLMH_FINISH_NONE;
    std::optional<Usage> usage;
    std::vector<TokenLogprobs> logprobs;
    bool has_logprobs = false;
};

// Decodes a non-streamed 200 body. Throws llmh::Error when it is not a completion.
FullResponse decode_response(std::string_view body, bool chat);

// Decodes GET /models. Throws llmh::Error when it is not a model list.
std::vector<llmh::ModelInfo> decode_models(std::string_view body);

// The `error.message` (and code) of an OpenAI error envelope, or the first 200 bytes of a body
// that is not one; never more than 300 bytes.
struct ErrorInfo {
    std::string message;
    std::string code; // "" when absent
    std::string type; // "" when absent
};
ErrorInfo decode_error_body(std::string_view body);

} // namespace llmhost::openai
