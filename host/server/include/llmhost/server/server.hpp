// llmhost serve: an OpenAI-compatible HTTP server over the providers of an llmhost::Host.
//
//   llmhost::Host host = ...;                       // providers from config + environment
//   llmhost::server::ServerOptions opt;              // 127.0.0.1:8080, no keys -> loopback only
//   llmhost::server::Server server(host, opt);
//   server.start();                                  // binds; throws ServerError on failure
//   server.handle_signals();                         // SIGINT/SIGTERM drain, SIGHUP reloads
//   server.wait();                                   // until shutdown() or a signal
//
// Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health,
// POST /admin/reload, POST /admin/providers/{name} (body: {"plugin":..., "config":{...}}),
// GET /metrics (Prometheus text format; here or on a separate metrics listener).
// Generation runs on a worker pool (provider calls block); HTTP runs on a few I/O threads.
// See docs/serving.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost {
class Host;
}

namespace llmhost::server {

class Backend;

struct ServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;                 // 0: an ephemeral port (see Server::port())
    std::vector<std::string> api_keys;    // clients' keys; empty: no auth, loopback clients only
    std::vector<std::string> admin_keys;  // keys of /admin/*; empty: admin endpoints disabled
    // A keys file (keys_file.hpp): hashed client keys with scopes and limits, read by start()
    // (a bad file: ServerError) and again on SIGHUP and POST /admin/reload (a bad file keeps the
    // previous keys). Set: every client needs a key, even on loopback.
    std::string keys_file;
    bool insecure_public = false;         // allow non-loopback clients without an API key
    std::size_t max_concurrency = 32;     // generations running at once (= worker threads)
    std::size_t queue = 256;              // generations waiting for a worker; beyond: 429
    std::size_t max_body = 4u << 20;      // request body limit in bytes; beyond: 413
    unsigned io_threads = 2;
    std::chrono::milliseconds drain_timeout{30'000}; // graceful shutdown waits this long at most
    // Receives one line per notable event (start, swap, reload, errors). Already redacted.
    std::function<void(std::string_view)> log;

    // GET /metrics. metrics_port 0: served on the main port; otherwise a second listener on
    // metrics_host:metrics_port that answers only /metrics and /health.
    uint16_t metrics_port = 0;
    bool separate_metrics_listener = false; // metrics_port given (it may be 0: any free port)
    std::string metrics_host;                // empty: the same address as `host`
    // /metrics without a key. Refused by start() unless the listener serving /metrics is bound
    // to a loopback address.
    bool metrics_no_auth = false;

    // The request log: one JSON line per request (no newline), already redacted. Called from
    // several threads at once: the sink serializes. Empty: no request log.
    std::function<void(std::string_view)> request_log;
    bool log_content = false; // the log carries the request body and the output text
};

// Splits a comma-separated key list (LLMHOST_API_KEYS), trimming spaces, dropping empty items.
std::vector<std::string> split_keys(std::string_view list);

struct ServerError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Server {
public:
    // `host` must outlive the server.
    Server(Host &host, ServerOptions options);
    // Over any backend (used by the tests of the HTTP layer).
    Server(std::shared_ptr<Backend> backend, ServerOptions options);
    ~Server(); // shuts down immediately (in-flight generations are cancelled)
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    void start();                 // bind, listen, start the threads. Throws ServerError.
    uint16_t port() const;        // the bound port
    uint16_t metrics_port() const; // the metrics listener's bound port (0: none)
    void handle_signals();        // SIGINT/SIGTERM -> shutdown(); SIGHUP -> reload
    void shutdown();              // stop accepting, finish in-flight requests, then stop
    void wait();                  // blocks until the server has stopped

    struct Stats {
        std::size_t running = 0;  // generations on a worker
        std::size_t queued = 0;   // generations waiting for one
        uint64_t served = 0;      // requests answered
        uint64_t rejected = 0;    // 429s for a full queue
    };
    Stats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace llmhost::server
