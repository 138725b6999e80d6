// The OpenAI wire format as the server speaks it (shared/reference/openai-wire.md): request
// validation with the error envelope, model-name resolution, and every response body and stream
// chunk. Pure functions over strings; the HTTP session only moves the bytes.
#pragma once

#include "backend.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::server {

// An error answered with {"error":{"message","type","param","code"}}.
struct ApiError {
    int status = 400;
    std::string message;
    std::string type = "invalid_request_error";
    std::string param; // "" -> null
    std::string code;  // "" -> null
    double retry_after_s = 0;
    bool should_retry = true; // false -> x-should-retry: false (non-transient 5xx)
};

std::string error_body(const ApiError &e);

// A validated request, ready for the backend, plus what the response must echo. `request` is
// the host's own type, filled by request_parser.cpp (the one place that maps the OpenAI body).
struct ParsedRequest {
    std::string provider;    // empty until resolved from request.model (resolve_model)
    GenerateRequest request; // request.model holds the raw `model` until then
    bool chat = true;        // /v1/chat/completions (messages), else /v1/completions (prompt)
    std::string model_label; // the `model` the client sent (echoed back)
    bool include_usage = false;
    bool echo_prompt = false; // legacy completions `echo`
};

// The most tools one request may declare (more: 400); a tool list is part of every prompt.
inline constexpr std::size_t kMaxTools = 128;

// Which provider and model a `model` string names: "provider", "provider/model", or a model of
// the default provider. `providers` are the configured names. Returns nullopt and fills `err`
// when nothing matches.
struct ModelTarget {
    std::string provider;
    std::string model;
};
std::optional<ModelTarget> resolve_model(std::string_view name,
                                         const std::vector<std::string> &providers,
                                         const std::string &default_provider, ApiError &err);

// Parse and validate a body of POST /v1/chat/completions or /v1/completions. The provider is
// not resolved yet (provider is empty, request.model holds the raw name).
std::optional<ParsedRequest> parse_chat_request(std::string_view body, ApiError &err);
std::optional<ParsedRequest> parse_completion_request(std::string_view body, ApiError &err);

// A provider failure as the client sees it. Request-caused errors are 4xx; a failure the
// provider marks with http_status >= 500 (its configuration, not the request) is a 500.
ApiError api_error_from_backend(const BackendError &e, const std::string &provider);

// Response bodies. `id` is "chatcmpl-..." or "cmpl-...", `created` unix seconds.
struct ResponseMeta {
    std::string id;
    long long created = 0;
    std::string model;
    bool chat = true;
};
ResponseMeta make_response_meta(bool chat, std::string model);

// OpenAI's finish_reason: "stop", "length" or "tool_calls".
std::string finish_reason_name(llmh_finish_reason reason);

// The non-streamed answer: message.content (null when the answer is only tool calls),
// message.tool_calls, message.reasoning_content (when any), finish_reason and usage with
// completion_tokens_details.reasoning_tokens and prompt_tokens_details.cached_tokens.
// `logprobs`: the choice's logprobs object (logprobs_json.hpp), null when not asked for.
std::string completion_body(const ResponseMeta &m, const GenerateResult &r,
                            const nlohmann::json &logprobs = nullptr);
// One SSE event "data: {...}\n\n": the first chunk (role delta), a content piece, a reasoning
// piece (delta.reasoning_content), the first chunk of a tool call ({index, id, type, function:
// {name, arguments: ""}}), a piece of its arguments ({index, function: {arguments}}), the finish
// chunk, the usage chunk, a mid-stream error, and the terminator.
std::string sse_role_chunk(const ResponseMeta &m);
std::string sse_content_chunk(const ResponseMeta &m, std::string_view piece,
                              const nlohmann::json &logprobs = nullptr);
std::string sse_reasoning_chunk(const ResponseMeta &m, std::string_view piece);
std::string sse_tool_call_start_chunk(const ResponseMeta &m, uint32_t index, std::string_view id,
                                      std::string_view name);
std::string sse_tool_call_args_chunk(const ResponseMeta &m, uint32_t index, std::string_view piece);
std::string sse_finish_chunk(const ResponseMeta &m, const std::string &finish_reason,
                             bool include_usage, const nlohmann::json &logprobs = nullptr);
std::string sse_usage_chunk(const ResponseMeta &m, const GenerateResult &r);
std::string sse_error_event(const ApiError &e);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// The id GET /v1/models shows: "provider/model", or "provider" for one that cannot list. A model
// given as a local directory shows as its directory name, never as a server path.
std::string public_model_id(const std::string &provider, const std::string &model);
// GET /v1/models.
std::string models_body(const std::vector<ModelEntry> &entries);
// GET /v1/models/{id}: `encoded_id` as in the URL (percent-encoded, may contain '/'). nullopt and
// a 404 in `err` when no entry has that id.
std::optional<std::string> model_body(const std::vector<ModelEntry> &entries,
                                      std::string_view encoded_id, ApiError &err);

} // namespace llmhost::server
