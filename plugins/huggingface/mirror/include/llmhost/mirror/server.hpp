// llmhost mirror: a Hugging Face Hub-protocol HTTP server (Boost.Beast, async).
//
// Serves repos from a plain directory (<root>/<org>/<name>/..., <root>/datasets/<org>/<name>/...)
// or from a huggingface_hub cache (<root>/models--org--name/{refs,snapshots,blobs}), over the same
// HTTP protocol as huggingface.co (see shared/reference/hf-hub-protocol.md), so that our Hub client
// and Python huggingface_hub both download from it with HF_ENDPOINT=http://host:port.
//
// In-process use (tests):
//   llmhost::mirror::Server server({.root = dir});
//   uint16_t port = server.start();          // indexes the repos, then serves on background
//   threads setenv("HF_ENDPOINT", server.endpoint().c_str(), 1);
//   server.faults().drop_after_bytes("*model.safetensors", 4096);   // one connection dropped
//   ... server.requests() ...                // what the client actually sent (never token values)
//   server.stop();
//
// Access rules, as the Hub answers them (documented in docs/deployment.md):
//   - a Bearer token that matches no token of the tokens file: 401, X-Error-Message
//     "Invalid credentials in Authorization header" (on every route but the signed /_lfs/ blob
//     URLs, as the Hub does; no X-Error-Code);
//   - private repo, no token: 401 X-Error-Code RepoNotFound; valid token not granted: 404
//   RepoNotFound;
//   - gated repo: metadata is public; files without a token: 401 GatedRepo; with a token not
//   granted:
//     403 GatedRepo with the Hub's X-Error-Message.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::mirror {

// One answered (or dropped) request. Never holds a token value: only the token's NAME from the
// tokens file.
struct RequestRecord {
    std::string method;  // "HEAD", "GET", ...
    std::string target;  // path and query as sent, e.g. "/org/m/resolve/main/config.json"
    unsigned status = 0; // status sent (for a dropped body: the status of the header that was sent)
    bool had_authorization = false; // an Authorization header was present
    std::string token_name; // the tokens-file name of the token that matched; empty if none matched
    std::uint64_t body_bytes = 0; // body bytes actually written
    double milliseconds = 0;      // from request read to response complete
    bool dropped = false; // the connection was closed by a fault before the body was complete
};

// "GET /org/m/resolve/main/config.json 200 1234 B 0.4 ms [token alice]" — for the CLI's stderr log.
std::string format_request_log_line(const RequestRecord &record);

// What the fault injector tells the server to do with one response (computed per request).
struct FaultPlan {
    unsigned status = 0;              // nonzero: answer this status instead of the real response
    unsigned retry_after_seconds = 0; // with status 429: the Retry-After header
    std::optional<std::uint64_t> drop_after;  // close the connection after this many body bytes
    std::optional<std::uint64_t> truncate_to; // send Content-Length/body of only this many bytes
    std::uint64_t bytes_per_second = 0;       // nonzero: throttle the body
    bool corrupt = false; // flip bytes of the body (metadata keeps the real sha256)
};

// Faults settable at runtime, from any thread. Each rule matches the request path (without the
// query, percent-decoded) with an fnmatch glob in which `*` also crosses `/`; "*" matches every
// path. An LFS file is served at /_lfs/<type>s/<org>/<name>/<sha256>/<path>, so a glob on the file
// name
// ("*model.safetensors") matches both its /resolve/ URL and its blob URL.
// Body faults (drop, truncate, slow, corrupt) apply only to file contents (GET with a 200/206
// body), status faults (5xx burst, 429) to any request, HEAD included. `times` < 0 means until
// clear().
class FaultInjector {
public:
    // Close the connection after `bytes` body bytes (Content-Length announces the full size).
    void drop_after_bytes(std::string glob, std::uint64_t bytes, int times = 1);
    // The "short Content-Length lie": announce and send only `bytes` bytes of the file, answer
    // complete.
    void truncate_body(std::string glob, std::uint64_t bytes, int times = 1);
    // The next `count` matching requests get `status` (500, 502, 503 or 504) with a JSON error
    // body.
    void error_burst(std::string glob, int count, unsigned status = 503);
    // The next `count` matching requests get 429 with Retry-After: retry_after_seconds.
    void rate_limit(std::string glob, int count, unsigned retry_after_seconds);
    // Throttle matching file bodies to about `bytes_per_second`.
    void slow_body(std::string glob, std::uint64_t bytes_per_second, int times = -1);
    // Serve corrupted bytes for matching files while ETag/X-Linked-Etag keep the real sha256.
    void wrong_sha(std::string glob, int times = -1);
    // Remove every rule.
    void clear();

    // Server side: the status fault for a request (consumes one count of a matching rule).
    FaultPlan take_status_fault(std::string_view path);
    // Server side: the body faults for a file body about to be sent (consumes counts).
    FaultPlan take_body_faults(std::string_view path);

private:
    enum class Kind { drop, truncate, status, rate_limit, slow, corrupt };
    struct Rule {
        Kind kind;
        std::string glob;
        std::uint64_t amount = 0; // bytes, bytes/s, status code or retry-after seconds
        int remaining = 1;        // < 0: unlimited
    };
    void add(Rule rule);
    std::mutex mutex_;
    std::vector<Rule> rules_;
};

struct ServerOptions {
    std::filesystem::path root{}; // directory of repos, or a huggingface_hub cache (auto-detected)
    std::string host = "127.0.0.1"; // address to bind
    std::uint16_t port = 0;         // 0: an ephemeral port (start() returns it)
    unsigned threads = 2;           // io_context threads
    std::filesystem::path
        tokens_file{}; // JSON tokens file (see docs/deployment.md); empty: no tokens
    // When set (e.g. "localhost"), the LFS 302 points to
    // http://<lfs_redirect_host>:<port>/_lfs/..., a different host name on this same server, to
    // test that clients drop Authorization across hosts. Empty: the redirect keeps the Host the
    // client used.
    std::string lfs_redirect_host{};
    std::size_t page_size = 50; // entries per page of the tree API (Link rel="next" beyond)
    // Files at least this large, or named
    // *.safetensors/*.bin/*.pt/*.pth/*.gguf/*.onnx/*.msgpack/*.h5, are served as LFS files (sha256
    // etag, 302 to a blob URL) from a plain directory.
    std::uint64_t lfs_threshold_bytes = 10ull * 1024 * 1024;
    std::size_t max_recorded_requests = 10000; // requests() keeps at most the latest N
    std::function<void(const RequestRecord &)>
        on_request{}; // called once per request (the CLI logs)
    // Server events that are not requests (accept paused out of file descriptors, and resumed).
    // Empty: written to stderr as "llmhost mirror: <line>".
    std::function<void(std::string_view)> on_log{};
    std::chrono::seconds idle_timeout{60}; // keep-alive connection idle limit
};

class Server {
public:
    explicit Server(ServerOptions options);
    ~Server(); // stops
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Loads the tokens file, indexes every repo (hashes computed once, cached by path+size+mtime),
    // binds, and serves on background threads. Returns the bound port. Throws std::runtime_error
    // with a message naming the file or address at fault.
    std::uint16_t start();
    void stop(); // closes the listener and every connection, joins the threads; idempotent

    std::string endpoint() const;   // "http://127.0.0.1:<port>" (no trailing slash)
    std::size_t repo_count() const; // repos indexed (after start)
    FaultInjector &faults();
    std::vector<RequestRecord> requests() const;
    void clear_requests();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace llmhost::mirror
