// One client connection of `llmhost serve`, in the style of Beast's http_server_async example:
// the session owns its socket (on a strand), keeps itself alive with shared_from_this, and each
// asynchronous step is finished by a handler named after it (on_read, on_write, on_stream_write).
//
// A generation runs on a worker thread (provider calls block). A streamed answer travels from the
// worker to the socket through Call::pending: the worker appends ready-made chunked SSE bytes,
// the session writes whatever has accumulated, one write at a time; the worker waits when the
// client falls more than kMaxPending behind. While a generation runs the session watches the
// socket for EOF, so a client that goes away cancels its generation.
#pragma once

#include "logprobs_json.hpp"
#include "openai_api.hpp"
#include "request_log.hpp"
#include "server_state.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace llmhost::server {

namespace session_detail { // shared by http_session.cpp (session side) and session_worker.cpp

// The status line and headers of a streamed answer. Written by hand because the body is a
// sequence of chunks produced on another thread (see http_session.hpp).
// `request_id` passed request_id_acceptable(), so it cannot break the header.
// `target` (x-llmhost-target) went through target_header_value; empty: no such header.
inline std::string stream_header(const std::string &request_id, const std::string &target = {}) {
    return "HTTP/1.1 200 OK\r\n"
           "Content-Type: text/event-stream\r\n"
           "Cache-Control: no-cache\r\n"
           "X-Accel-Buffering: no\r\n"
           "Server: llmhost\r\n"
           "x-request-id: " +
           request_id + "\r\n" + (target.empty() ? "" : "x-llmhost-target: " + target + "\r\n") +
           "Transfer-Encoding: chunked\r\n\r\n";
}
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// One HTTP/1.1 chunk: "<hex size>\r\n<bytes>\r\n".
inline std::string chunk(std::string_view bytes) {
    char size[20];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    std::string out(size, static_cast<std::size_t>(n));
    out.append(bytes).append("\r\n");
    return out;
}

inline ApiError make_error(int status, std::string message,
                           std::string type = "invalid_request_error", std::string code = {}) {
    ApiError e;
    e.status = status;
    e.message = std::move(message);
    e.type = std::move(type);
    e.code = std::move(code);
    return e;
}

} // namespace session_detail

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    // `metrics_listener`: a connection to the separate metrics port (only /metrics and /health).
    HttpSession(boost::asio::ip::tcp::socket &&socket, ServerState &state,
                bool metrics_listener = false);
    ~HttpSession();
    void run();

private:
    // One generation: shared by the session (strand) and the worker running it.
    struct Call {
        std::atomic<bool> cancelled{false};
        std::mutex m;
        std::condition_variable cv;
        std::string pending;                // bytes ready to be written
        bool writing = false;               // the session owns the write side
        bool final = false;                 // the last bytes have been queued
        bool dead = false;                  // a write failed: the client is gone
        bool close_after = false;           // close the connection after the last bytes
        std::shared_ptr<RequestRecord> rec; // the worker fills provider, model, tokens, timings
    };
    static constexpr std::size_t kMaxPending = 1u << 20;

    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void route();
    bool authorize(const std::vector<std::string> &keys);
    int key_index(const std::vector<std::string> &keys); // -1: no matching key
    void handle_metrics();
    void handle_generation(bool chat);
    // GET /v1/models (id empty) or GET /v1/models/{id} (id still percent-encoded).
    void handle_models(std::string id);
    void handle_admin(const std::string &path);

    // Worker side.
    void run_generation(std::shared_ptr<Call> call, ParsedRequest p);
    void run_stream(const std::shared_ptr<Call> &call, ParsedRequest &p, const ResponseMeta &meta);
    static std::string event_chunk(const ResponseMeta &meta, const Event &e,
                                   std::optional<LogprobsBuilder> &lp);
    std::vector<ModelEntry> list_models(); // every provider x its models; remembers aliases
    bool push(const std::shared_ptr<Call> &call, std::string bytes, bool final,
              bool close_after = false);
    void post_json(int status, std::string body);
    void post_error(ApiError e);

    // Session side (strand).
    void send_json(int status, std::string body, const ApiError *error = nullptr);
    void send_error(const ApiError &e) { send_json(e.status, error_body(e), &e); }
    void send_body(int status, std::string body, std::string_view content_type,
                   const ApiError *error = nullptr);
    void on_write(bool close, boost::beast::error_code ec, std::size_t bytes);
    void watch_peer();
    void on_peer_readable(std::shared_ptr<Call> call, boost::beast::error_code ec);
    void flush_stream();
    void on_stream_write(boost::beast::error_code ec, std::size_t bytes);
    void end_stream(bool close);
    void finish_request(bool close);
    void do_close();

    boost::beast::tcp_stream stream_;
    boost::asio::any_io_executor executor_; // the strand; workers post here
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    boost::beast::http::request<boost::beast::http::string_body> req_;
    std::shared_ptr<boost::beast::http::response<boost::beast::http::string_body>> res_;
    ServerState &st_;
    bool loopback_ = false;
    bool metrics_listener_ = false;
    std::shared_ptr<RequestRecord> rec_; // the request being answered
    // Its keys-file entry (null: a plain key or none); read by the worker of this request.
    std::shared_ptr<const KeyEntry> key_;
    bool request_active_ = false;        // counted in st_.active_requests
    bool watching_ = false;              // an async_wait for EOF is pending
    std::shared_ptr<Call> call_;
    std::string stream_writing_; // the bytes of the write in flight
};

} // namespace llmhost::server
