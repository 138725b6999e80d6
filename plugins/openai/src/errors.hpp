// HTTP failures of an OpenAI-compatible endpoint turned into ABI errors that say what to do next
// (issue 6: 401 -> check OPENAI_API_KEY; 404 model -> the models there are; 429 -> retry after;
// 5xx -> the endpoint is failing). Messages carry the endpoint's own message, never the key.
#pragma once

#include <llmhost/plugin.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace llmhost::openai {

struct HttpFailure {
    int status = 0;
    std::string body;
    double retry_after_s = 0; // from retry-after-ms / retry-after, 0 when absent
    std::string request_id;   // x-request-id, quoted in the message for support tickets
};

// `endpoint` is the base URL (no secrets in it), `model` the model asked for, and
// `available_models` (possibly empty) what GET /models returned, for the 404 hint.
llmh::Error map_http_failure(const HttpFailure &f, const std::string &endpoint,
                             const std::string &model,
                             const std::vector<std::string> &available_models);

// True for a 404 that is about the model (not a wrong base_url path).
bool is_model_not_found(const HttpFailure &f);

} // namespace llmhost::openai
