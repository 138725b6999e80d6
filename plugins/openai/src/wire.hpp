// The OpenAI wire format as the plugin speaks it (shared/reference/openai-wire.md §1-3, §6):
// request bodies built from an llmh::Request (wire_request.cpp), and the decoding of responses,
// streamed chunks and model lists (wire.cpp). Pure functions over JSON text: no I/O, so every rule
// here is unit-tested.
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
    uint32_t completion_tokens = 0; // reasoning included (OpenAI's rule)
    uint32_t reasoning_tokens = 0;  // completion_tokens_details.reasoning_tokens
    uint32_t cached_tokens =
        0; // prompt_tokens_details.cached_tokens (DeepSeek: prompt_cache_hit_tokens)
};

// One entry of a `tool_calls` array as the endpoint sent it: in a stream a fragment (the first one
// of a call usually has index, id and name; later ones index and a piece of the arguments), in a
// non-streamed message a whole call. Only the JSON types are checked here; ToolCallAssembler
// checks the index range, the order and the sizes.
struct ToolCallFragment {
    std::optional<int64_t> index; // nullopt when absent (non-streamed messages, some servers)
    std::optional<std::string> id;
    std::optional<std::string> name;
    std::string arguments; // a piece of the JSON arguments text; may be empty
};

// One token's logprob and its alternatives, as the upstream reported it (ABI 1.1 on_logprob).
struct TokenLogprobs {
    llmh::TokenLogprob chosen;
    std::vector<llmh::TokenLogprob> top;
};

// `chat`: POST /chat/completions with messages; otherwise the legacy POST /completions.
// logprobs/top_logprobs are passed on (chat: logprobs + top_logprobs; legacy: logprobs = the number
// of alternatives). Tools, tool_choice, parallel_tool_calls, tool messages, response_format and
// reasoning_effort go to chat; the legacy endpoint has none of them, so a request that needs one
// there is refused (LLMH_ERR_UNSUPPORTED naming the field). A tool's parameters or a json_schema
// that is not a JSON object is refused (LLMH_ERR_INVALID_ARGUMENT).
std::string build_request_body(const llmh::Request &request, const std::string &model, bool chat,
                               bool stream);

// "length" -> LENGTH, "tool_calls"/"function_call" -> TOOL_CALLS, "" -> NONE, anything else
// ("stop", "content_filter", vLLM's "eos"...) -> STOP.
llmh_finish_reason map_finish_reason(std::string_view reason);

// What one streamed event carries.
struct StreamDelta {
    bool done = false;     // data: [DONE]
    std::string content;   // text to emit (may be empty)
    std::string reasoning; // delta.reasoning_content (DeepSeek, vLLM < 0.11) or delta.reasoning
    std::vector<ToolCallFragment> tool_calls;
    llmh_finish_reason finish = LLMH_FINISH_NONE;
    std::optional<Usage> usage;
    std::vector<TokenLogprobs> logprobs; // the tokens of `content`, when the endpoint sent them
    bool has_logprobs = false;           // a non-null logprobs object came with the choice
};

// Decodes one event of a streamed response. Throws llmh::Error on `event: error`, an `error`
// object in the data, data that is not JSON (what the SDKs do: the stream is aborted), and
// tool_calls / reasoning of the wrong JSON type.
StreamDelta decode_stream_event(const SseEvent &event, bool chat);

struct FullResponse {
    std::string text;
    std::string reasoning;                    // message.reasoning_content or message.reasoning
    std::vector<ToolCallFragment> tool_calls; // message.tool_calls, whole calls, index = position
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
