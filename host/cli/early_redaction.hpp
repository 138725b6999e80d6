// Redaction before (or without) an open host: when Host::open fails, or before it is called, the
// console still hides URL userinfo and every secret the environment holds (HF_TOKEN,
// OPENAI_API_KEY, the token file, ...). Once a host is open, Host::redact takes over.
#pragma once

#include <string>
#include <string_view>

namespace llmhost::cli {

std::string redact_without_host(std::string_view text);

} // namespace llmhost::cli
