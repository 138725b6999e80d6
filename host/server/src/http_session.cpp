#include "http_session.hpp"

#include "auth.hpp"

#include <llmhost/plugin.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <functional>
#include <chrono>
#include <cstdio>

namespace llmhost::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using namespace session_detail;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(120); // keep-alive and request read
constexpr auto kWriteTimeout = std::chrono::seconds(60); // a client that stops reading

} // namespace

HttpSession::HttpSession(tcp::socket &&socket, ServerState &state, bool metrics_listener)
    : stream_(std::move(socket)), executor_(stream_.get_executor()), st_(state),
      metrics_listener_(metrics_listener) {
    beast::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    loopback_ = !ec && remote.address().is_loopback();
}

HttpSession::~HttpSession() {
    if (request_active_) --st_.active_requests;
    if (rec_ && rec_->tracked) --st_.requests_in_flight; // ended without an answer (shutdown)
}

void HttpSession::run() {
    asio::dispatch(executor_, beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
}

void HttpSession::do_read() {
    parser_.emplace();
    parser_->body_limit(st_.options.max_body);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
        return do_close();
    request_active_ = true;
    ++st_.active_requests;
    rec_ = std::make_shared<RequestRecord>();
    if (ec) { // no request to read an id or a path from
        rec_->id = request_id_from("");
        rec_->endpoint = "other";
        rec_->tracked = true;
        ++st_.requests_in_flight;
    }
    if (ec == http::error::body_limit) {
        req_ = {};
        req_.keep_alive(false);
        return send_error(make_error(413, "the request body exceeds the server's limit of " +
                                              std::to_string(st_.options.max_body) +
                                              " bytes (llmhost serve --max-body)"));
    }
    if (ec) {
        req_ = {};
        req_.keep_alive(false);
        return send_error(make_error(400, "malformed HTTP request: " + ec.message()));
    }
    req_ = parser_->release();
    stream_.expires_never(); // generations may take long; writes set their own deadline
    {
        std::string target(req_.target());
        std::string path = target.substr(0, target.find('?'));
        auto id = req_.find("x-request-id");
        rec_->id = request_id_from(id == req_.end() ? std::string_view()
                                                       : std::string_view(id->value().data(), id->value().size()));
        // Probes and scrapes would drown the log and skew the counts: not tracked.
        rec_->tracked = path != "/metrics" && path != "/health" && path != "/v1/health";
        rec_->endpoint = endpoint_label(path);
        if (rec_->tracked) ++st_.requests_in_flight;
    }
    route();
}

bool HttpSession::authorize(const std::vector<std::string> &keys) { return key_index(keys) >= 0; }

int HttpSession::key_index(const std::vector<std::string> &keys) {
    auto it = req_.find(http::field::authorization);
    return it == req_.end() ? -1 : bearer_key_index(it->value(), keys);
}

void HttpSession::handle_metrics() {
    const auto method = req_.method();
    if (method != http::verb::get && method != http::verb::head)
        return send_error(make_error(405, "use GET /metrics"));
    const auto &o = st_.options;
    // Any client or admin key may scrape; --metrics-no-auth (loopback listeners only, checked
    // by Server::start) lets a local scraper in without one.
    // Keys-file keys do not scrape: the metrics show every key's usage.
    if (!o.metrics_no_auth && (st_.client_keys_required() || !o.admin_keys.empty()) &&
        !authorize(o.api_keys) && !authorize(o.admin_keys))
        return send_error(make_error(401, "GET /metrics needs a key: send Authorization: Bearer "
                                          "<client or admin key> (or start llmhost serve with "
                                          "--metrics-no-auth on a loopback address)",
                                     "invalid_request_error", "invalid_api_key"));
    send_body(200, st_.metrics.scrape(), metrics::kContentType);
}

void HttpSession::route() {
    std::string target(req_.target());
    std::string path = target.substr(0, target.find('?'));
    const auto method = req_.method();

    if (st_.draining) {
        req_.keep_alive(false);
        ApiError e = make_error(503, "llmhost serve is shutting down; retry on another instance",
                                "server_error", "shutting_down");
        e.retry_after_s = 1;
        return send_error(e);
    }
    if (!loopback_ && !st_.client_keys_required() && !st_.options.insecure_public)
        return send_error(make_error(
            403, "this llmhost serve has no API key configured, so it serves only clients on "
                 "this machine (loopback); its operator can set LLMHOST_API_KEYS (or pass "
                 "--insecure-public)", "permission_error", "loopback_only"));
    if (path == "/health" || path == "/v1/health") {
        if (method != http::verb::get && method != http::verb::head)
            return send_error(make_error(405, "use GET /health"));
        return send_json(200, R"({"status":"ok"})");
    }
    if (path == "/metrics") {
        // With --metrics-port the main port does not serve them: its auth rules may differ.
        if (st_.options.separate_metrics_listener && !metrics_listener_)
            return send_error(make_error(404, "GET /metrics is served on the metrics port "
                                              "(llmhost serve --metrics-port)",
                                         "invalid_request_error", "unknown_url"));
        return handle_metrics();
    }
    if (metrics_listener_)
        return send_error(make_error(404, "this is the metrics listener: it answers GET /metrics "
                                          "and GET /health only", "invalid_request_error",
                                     "unknown_url"));
    if (path.rfind("/admin/", 0) == 0) {
        if (st_.options.admin_keys.empty())
            return send_error(make_error(403, "the admin endpoints are disabled: start llmhost serve "
                                              "with LLMHOST_ADMIN_KEYS (or --admin-key)",
                                         "permission_error", "admin_disabled"));
        const int admin = key_index(st_.options.admin_keys);
        rec_->key = admin >= 0 ? key_name("admin", admin) : "invalid";
        if (admin < 0)
            return send_error(make_error(401, "missing or wrong admin key: send Authorization: "
                                              "Bearer <admin key>", "invalid_request_error",
                                         "invalid_api_key"));
        if (method != http::verb::post)
            return send_error(make_error(405, "the admin endpoints take POST"));
        return handle_admin(path);
    }
    const int client = st_.options.api_keys.empty() ? -1 : key_index(st_.options.api_keys);
    key_.reset();
    if (client < 0 && st_.keys.enabled())
        if (auto it = req_.find(http::field::authorization); it != req_.end())
            key_ = st_.keys.find(it->value());
    rec_->scoped_key = key_ != nullptr;
    if (st_.client_keys_required())
        rec_->key = client >= 0 ? key_name("key", client) : key_ ? key_->name : "invalid";
    if (st_.client_keys_required() && client < 0 && !key_)
        return send_error(make_error(401, "incorrect or missing API key: send Authorization: "
                                          "Bearer <key> with one of the server's keys "
                                          "(OPENAI_API_KEY for the OpenAI SDKs)",
                                     "invalid_request_error", "invalid_api_key"));
    auto want = [&](http::verb v) {
        if (method == v) return true;
        send_error(make_error(405, std::string("use ") + std::string(http::to_string(v)) + " " + path));
        return false;
    };
    if (path == "/v1/chat/completions") {
        if (want(http::verb::post)) handle_generation(true);
    } else if (path == "/v1/completions") {
        if (want(http::verb::post)) handle_generation(false);
    } else if (path == "/v1/models") {
        if (want(http::verb::get)) handle_models("");
    } else if (path.rfind("/v1/models/", 0) == 0 && path.size() > 11) { // ids may contain '/'
        if (want(http::verb::get)) handle_models(path.substr(11));
    } else {
        send_error(make_error(404, "unknown endpoint " + path + ": llmhost serve answers POST "
                                   "/v1/chat/completions, POST /v1/completions, GET /v1/models, "
                                   "GET /v1/models/{id}, GET /health, GET /metrics",
                              "invalid_request_error", "unknown_url"));
    }
}

void HttpSession::handle_generation(bool chat) {
    ApiError err;
    auto parsed = chat ? parse_chat_request(req_.body(), err) : parse_completion_request(req_.body(), err);
    rec_->generation = true;
    if (st_.options.log_content) rec_->request_body = req_.body();
    if (!parsed) return send_error(err);
    rec_->stream = parsed->request.stream;
    if (key_)
        if (double wait = st_.keys.admit(*key_); wait > 0) {
            ApiError e = make_error(
                429,
                "key '" + key_->name + "' is over its limit (" + std::to_string(key_->rpm) +
                    " requests per minute" +
                    (key_->tpm ? ", " + std::to_string(key_->tpm) + " tokens per minute" : "") +
                    "); retry in " + std::to_string(static_cast<long>(wait + 0.999)) + " s",
                "rate_limit_error", "rate_limit_exceeded");
            e.retry_after_s = wait;
            return send_error(e);
        }
    call_ = std::make_shared<Call>();
    call_->rec = rec_;
    auto self = shared_from_this();
    bool accepted = st_.workers.try_submit(
        [self, call = call_, p = std::move(*parsed)]() mutable { self->run_generation(call, std::move(p)); });
    if (!accepted) {
        call_.reset();
        ++st_.rejected;
        ApiError e = make_error(429, "llmhost serve is at capacity (" +
                                         std::to_string(st_.options.max_concurrency) + " running, " +
                                         std::to_string(st_.options.queue) +
                                         " queued); retry shortly", "rate_limit_error",
                                "server_busy");
        e.retry_after_s = 1;
        return send_error(e);
    }
    watch_peer();
}

void HttpSession::handle_admin(const std::string &path) {
    constexpr std::string_view prefix = "/admin/providers/";
    std::string name, entry;
    if (path == "/admin/reload") {
    } else if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() &&
               path.find('/', prefix.size()) == std::string::npos) {
        name = path.substr(prefix.size());
        entry = req_.body();
    } else {
        return send_error(make_error(404, "unknown admin endpoint " + path +
                                              ": use POST /admin/reload or POST /admin/providers/<name>"));
    }
    auto self = shared_from_this();
    bool accepted = st_.admin.try_submit([self, name, entry] {
        try {
            if (name.empty()) {
                if (!self->st_.reload_keys("POST /admin/reload"))
                    return self->post_error(make_error(
                        400, "the keys file was refused (see the server log); the previous keys "
                             "stay and the configuration was not reloaded",
                        "invalid_request_error", "keys_file_invalid"));
                try {
                    self->st_.backend->reload();
                } catch (...) {
                    self->st_.metrics.reload_done("admin", false);
                    throw;
                }
                self->st_.metrics.reload_done("admin", true);
                self->st_.metrics.labels().forget();
                self->st_.log("reloaded the configuration (POST /admin/reload)");
                self->post_json(200, R"({"status":"reloaded"})");
            } else {
                try {
                    self->st_.backend->swap(name, entry);
                } catch (...) {
                    self->st_.metrics.swap_done(false);
                    throw;
                }
                self->st_.metrics.swap_done(true);
                self->st_.metrics.labels().forget();
                self->st_.log("swapped provider '" + name + "' (POST /admin/providers/" + name + ")");
                self->post_json(200, nlohmann::json{{"status", "swapped"}, {"provider", name}}.dump());
            }
        } catch (const BackendError &e) {
            self->st_.log(std::string("admin request failed: ") + e.what());
            ApiError a = api_error_from_backend(e, name);
            if (a.status >= 500 && e.code != LLMH_ERR_NETWORK) a.status = 400; // a bad entry, not a crash
            self->post_error(a);
        } catch (const std::exception &e) {
            self->post_error(make_error(500, std::string("admin request failed: ") + e.what(), "server_error"));
        }
    });
    if (!accepted) send_error(make_error(429, "too many admin requests in flight", "rate_limit_error"));
}

// ---- worker side -------------------------------------------------------------------------------

void HttpSession::post_json(int status, std::string body) {
    asio::post(executor_, [self = shared_from_this(), status, body = std::move(body)]() mutable {
        self->send_json(status, std::move(body));
    });
}

void HttpSession::post_error(ApiError e) {
    asio::post(executor_, [self = shared_from_this(), e = std::move(e)] { self->send_error(e); });
}

bool HttpSession::push(const std::shared_ptr<Call> &call, std::string bytes, bool final,
                       bool close_after) {
    std::unique_lock lk(call->m);
    if (call->dead) {
        lk.unlock();
        if (final) asio::post(executor_, [self = shared_from_this()] { self->end_stream(true); });
        return false;
    }
    call->pending += bytes;
    call->final |= final;
    call->close_after |= close_after;
    const bool start = !call->writing;
    call->writing = true;
    if (start) asio::post(executor_, [self = shared_from_this()] { self->flush_stream(); });
    if (!final) // back-pressure: do not run ahead of a slow reader without bound
        call->cv.wait(lk, [&] {
            return call->pending.size() < kMaxPending || call->dead || call->cancelled || st_.abort_all;
        });
    return !call->dead;
}

// ---- session side (strand) ----------------------------------------------------------------------

void HttpSession::send_json(int status, std::string body, const ApiError *error) {
    send_body(status, std::move(body), "application/json", error);
}

void HttpSession::send_body(int status, std::string body, std::string_view content_type,
                            const ApiError *error) {
    res_ = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status),
                                                                req_.version() ? req_.version() : 11);
    res_->set(http::field::server, "llmhost");
    res_->set(http::field::content_type, content_type);
    if (rec_) {
        res_->set("x-request-id", rec_->id);
        if (!rec_->target.empty()) res_->set("x-llmhost-target", rec_->target);
        rec_->status = status;
        if (error) rec_->error = error->code.empty() ? error->type : error->code;
    }
    if (error && error->retry_after_s > 0)
        res_->set(http::field::retry_after, std::to_string(static_cast<long>(error->retry_after_s + 0.999)));
    if (error && !error->should_retry) res_->set("x-should-retry", "false");
    res_->keep_alive(req_.keep_alive() && !st_.draining);
    res_->body() = std::move(body);
    res_->prepare_payload();
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(),
                                                !res_->keep_alive()));
}

void HttpSession::on_write(bool close, beast::error_code ec, std::size_t) {
    res_.reset();
    finish_request(close || static_cast<bool>(ec));
}

void HttpSession::watch_peer() {
    watching_ = true;
    stream_.socket().async_wait(tcp::socket::wait_read,
                                beast::bind_front_handler(&HttpSession::on_peer_readable,
                                                          shared_from_this(), call_));
}

void HttpSession::on_peer_readable(std::shared_ptr<Call> call, beast::error_code ec) {
    if (ec || call != call_ || !watching_) return; // cancelled: the request already ended
    char c;
    ssize_t n = ::recv(stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return watch_peer();
    watching_ = false;
    if (n > 0) return; // a pipelined request: the client is still there
    call->cancelled = true; // EOF or reset: the client went away, stop generating
    call->cv.notify_all();
}

void HttpSession::flush_stream() {
    std::unique_lock lk(call_->m);
    if (call_->pending.empty()) {
        if (call_->final) {
            bool close = call_->close_after;
            lk.unlock();
            return end_stream(close);
        }
        call_->writing = false;
        return;
    }
    stream_writing_.clear();
    stream_writing_.swap(call_->pending);
    lk.unlock();
    call_->cv.notify_all();
    stream_.expires_after(kWriteTimeout);
    asio::async_write(stream_, asio::buffer(stream_writing_),
                      beast::bind_front_handler(&HttpSession::on_stream_write, shared_from_this()));
}

void HttpSession::on_stream_write(beast::error_code ec, std::size_t) {
    if (!ec) return flush_stream();
    call_->cancelled = true;
    bool final;
    {
        std::lock_guard lk(call_->m);
        call_->dead = true;
        final = call_->final;
    }
    call_->cv.notify_all();
    if (final) end_stream(true); // otherwise the worker's last push ends it (see push)
}

void HttpSession::end_stream(bool close) { finish_request(close); }

void HttpSession::finish_request(bool close) {
    if (watching_) {
        watching_ = false;
        beast::error_code ignored;
        stream_.socket().cancel(ignored); // ends the EOF watch
    }
    call_.reset();
    if (rec_) {
        if (rec_->tracked) {
            rec_->total_ms = rec_->since_start_ms();
            st_.finish(*rec_);
            --st_.requests_in_flight;
        }
        rec_.reset();
    }
    if (request_active_) {
        request_active_ = false;
        ++st_.served;
        --st_.active_requests;
    }
    if (close || st_.draining) return do_close();
    do_read();
}

void HttpSession::do_close() {
    // Lingering close: after our FIN, read and drop what the client still sends (e.g. the rest of
    // a body refused with 413) until it closes too. Closing with unread bytes would send a reset
    // that can destroy our answer before the client has read it.
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
        stream_.socket().close(ec);
        return;
    }
    stream_.expires_after(std::chrono::seconds(2));
    auto drain = std::make_shared<std::array<char, 16384>>();
    auto total = std::make_shared<std::size_t>(0);
    auto self = shared_from_this();
    auto step = std::make_shared<std::function<void(beast::error_code, std::size_t)>>();
    *step = [self, drain, total, step](beast::error_code e, std::size_t n) {
        *total += n;
        if (e || *total > (64u << 20)) {
            beast::error_code ignored;
            self->stream_.socket().close(ignored);
            *step = nullptr; // break the self-reference
            return;
        }
        self->stream_.async_read_some(asio::buffer(*drain), *step);
    };
    stream_.async_read_some(asio::buffer(*drain), *step);
}

} // namespace llmhost::server
