// When and how long the openai plugin waits before retrying, exactly as the official SDKs do
// (shared/reference/openai-wire.md §4). The header parsing (retry-after-ms, Retry-After) is the
// shared one from llmhost::net; only the SDKs' decision and backoff curve live here.
#pragma once

#include <llmhost/net/http_client.hpp>

#include <chrono>
#include <random>

namespace llmhost::openai {

// An `x-should-retry: true|false` header decides when present; otherwise 408, 409, 429 and >= 500.
bool should_retry_status(int status, const net::Headers &headers);

// The wait before a retry when `retries_done` retries were already made: retry-after-ms, else
// retry-after (honoured up to 60 s, as the Node SDK), else min(0.5 * 2^k, 8) s * (1 - 0.25 * rand).
std::chrono::milliseconds retry_delay(int retries_done, const net::Headers &headers,
                                      std::mt19937_64 &rng);

} // namespace llmhost::openai
