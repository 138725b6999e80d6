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
// POST /admin/reload, POST /admin/providers/{name} (body: {"plugin":..., "config":{...}}).
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
    bool insecure_public = false;         // allow non-loopback clients without an API key
    std::size_t max_concurrency = 32;     // generations running at once (= worker threads)
    std::size_t queue = 256;              // generations waiting for a worker; beyond: 429
    std::size_t max_body = 4u << 20;      // request body limit in bytes; beyond: 413
    unsigned io_threads = 2;
    std::chrono::milliseconds drain_timeout{30'000}; // graceful shutdown waits this long at most
    // Receives one line per notable event (start, swap, reload, errors). Already redacted.
    std::function<void(std::string_view)> log;
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
