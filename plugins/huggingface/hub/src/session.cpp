#include "session.hpp"

#include <thread>

namespace llmhost::hub::detail {

namespace {
std::string default_user_agent() { return "llmhost/0.1.0; hf_hub/compatible; (+https://github.com/llmhost)"; }
net::ClientOptions transport_options(const ClientOptions &o) {
    net::ClientOptions t;
    t.user_agent = o.user_agent.empty() ? default_user_agent() : o.user_agent;
    t.max_connections_per_host = static_cast<long>(std::max(8u, o.max_parallel * 2));
    return t;
}
} // namespace

Session::Session(ClientOptions o, Logger l, ProgressFn p, CancelFn c)
    : opts(std::move(o)), endpoint(opts.endpoint),
      http(transport_options(opts)),
      logger(std::move(l)), progress(std::move(p)), cancel(std::move(c)) {}

net::Request Session::api_request(std::string method, std::string url) const {
    net::Request r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.auth_origin = endpoint.base();
    if (opts.token && !opts.token->empty()) r.bearer_token = opts.token;
    r.timeouts.connect = opts.etag_timeout;
    r.timeouts.total = opts.etag_timeout * 3; // one API page; bodies are small
    if (r.method == "HEAD") r.headers.add("Accept-Encoding", "identity");
    return r;
}

namespace {
std::optional<net::Millis> server_wait(const net::Response &r) {
    if (r.error != net::Error::none || (r.status != 429 && r.status != 503)) return std::nullopt;
    return net::parse_retry_after(r.headers);
}
} // namespace

std::optional<llmh::Error> Session::wait_too_long(const net::Response &r, const ErrorContext &ctx) const {
    auto wait = server_wait(r);
    if (!wait || *wait <= opts.retry.max_retry_after) return std::nullopt;
    return retry_after_error(r, *wait, opts.retry.max_retry_after, ctx);
}

net::Millis Session::retry_delay(const net::Response &r, int attempt) {
    if (r.status == 429 || r.status == 503)
        if (auto ra = server_wait(r)) {
            // huggingface_hub sleeps N+1 s for Retry-After: N; do the same (servers round down).
            auto d = *ra + net::Millis(r.status == 429 ? 1000 : 0);
            return std::min(d, opts.retry.max_retry_after);
        }
    std::lock_guard<std::mutex> g(rng_mutex);
    return net::backoff_delay(opts.retry, attempt, rng);
}

void Session::sleep_cancellable(net::Millis d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
        if (cancelled()) throw cancelled_error();
        auto left = until - std::chrono::steady_clock::now();
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, net::Millis(50)));
    }
}

net::Response Session::fetch_with_retry(const net::Request &req, const ErrorContext &ctx) {
    for (int attempt = 0;; ++attempt) {
        if (cancelled()) throw cancelled_error();
        net::Response r = http.fetch(req, 256ull * 1024 * 1024);
        if (is_retryable(r))
            if (auto e = wait_too_long(r, ctx)) throw *e; // never sleep for a server's "come back tomorrow"
        if (!is_retryable(r) || attempt >= opts.retry.max_retries) {
            if (r.error != net::Error::none) throw transport_error(r, ctx);
            return r;
        }
        auto wait = retry_delay(r, attempt + 1);
        log(LLMH_LOG_WARN, "request to " + endpoint.base() + " failed (" +
                               (r.error != net::Error::none ? r.error_message : "HTTP " + std::to_string(r.status)) +
                               "); retrying in " + std::to_string(wait.count()) + " ms");
        sleep_cancellable(wait);
    }
}

} // namespace llmhost::hub::detail
