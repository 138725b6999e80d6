#include "errors.hpp"

#include "wire.hpp"

#include <cmath>

namespace llmhost::openai {

bool is_model_not_found(const HttpFailure &f) {
    if (f.status != 404) return false;
    ErrorInfo e = decode_error_body(f.body);
    return e.code == "model_not_found" || e.message.find("model") != std::string::npos;
}

llmh::Error map_http_failure(const HttpFailure &f, const std::string &endpoint,
                             const std::string &model,
                             const std::vector<std::string> &available_models) {
    ErrorInfo e = decode_error_body(f.body);
    std::string what = "HTTP " + std::to_string(f.status) + " from " + endpoint + ": " + e.message;
    if (!f.request_id.empty()) what += " (request id " + f.request_id + ")";
    switch (f.status) {
    case 400:
    case 422:
        return {LLMH_ERR_INVALID_ARGUMENT, what,
                "the endpoint rejected the request; check the model's parameters (max_tokens, stop, "
                "temperature)", f.status};
    case 401:
        return {LLMH_ERR_AUTH_INVALID, what,
                "check OPENAI_API_KEY (or the provider's api_key): it is missing, wrong or revoked",
                f.status};
    case 403:
        return {LLMH_ERR_AUTH_INVALID, what,
                "the key is valid but may not use this model or project; check the key's "
                "permissions and the organization/project settings", f.status};
    case 404: {
        if (!is_model_not_found(f))
            return {LLMH_ERR_NOT_FOUND, what,
                    "check base_url: it should end at the API root (e.g. https://api.openai.com/v1)",
                    f.status};
        std::string hint = "model '" + model + "' is not served there";
        if (!available_models.empty()) {
            hint += "; available models: ";
            for (std::size_t i = 0; i < available_models.size() && i < 20; ++i)
                hint += (i ? ", " : "") + available_models[i];
            if (available_models.size() > 20) hint += ", ...";
        } else {
            hint += "; list them with `llmhost providers` or GET " + endpoint + "/models";
        }
        return {LLMH_ERR_NOT_FOUND, what, hint, f.status};
    }
    case 408:
        return {LLMH_ERR_TIMEOUT, what, "the endpoint timed out; try again later", f.status};
    case 429: {
        std::string hint = f.retry_after_s > 0
                               ? "rate limited: retry after " +
                                     std::to_string(static_cast<long>(std::ceil(f.retry_after_s))) + " s"
                               : "rate limited: wait a little and retry";
        if (e.code == "insufficient_quota")
            hint = "the account has no quota left: check billing for this key";
        hint += " (max_retries in the provider's config sets how often llmhost retries by itself)";
        return {LLMH_ERR_RATE_LIMITED, what, hint, f.status, f.retry_after_s};
    }
    default:
        break;
    }
    if (f.status >= 500)
        return {LLMH_ERR_NETWORK, what,
                "the endpoint is failing (server error); retry later or check its status page/logs",
                f.status};
    return {LLMH_ERR_NETWORK, what, "unexpected answer from the endpoint; check base_url", f.status};
}

} // namespace llmhost::openai
