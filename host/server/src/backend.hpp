// What the server needs from the host. host_backend.cpp implements it over llmhost::Host; keeping
// the HTTP code behind this seam means the session and API code never touch the C ABI structs.
// One request type per layer: the server parses the OpenAI body straight into the host's own
// llmhost::GenerateRequest (request_parser.cpp, the one place that maps it), and the output
// comes back as the host's events (text, reasoning, tool-call start, tool-call arguments)
// through GenerateRequest::on_event, logprobs through on_logprob, and an llmhost::GenerateResult.
#pragma once

#include <llmhost/host.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace llmhost::server {

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
using TokenLogprob = llmhost::TokenLogprob;

struct ModelEntry {
    std::string provider;
    std::string model; // empty when the provider cannot list models
};

class Backend {
public:
    virtual ~Backend() = default;
    // Runs `request` on `provider`, blocking until the generation ends; the request's on_event,
    // on_logprob and should_cancel see it as it goes. Throws BackendError; a cancelled
    // generation throws BackendError(LLMH_ERR_CANCELLED).
    virtual GenerateResult generate(const std::string &provider,
                                    const GenerateRequest &request) = 0;
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
    // For GET /metrics: each provider's name, state ("ready", "failed", ...) and the instances
    // created for it so far. A backend that cannot tell returns nothing (no series, not zeros).
    virtual std::vector<std::tuple<std::string, std::string, double>> provider_stats() {
        return {};
    }
    // For GET /metrics: every route target's counters, cooldown and in-flight count.
    virtual std::vector<RouteTargetStatus> route_stats() { return {}; }
    // For GET /metrics: what the running providers report about themselves (ABI 2.2).
    virtual std::vector<ProviderMetric> provider_metrics() { return {}; }
};

} // namespace llmhost::server
