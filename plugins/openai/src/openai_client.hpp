// One OpenAI-compatible endpoint over the shared llmhost::net transport: the request headers the
// SDKs send, the SDKs' retry loop, timeouts, cancellation, and error mapping. Bodies are handed
// back to the thread that called (the ABI wants tokens on the generate thread), so the transport's
// io thread only queues bytes.
#pragma once

#include "sse_parser.hpp"

#include <llmhost/net/http_client.hpp>
#include <llmhost/plugin.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace llmhost::openai {

struct ClientConfig {
    std::string base_url = "https://api.openai.com/v1"; // no trailing slash
    std::optional<std::string> api_key;                  // from the host's secret service
    std::string organization;                            // OpenAI-Organization header
    std::string project;                                 // OpenAI-Project header
    int max_retries = 2;
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds timeout{600'000}; // per attempt, as the SDKs
};

class OpenAiClient {
public:
    using CancelFn = std::function<bool()>;   // polled; true cancels
    using EventFn = SseParser::EventFn;       // may throw to abort the stream

    OpenAiClient(ClientConfig config, llmh::Host host);

    // POST `path` (e.g. "/chat/completions") and return the 2xx body. Throws llmh::Error.
    std::string post(const std::string &path, const std::string &body, const std::string &model,
                     const CancelFn &cancelled);

    // POST a streaming request; every SSE event is passed to on_event on the calling thread.
    // Returns when the response ends cleanly; throws llmh::Error on failure (a stream broken off
    // after the 200 is an error and is not retried, as in the SDKs). Returns the body instead when
    // the endpoint answered with a plain JSON document rather than an event stream.
    std::optional<std::string> post_stream(const std::string &path, const std::string &body, const std::string &model,
                                           const EventFn &on_event, const CancelFn &cancelled);

    // GET `path`, returning the 2xx body. Throws llmh::Error.
    std::string get(const std::string &path, const CancelFn &cancelled);

    // Model ids from GET /models, or empty when that fails (used for hints only).
    std::vector<std::string> model_ids_for_hint();

    const ClientConfig &config() const { return config_; }

private:
    struct Attempt;
    std::string run(const std::string &method, const std::string &path, const std::string &body,
                    const std::string &model, const EventFn *on_event, const CancelFn &cancelled);
    void run_attempt(Attempt &a, net::Request request, const EventFn *on_event,
                     const CancelFn &cancelled);
    void wait_before_retry(std::chrono::milliseconds delay, const CancelFn &cancelled);
    net::Request make_request(const std::string &method, const std::string &path,
                              const std::string &body, bool stream, int retry_count) const;

    ClientConfig config_;
    llmh::Host host_;
    net::HttpClient http_;
    std::mutex rng_mutex_;
    std::mt19937_64 rng_{std::random_device{}()};
};

} // namespace llmhost::openai
