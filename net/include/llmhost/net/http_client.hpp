// llmhost::net — the one HTTP transport shared by the Hub client and the openai plugin.
//
// libcurl's multi-socket interface driven by a Boost.Asio io_context that the client owns and runs
// on one thread (curl's asiohiper idea): curl tells us which sockets to watch and when its single
// timer should fire; Asio waits on them. No thread per transfer, no busy polling. One multi handle
// means one connection cache: keep-alive and HTTP/2 multiplexing are reused across requests.
//
// Streaming: for each response, on_headers(status, headers) once, then on_data(chunk) for each body
// piece (return false to stop: the transfer completes with Error::aborted), then on_complete once.
// All three run on the client's io thread: do not block in them for long (a disk write is fine).
//
// Authorization: the bearer token is a separate field of the request, never a plain header. It is
// sent only while the request URL's origin (scheme, host, port) equals the origin of the request's
// `auth_origin` (default: the first URL). Redirects are followed by this client, not by curl, so the
// rule holds on every hop (a Hub LFS redirect to a CDN never sees the token); curl's own
// CURLOPT_UNRESTRICTED_AUTH stays off as a second guard.
//
//   llmhost::net::HttpClient http({.user_agent = "llmhost/0.1"});
//   llmhost::net::Request req{.url = "https://huggingface.co/api/whoami-v2", .bearer_token = tok};
//   llmhost::net::Response r = http.fetch(req);   // small requests: body collected in memory
//   if (!r.ok()) ... r.error / r.status ...
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmhost::net {

using Millis = std::chrono::milliseconds;

// Response or request headers, in order, names compared case-insensitively.
class Headers {
public:
    void add(std::string name, std::string value);
    void set(std::string name, std::string value); // replaces every header of that name
    void remove(std::string_view name);
    std::optional<std::string> get(std::string_view name) const; // first one with that name
    bool has(std::string_view name) const { return get(name).has_value(); }
    // Every value of a repeated header (e.g. several Link headers), in order.
    std::vector<std::string> get_all(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>> &items() const { return items_; }
    bool empty() const { return items_.empty(); }
    void clear() { items_.clear(); }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

// How a transfer ended, independent of the HTTP status (a 404 is Error::none: it is a response).
enum class Error {
    none = 0,
    network,            // connect refused, reset, DNS, TLS, peer closed mid-body, protocol error
    timeout,            // connect, total or idle (low-speed) timeout
    cancelled,          // Transfer::cancel() or the client shutting down
    aborted,            // on_headers or on_data returned false
    too_many_redirects, // more than Request::max_redirects hops
    invalid_request,    // bad URL, unsupported scheme, curl refused an option
};
const char *error_name(Error e);

struct Timeouts {
    Millis connect{10'000};    // TCP + TLS handshake; 0 = curl's default
    Millis total{0};           // whole transfer including body; 0 = none (large downloads)
    Millis idle{0};            // abort when fewer than idle_min_bytes arrive during this window; 0 = off
    long idle_min_bytes = 1;   // the "low speed" threshold in bytes/s over `idle`
};

struct Request {
    std::string method = "GET"; // GET, HEAD, POST, PUT, DELETE, ...
    std::string url;
    Headers headers;            // sent on every hop, except Authorization which is refused here
    std::string body;           // sent as-is when non-empty (or for POST/PUT even when empty)
    Timeouts timeouts;
    bool follow_redirects = false;
    int max_redirects = 10;
    // Sent as "Authorization: Bearer <token>" only to `auth_origin` (see the file comment). Never
    // logged, never included in an error message.
    std::optional<std::string> bearer_token;
    // The origin allowed to see the token, as a URL ("https://huggingface.co"); empty: url's origin.
    std::string auth_origin;
    // Range start (bytes=N-) for resuming a download; 0 = no Range header.
    std::uint64_t range_from = 0;
};

struct Response {
    Error error = Error::none;
    std::string error_message;  // human-readable, names the URL's host; never contains the token
    int curl_code = 0;          // the CURLcode behind `error`, 0 if none
    int status = 0;             // HTTP status of the last hop (0 if no response)
    Headers headers;            // headers of the last hop
    std::string body;           // fetch(): the body (up to max_body bytes); start(): empty
    std::string effective_url;  // URL of the last hop
    std::uint64_t body_bytes = 0; // body bytes received on the last hop
    int redirects = 0;          // hops followed
    bool ok() const { return error == Error::none && status >= 200 && status < 300; }
};

struct Handlers {
    // After the final hop's headers (redirect hops that are followed are not reported).
    // Return false to stop: the transfer completes with Error::aborted.
    std::function<bool(int status, const Headers &headers)> on_headers;
    // Each piece of the body as it arrives. Return false to stop (Error::aborted).
    std::function<bool(std::string_view chunk)> on_data;
    // Exactly once, last. `response.body` is empty (the body went to on_data).
    std::function<void(const Response &response)> on_complete;
};

// A running transfer. Copyable handle; cancel() is safe from any thread, any number of times,
// also after completion (then it does nothing).
class Transfer {
public:
    Transfer() = default;
    void cancel();
    bool valid() const { return static_cast<bool>(state_); }

    struct State;
    explicit Transfer(std::shared_ptr<State> s) : state_(std::move(s)) {}

private:
    std::shared_ptr<State> state_;
};

struct ClientOptions {
    std::string user_agent = "llmhost/0.1";
    long max_connections_per_host = 16; // CURLMOPT_MAX_HOST_CONNECTIONS (0 = unlimited)
    long max_total_connections = 64;    // CURLMOPT_MAX_TOTAL_CONNECTIONS
    bool http2 = true;                  // CURL_HTTP_VERSION_2TLS: HTTP/2 when TLS offers it
    std::size_t receive_buffer = 256 * 1024; // CURLOPT_BUFFERSIZE: bigger pieces for downloads
    std::string ca_bundle;              // empty: the system's
    bool verbose = false;               // curl's debug output to stderr (headers included: never with secrets in CI)
};

class HttpClient {
public:
    explicit HttpClient(ClientOptions options = {});
    ~HttpClient(); // cancels every running transfer (on_complete gets Error::cancelled), joins
    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;

    // Starts a transfer; returns at once. Handlers run on the io thread.
    Transfer start(Request request, Handlers handlers);

    // Synchronous convenience for small requests: the body is collected (up to max_body bytes;
    // beyond that the transfer ends with Error::aborted). Must not be called from the io thread.
    Response fetch(Request request, std::size_t max_body = 64ull * 1024 * 1024);

    // Runs fn on the io thread after `delay` (retry backoff, lock polling). Safe from any thread.
    void schedule(Millis delay, std::function<void()> fn);

    // True on the client's io thread (handlers may use it to assert where they run).
    bool on_io_thread() const;

    const ClientOptions &options() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_; // shared with Transfer handles (weakly) so cancel() is always safe
};

// ---- URLs ------------------------------------------------------------------------------------

// "scheme://host[:port]" of a URL, lower-cased, default ports made explicit
// ("https://Hub.example" -> "https://hub.example:443"). Empty if the URL has no scheme://host.
std::string url_origin(std::string_view url);
// Resolves a Location header against the URL it came from (absolute, scheme-relative,
// absolute-path and relative forms).
std::string resolve_url(std::string_view base, std::string_view location);
// Percent-encodes every byte except unreserved ones (A-Z a-z 0-9 - . _ ~) and those in `keep`.
std::string percent_encode(std::string_view s, std::string_view keep = "");

// ---- Retries ----------------------------------------------------------------------------------

struct RetryPolicy {
    int max_retries = 5;             // retries after the first attempt
    Millis initial_delay{1000};      // first wait, doubled each retry ...
    Millis max_delay{8000};          // ... up to this
    double jitter = 0.25;            // each wait is scaled by a random factor in [1-j, 1+j]
    Millis max_retry_after{300'000}; // a server asking for longer than this is not waited for
};

// The wait before retry number `attempt` (1-based): min(initial * 2^(attempt-1), max), jittered.
Millis backoff_delay(const RetryPolicy &policy, int attempt, std::mt19937_64 &rng);

// How long the server asked us to wait, from (in order) `retry-after-ms` (OpenAI), `Retry-After`
// (delta-seconds or an HTTP-date), or `RateLimit: "..." ;r=0;t=N` (Hub). nullopt if none is usable.
std::optional<Millis> parse_retry_after(const Headers &headers,
                                        std::chrono::system_clock::time_point now =
                                            std::chrono::system_clock::now());

// Statuses worth retrying: 408, 429, 500, 502, 503, 504.
bool is_retryable_status(int status);
// Transport errors worth retrying: network and timeout (not cancelled/aborted/invalid).
bool is_retryable_error(Error error);

// Parses "<url>; rel=\"next\"" out of Link headers (for paged APIs). nullopt if no next link.
std::optional<std::string> link_next(const Headers &headers);

} // namespace llmhost::net
