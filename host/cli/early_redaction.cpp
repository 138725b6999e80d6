#include "early_redaction.hpp"

// The host's own pattern and environment code, compiled into the CLI (libllmhost keeps them
// private): the same rules, not a copy that could drift.
#include "environment.hpp"
#include "redactor.hpp"
#include "secret_patterns.hpp"

namespace llmhost::cli {

std::string redact_without_host(std::string_view text) {
    detail::Redactor r; // re-read each time: used only on the few lines printed without a host
    for (const auto &v : detail::environment_secret_values()) r.add(v);
    return r.redact(text);
}

} // namespace llmhost::cli
