// What the server needs from the host, in the server's own terms. host_backend.cpp implements it
// over llmhost::Host; keeping the HTTP code behind this seam means the session and API code never
// touch the C ABI structs, and the request/response mapping is testable without a plugin.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmhost::server {

struct GenerationRequest {
    std::string provider;                                      // a configured provider name
    std::string model;                                         // empty: the provider's default
    bool chat = true;                                          // messages, or a raw prompt
    std::vector<std::pair<std::string, std::string>> messages; // (role, content)
    std::string prompt;
    int max_tokens = 0; // <= 0: provider default
    float temperature = -1.0f;
    float top_p = 0.0f;
    std::optional<uint64_t> seed;
    std::vector<std::string> stop;
    bool stream = false;
    bool logprobs = false;            // report each token through LogprobFn
    int top_logprobs = 0;             // alternatives per token (0..20)
    std::string response_format_json; // empty: free text; else OpenAI's response_format object
};

struct GenerationResult {
    std::string finish_reason = "stop"; // "stop" | "length"
    uint32_t prompt_tokens = 0;
    uint32_t completion_tokens = 0;
};

// A provider's failure: `code` is an llmh_status, `message`/`hint` are already redacted.
// `http_status` >= 500 marks a failure of the provider's configuration (see docs/serving.md).
struct BackendError : std::runtime_error {
    BackendError(int code, const std::string &message, std::string hint = {},
                 double retry_after_s = 0, int http_status = 0)
        : std::runtime_error(message), code(code), hint(std::move(hint)),
          retry_after_s(retry_after_s), http_status(http_status) {}
    int code;
    std::string hint;
    double retry_after_s;
    int http_status;
};

// One generated token and its log-probability; `token` holds raw bytes (maybe part of a UTF-8
// character).
struct TokenLogprob {
    std::string token;
    float logprob = 0;
};

struct ModelEntry {
    std::string provider;
    std::string model; // empty when the provider cannot list models
};

// Called for each generated piece; return false to cancel the generation.
using PieceFn = std::function<bool(std::string_view piece)>;
// Polled while no token flows; return true to cancel.
using CancelFn = std::function<bool()>;
// Called once per token when the request asks for logprobs, before the piece carrying its text;
// return false to cancel.
using LogprobFn = std::function<bool(const TokenLogprob &chosen, const std::vector<TokenLogprob> &top)>;

class Backend {
public:
    virtual ~Backend() = default;
    // Blocks until the generation ends. Throws BackendError.
    virtual GenerationResult generate(const GenerationRequest &request, const PieceFn &on_piece,
                                      const CancelFn &cancelled, const LogprobFn &on_logprob) = 0;
    virtual std::vector<std::string> providers() = 0;
    virtual std::string default_provider() = 0; // "" when none is configured
    // Models of one provider (may be empty). Throws BackendError.
    virtual std::vector<std::string> models(const std::string &provider) = 0;
    // Replaces or adds provider `name` from a JSON entry {"plugin":..., "config":{...}}.
    // Throws BackendError when the new instance cannot be created (the old one keeps serving).
    virtual void swap(const std::string &name, const std::string &entry_json) = 0;
    // Re-reads the configuration file (what SIGHUP does). Throws BackendError.
    virtual void reload() = 0;
    // Removes every known secret from `text`.
    virtual std::string redact(std::string_view text) = 0;
};

} // namespace llmhost::server
