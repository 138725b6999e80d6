// What every Hub call shares: options, endpoint, the transport, callbacks, and request building
// (user-agent, token only to the endpoint's origin, timeouts) plus synchronous retries for API calls.
#pragma once

#include <atomic>

#include "endpoint.hpp"
#include "errors.hpp"

#include <llmhost/hub/client.hpp>
#include <llmhost/net/http_client.hpp>

#include <mutex>
#include <optional>
#include <random>

namespace llmhost::hub::detail {

struct Session {
    Session(ClientOptions o, Logger l, ProgressFn p, CancelFn c);

    ClientOptions opts;
    Endpoint endpoint;
    net::HttpClient http;
    Logger logger;
    ProgressFn progress;
    CancelFn cancel;
    // What this client fetched and found (Client::stats); bumped by the download loop's threads.
    struct {
        std::atomic<std::uint64_t> bytes_downloaded{0}, files_downloaded{0}, files_cached{0};
    } stats;

    bool cancelled() const { return cancel && cancel(); }
    void log(llmh_log_level level, const std::string &msg) const {
        if (logger) logger(level, msg);
    }
    ErrorContext context(RepoType t, const std::string &repo, const std::string &rev,
                         const std::string &file = {}) const {
        return ErrorContext{&endpoint, t, repo, rev, file, opts.token.has_value() && !opts.token->empty()};
    }

    // A request to the Hub: user-agent, Bearer token for the endpoint's origin only, metadata timeouts.
    net::Request api_request(std::string method, std::string url) const;

    // GET/HEAD with retries (network errors, timeouts, 408/429/5xx; Retry-After honoured) and
    // cancellation. Returns the last response (maybe a 4xx); throws llmh::Error when cancelled or
    // when every attempt failed at the transport level.
    net::Response fetch_with_retry(const net::Request &req, const ErrorContext &ctx);

    // The wait before retry `attempt` for response r: the server's Retry-After when given.
    net::Millis retry_delay(const net::Response &r, int attempt);

    // A retryable 429/503 whose Retry-After is longer than opts.retry.max_retry_after: the
    // rate-limited error to give up with at once (waiting less would only be refused again).
    std::optional<llmh::Error> wait_too_long(const net::Response &r, const ErrorContext &ctx) const;

    // Sleeps up to `d`, waking early (and throwing cancelled) when the user cancels.
    void sleep_cancellable(net::Millis d);

    std::mutex rng_mutex;
    std::mt19937_64 rng{std::random_device{}()};
};

} // namespace llmhost::hub::detail
