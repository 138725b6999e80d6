// Hub responses -> llmh::Error with the user's next step (spec §3, issue 4 "Errors").
#pragma once

#include "endpoint.hpp"

#include <llmhost/net/http_client.hpp>
#include <llmhost/plugin.hpp>

#include <string>
#include <string_view>

namespace llmhost::hub::detail {

// What the failed request was about, to name it in the message.
struct ErrorContext {
    const Endpoint *endpoint = nullptr;
    RepoType repo_type = RepoType::model;
    std::string repo_id;
    std::string revision;
    std::string filename;     // empty for repo-level calls
    bool has_token = false;
};

// A response with status >= 400 (or an unexpected one). `body` may be empty (HEAD).
llmh::Error http_error(const net::Response &r, std::string_view body, const ErrorContext &ctx);
// A transfer that ended without a usable response (network, timeout, cancelled, ...).
llmh::Error transport_error(const net::Response &r, const ErrorContext &ctx);
// Either of the above, chosen by r.error.
llmh::Error response_error(const net::Response &r, std::string_view body, const ErrorContext &ctx);

// A 429/503 whose Retry-After (`wait`) exceeds the configured maximum: rate limited, with retry_after.
llmh::Error retry_after_error(const net::Response &r, net::Millis wait, net::Millis max, const ErrorContext &ctx);

// Worth another attempt: network errors, timeouts, 408/429/5xx.
bool is_retryable(const net::Response &r);

llmh::Error cancelled_error();

} // namespace llmhost::hub::detail
