// The request log of `llmhost serve` (--request-log): one JSON line per request, and the request
// id that ties a line to the client's `x-request-id` header.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmhost::server {

// What one request did; filled by the session (endpoint, key, status) and the worker (provider,
// model, tokens, timings). The worker's writes happen before it posts the request's end to the
// session's strand, which is what orders them before the session reads the record.
struct RequestRecord {
    std::string id;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::string endpoint;     // bounded: one of the server's endpoints or "other"
    std::string key = "none"; // the key's name (key_<n>, admin_<n>, a keys-file name), "invalid", "none"
    bool scoped_key = false;  // `key` names a keys-file entry (its tpm window counts the tokens)
    std::string provider;     // a configured provider, empty when none was resolved
    std::string model; // as resolved (may be anything a client sent: a log field, not a label)
    std::string model_label = "none"; // `model` bounded for metrics (ModelLabels)
    // Who served it: the provider, or a route's target "provider[/model]" (x-llmhost-target).
    // Header-safe (target_header_value). Empty until a provider started on it.
    std::string target;
    bool generation = false;          // a chat or text completion
    bool stream = false;
    int status = 0;
    std::string error;      // the error code (or type) of an error answer
    bool has_usage = false; // the provider finished and reported usage
    uint32_t prompt_tokens = 0, completion_tokens = 0, reasoning_tokens = 0;
    uint32_t cached_tokens = 0; // of prompt_tokens, served from the provider's prefix cache
    double ttft_ms = -1;              // until the first generated event; < 0: none
    double total_ms = 0;              // until the answer was complete
    std::string request_body, output; // kept only with --log-content
    bool tracked = false;             // counted in metrics and the log (not /metrics, /health)

    double since_start_ms() const {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    }
};

// `target` as a header value: visible ASCII kept, anything else (control characters, spaces,
// UTF-8 from a configured name) becomes '_', at most 200 bytes, so no name can split a header.
std::string target_header_value(std::string_view target);

// True when `id` is safe to echo and log: [A-Za-z0-9._-]{1,64}.
bool request_id_acceptable(std::string_view id);
// `incoming` when acceptable, else a fresh random id ("req_" + 24 hex digits).
std::string request_id_from(std::string_view incoming);

// Content kept in the log is cut at this many bytes (the line says "truncated").
inline constexpr std::size_t kMaxLoggedContent = 64 * 1024;

// The JSON line (no newline) of `r`; content fields only when `with_content`. Not yet redacted.
std::string request_log_line(const RequestRecord &r, bool with_content);

} // namespace llmhost::server
