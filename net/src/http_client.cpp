// HttpClient: libcurl's multi-socket API on a Boost.Asio io_context (see curl's asiohiper example).
//
// Everything that touches the multi handle or an easy handle runs on the one io thread; other
// threads only post to it. curl asks us, through socket_cb, to watch a socket for read/write, and
// through timer_cb to arm one timer; when Asio sees readiness or the timer fires we call
// curl_multi_socket_action, then collect finished transfers with curl_multi_info_read.
// Redirects are followed here (not by curl) so the Authorization rule is applied on every hop.
#include <llmhost/net/http_client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <poll.h>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace asio = boost::asio;

namespace llmhost::net {

struct Transfer::State {
    std::weak_ptr<HttpClient::Impl> client;
    Request req;
    Handlers handlers;
    std::string url;         // current hop
    std::string auth_origin; // origin allowed to see the token
    CURL *easy = nullptr;
    curl_slist *header_list = nullptr;
    char errbuf[CURL_ERROR_SIZE] = {};
    int redirects = 0;
    // Per hop:
    int status = 0;
    Headers headers;
    bool redirecting = false; // this hop's body is a redirect's: discarded
    std::uint64_t body_bytes = 0;
    Error stop_error = Error::none; // set when a callback stopped the transfer
    std::string stop_message;
    bool finished = false;
};

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
    explicit Impl(ClientOptions o) : options(std::move(o)), work(asio::make_work_guard(io)), timer(io) {}

    struct Socket {
        explicit Socket(asio::io_context &io, curl_socket_t fd) : sd(io, fd) {}
        asio::posix::stream_descriptor sd;
        int what = 0;
        bool read_armed = false, write_armed = false;
    };

    ClientOptions options;
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    asio::steady_timer timer;
    CURLM *multi = nullptr;
    std::thread thread;
    std::thread::id io_id;
    std::atomic<bool> closing{false};
    std::unordered_map<curl_socket_t, std::unique_ptr<Socket>> sockets;
    std::unordered_map<CURL *, std::shared_ptr<Transfer::State>> active;

    // ---- curl callbacks (called from inside curl, on the io thread) --------------------------

    static int socket_cb(CURL *, curl_socket_t fd, int what, void *userp, void *) {
        auto *self = static_cast<Impl *>(userp);
        if (what == CURL_POLL_REMOVE) {
            self->forget_socket(fd);
            return 0;
        }
        auto it = self->sockets.find(fd);
        if (it == self->sockets.end())
            it = self->sockets.emplace(fd, std::make_unique<Socket>(self->io, fd)).first;
        it->second->what = what;
        self->arm(fd);
        return 0;
    }

    static int timer_cb(CURLM *, long timeout_ms, void *userp) {
        auto *self = static_cast<Impl *>(userp);
        if (timeout_ms < 0) {
            self->timer.cancel();
            return 0;
        }
        // Never call socket_action from inside curl: a zero timeout is deferred through Asio too.
        self->timer.expires_after(Millis(timeout_ms));
        self->timer.async_wait([self](const boost::system::error_code &ec) {
            if (ec) return;
            int running = 0;
            curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            self->collect_done();
        });
        return 0;
    }

    void forget_socket(curl_socket_t fd) {
        auto it = sockets.find(fd);
        if (it == sockets.end()) return;
        boost::system::error_code ec;
        it->second->sd.cancel(ec);
        it->second->sd.release(); // curl owns and closes the fd
        sockets.erase(it);
    }

    // Asio's epoll reactor is edge-triggered and its waits are not speculative: readiness that
    // arrived while no wait was pending (or bytes curl left in the socket, since it reads a
    // bounded amount per call) would never be reported again. So check the level first and, when
    // the socket is already ready, come back through the queue instead of waiting for an edge.
    static bool ready_now(curl_socket_t fd, short events) {
        pollfd p{fd, events, 0};
        return ::poll(&p, 1, 0) == 1 && (p.revents & (events | POLLERR | POLLHUP));
    }

    void arm(curl_socket_t fd) {
        auto it = sockets.find(fd);
        if (it == sockets.end()) return;
        Socket &s = *it->second;
        if ((s.what & CURL_POLL_IN) && !s.read_armed) {
            s.read_armed = true;
            if (ready_now(fd, POLLIN))
                asio::post(io, [this, fd] { on_ready(fd, {}, CURL_CSELECT_IN); });
            else
                s.sd.async_wait(asio::posix::stream_descriptor::wait_read,
                                [this, fd](const boost::system::error_code &ec) { on_ready(fd, ec, CURL_CSELECT_IN); });
        }
        if ((s.what & CURL_POLL_OUT) && !s.write_armed) {
            s.write_armed = true;
            if (ready_now(fd, POLLOUT))
                asio::post(io, [this, fd] { on_ready(fd, {}, CURL_CSELECT_OUT); });
            else
                s.sd.async_wait(asio::posix::stream_descriptor::wait_write,
                                [this, fd](const boost::system::error_code &ec) { on_ready(fd, ec, CURL_CSELECT_OUT); });
        }
    }

    void on_ready(curl_socket_t fd, const boost::system::error_code &ec, int direction) {
        if (ec == asio::error::operation_aborted) return; // socket forgotten (maybe fd reused since)
        auto it = sockets.find(fd);
        if (it == sockets.end()) return;
        (direction == CURL_CSELECT_IN ? it->second->read_armed : it->second->write_armed) = false;
        int wanted = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
        if (!(it->second->what & wanted)) return; // curl lost interest meanwhile
        int flags = ec ? CURL_CSELECT_ERR : direction;
        int running = 0;
        curl_multi_socket_action(multi, fd, flags, &running);
        collect_done();
        arm(fd); // the socket may be gone or want something else now: arm() looks it up again
    }

    static std::size_t header_cb(char *data, std::size_t size, std::size_t n, void *userp) {
        auto *st = static_cast<Transfer::State *>(userp);
        std::size_t len = size * n;
        std::string_view line(data, len);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        if (line.substr(0, 5) == "HTTP/") { // a new response (1xx, proxy CONNECT or the real one)
            st->headers.clear();
            auto sp = line.find(' ');
            st->status = sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
            return len;
        }
        if (!line.empty()) {
            auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                auto value = line.substr(colon + 1);
                while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
                st->headers.add(std::string(line.substr(0, colon)), std::string(value));
            }
            return len;
        }
        // Blank line: this response's headers are complete.
        if (st->status >= 100 && st->status < 200) return len;
        bool redirect = st->status == 301 || st->status == 302 || st->status == 303 ||
                        st->status == 307 || st->status == 308;
        if (st->req.follow_redirects && redirect && st->headers.has("Location")) {
            st->redirecting = true;
            return len;
        }
        if (st->handlers.on_headers && !st->handlers.on_headers(st->status, st->headers)) {
            st->stop_error = Error::aborted;
            st->stop_message = "stopped by the response-headers handler";
            return 0;
        }
        return len;
    }

    static std::size_t write_cb(char *data, std::size_t size, std::size_t n, void *userp) {
        auto *st = static_cast<Transfer::State *>(userp);
        std::size_t len = size * n;
        if (st->redirecting) return len;
        st->body_bytes += len;
        if (st->handlers.on_data && !st->handlers.on_data(std::string_view(data, len))) {
            if (st->stop_error == Error::none) {
                st->stop_error = Error::aborted;
                st->stop_message = "stopped by the response-body handler";
            }
            return 0; // curl ends the transfer with CURLE_WRITE_ERROR
        }
        return len;
    }

    // ---- transfers ------------------------------------------------------------------------------

    // Header lines are built from caller data (tokens from the environment or a config file): a
    // CR or LF would end the header and start another one of the attacker's choosing, a NUL would
    // cut it. Such a header is refused, naming the header, never quoting its value.
    static std::string header_problem(const Request &r) {
        auto bad_value = [](std::string_view v) {
            return std::any_of(v.begin(), v.end(), [](char c) {
                auto u = static_cast<unsigned char>(c);
                return (u < 0x20 && c != '\t') || u == 0x7f;
            });
        };
        auto bad_name = [&](std::string_view n) {
            return n.empty() || bad_value(n) || n.find_first_of(" \t:") != std::string_view::npos;
        };
        for (const auto &[k, v] : r.headers.items()) {
            if (bad_name(k))
                return "a request header name is empty or holds a control character, blank or ':'";
            if (bad_value(v))
                return "request header '" + k + "' holds a line break or another control character";
        }
        if (r.bearer_token && (bad_value(*r.bearer_token) ||
                               r.bearer_token->find_first_of(" \t") != std::string::npos))
            return "the bearer token holds a line break, blank or another control character";
        return {};
    }

    bool setup_hop(Transfer::State &st) {
        if (!st.easy) st.easy = curl_easy_init();
        else curl_easy_reset(st.easy);
        if (st.header_list) curl_slist_free_all(st.header_list);
        st.header_list = nullptr;
        st.status = 0;
        st.headers.clear();
        st.redirecting = false;
        st.body_bytes = 0;
        st.errbuf[0] = '\0';
        CURL *e = st.easy;
        if (!e) return false;
        const Request &r = st.req;
        curl_easy_setopt(e, CURLOPT_URL, st.url.c_str());
        curl_easy_setopt(e, CURLOPT_PRIVATE, &st);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, st.errbuf);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::header_cb);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &st);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::write_cb);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &st);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); // prefer multiplexing on an HTTP/2 connection
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                         options.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, static_cast<long>(options.receive_buffer));
        if (!options.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_bundle.c_str());
        if (options.verbose) curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
        if (r.timeouts.connect.count() > 0)
            curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.timeouts.connect.count()));
        if (r.timeouts.total.count() > 0)
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeouts.total.count()));
        if (r.timeouts.idle.count() > 0) {
            long secs = static_cast<long>((r.timeouts.idle.count() + 999) / 1000);
            curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, secs);
            curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, std::max(1L, r.timeouts.idle_min_bytes));
        }
        if (r.method == "HEAD") {
            curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        } else if (r.method == "GET") {
            curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        } else {
            if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
            if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH" || !r.body.empty()) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data()); // r outlives the transfer
            }
        }
        if (r.range_from > 0) {
            std::string range = std::to_string(r.range_from) + "-";
            curl_easy_setopt(e, CURLOPT_RANGE, range.c_str()); // curl copies option strings
        }
        for (const auto &[k, v] : r.headers.items()) {
            if (strcasecmp(k.c_str(), "Authorization") == 0) continue; // only via bearer_token
            std::string line = k + (v.empty() ? ";" : ": " + v);
            st.header_list = curl_slist_append(st.header_list, line.c_str());
        }
        if (!r.body.empty() && !r.headers.has("Expect"))
            st.header_list = curl_slist_append(st.header_list, "Expect:");
        if (r.bearer_token && !r.bearer_token->empty() && url_origin(st.url) == st.auth_origin) {
            std::string line = "Authorization: Bearer " + *r.bearer_token;
            st.header_list = curl_slist_append(st.header_list, line.c_str());
        }
        if (st.header_list) curl_easy_setopt(e, CURLOPT_HTTPHEADER, st.header_list);
        return true;
    }

    void begin(const std::shared_ptr<Transfer::State> &st) {
        if (st->finished) return;
        if (closing) return finish(st, Error::cancelled, "the HTTP client is shutting down", 0);
        if (auto problem = header_problem(st->req); !problem.empty())
            return finish(st, Error::invalid_request, problem + "; the request was not sent", 0);
        if (!setup_hop(*st)) return finish(st, Error::invalid_request, "curl could not create a handle", 0);
        CURLMcode mc = curl_multi_add_handle(multi, st->easy);
        if (mc != CURLM_OK)
            return finish(st, Error::invalid_request, curl_multi_strerror(mc), 0);
        active[st->easy] = st;
    }

    void collect_done() {
        CURLMsg *msg;
        int left = 0;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *e = msg->easy_handle;
            CURLcode rc = msg->data.result;
            auto it = active.find(e);
            if (it == active.end()) continue;
            auto st = it->second;
            active.erase(it);
            curl_multi_remove_handle(multi, e);
            on_hop_done(st, rc);
        }
    }

    static Error classify(CURLcode rc) {
        switch (rc) {
        case CURLE_OK: return Error::none;
        case CURLE_OPERATION_TIMEDOUT: return Error::timeout;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_BAD_FUNCTION_ARGUMENT: return Error::invalid_request;
        case CURLE_ABORTED_BY_CALLBACK: return Error::cancelled;
        default: return Error::network;
        }
    }

    std::string host_of(const std::string &url) {
        auto o = url_origin(url);
        return o.empty() ? url : o;
    }

    void on_hop_done(const std::shared_ptr<Transfer::State> &st, CURLcode rc) {
        if (st->stop_error != Error::none)
            return finish(st, st->stop_error, st->stop_message, static_cast<int>(rc));
        if (rc != CURLE_OK) {
            std::string msg = std::string(curl_easy_strerror(rc));
            if (st->errbuf[0]) msg += std::string(" (") + st->errbuf + ")";
            msg += " while requesting " + host_of(st->url);
            return finish(st, classify(rc), msg, static_cast<int>(rc));
        }
        if (st->redirecting) {
            if (++st->redirects > st->req.max_redirects)
                return finish(st, Error::too_many_redirects,
                              "more than " + std::to_string(st->req.max_redirects) +
                                  " redirects starting at " + host_of(st->req.url), 0);
            std::string next = resolve_url(st->url, *st->headers.get("Location"));
            if (st->status == 303 || ((st->status == 301 || st->status == 302) && st->req.method == "POST")) {
                st->req.method = "GET";
                st->req.body.clear();
            }
            st->url = std::move(next);
            return begin(st);
        }
        finish(st, Error::none, {}, 0);
    }

    void finish(const std::shared_ptr<Transfer::State> &st, Error err, std::string message, int curl_code) {
        if (st->finished) return;
        st->finished = true;
        Response r;
        r.error = err;
        r.error_message = std::move(message);
        r.curl_code = curl_code;
        r.status = st->status;
        r.headers = std::move(st->headers);
        r.effective_url = st->url;
        r.body_bytes = st->body_bytes;
        r.redirects = st->redirects;
        if (st->easy) {
            curl_easy_cleanup(st->easy);
            st->easy = nullptr;
        }
        if (st->header_list) curl_slist_free_all(st->header_list);
        st->header_list = nullptr;
        auto on_complete = std::move(st->handlers.on_complete);
        st->handlers = {};
        if (on_complete) on_complete(r);
    }

    void cancel(const std::shared_ptr<Transfer::State> &st) {
        if (st->finished) return;
        if (st->easy && active.erase(st->easy)) curl_multi_remove_handle(multi, st->easy);
        finish(st, Error::cancelled, "cancelled", 0);
    }

    void shutdown() {
        closing = true;
        auto all = active;
        for (auto &[e, st] : all) cancel(st);
        timer.cancel();
        std::vector<curl_socket_t> fds;
        for (auto &[fd, s] : sockets) fds.push_back(fd);
        for (auto fd : fds) forget_socket(fd);
        work.reset();
        io.stop();
    }
};

namespace {
std::once_flag g_curl_init;
}

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {
    std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    Impl &m = *impl_;
    m.multi = curl_multi_init();
    if (!m.multi) throw std::runtime_error("libcurl: curl_multi_init failed");
    curl_multi_setopt(m.multi, CURLMOPT_SOCKETFUNCTION, &Impl::socket_cb);
    curl_multi_setopt(m.multi, CURLMOPT_SOCKETDATA, &m);
    curl_multi_setopt(m.multi, CURLMOPT_TIMERFUNCTION, &Impl::timer_cb);
    curl_multi_setopt(m.multi, CURLMOPT_TIMERDATA, &m);
    curl_multi_setopt(m.multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(m.multi, CURLMOPT_MAX_HOST_CONNECTIONS, m.options.max_connections_per_host);
    curl_multi_setopt(m.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, m.options.max_total_connections);
    std::promise<void> started;
    auto ready = started.get_future();
    m.thread = std::thread([&m, &started] {
        m.io_id = std::this_thread::get_id();
        started.set_value();
        m.io.run();
    });
    ready.wait();
}

HttpClient::~HttpClient() {
    Impl &m = *impl_;
    asio::post(m.io, [&m] { m.shutdown(); });
    if (m.thread.joinable()) m.thread.join();
    curl_multi_cleanup(m.multi);
    m.multi = nullptr;
}

Transfer HttpClient::start(Request request, Handlers handlers) {
    auto st = std::make_shared<Transfer::State>();
    st->client = impl_;
    st->url = request.url;
    st->auth_origin = url_origin(request.auth_origin.empty() ? request.url : request.auth_origin);
    st->req = std::move(request);
    st->handlers = std::move(handlers);
    if (impl_->closing) {
        Response r;
        r.error = Error::cancelled;
        r.error_message = "the HTTP client is shutting down";
        if (st->handlers.on_complete) st->handlers.on_complete(r);
        return Transfer(st);
    }
    auto impl = impl_;
    asio::post(impl->io, [impl, st] { impl->begin(st); });
    return Transfer(st);
}

void Transfer::cancel() {
    if (!state_) return;
    if (auto impl = state_->client.lock()) {
        auto st = state_;
        asio::post(impl->io, [impl, st] { impl->cancel(st); });
    }
}

Response HttpClient::fetch(Request request, std::size_t max_body) {
    if (on_io_thread()) throw std::logic_error("HttpClient::fetch called on the io thread (would deadlock)");
    auto body = std::make_shared<std::string>();
    auto done = std::make_shared<std::promise<Response>>();
    auto result = done->get_future();
    Handlers h;
    h.on_data = [body, max_body](std::string_view chunk) {
        if (body->size() + chunk.size() > max_body) return false;
        body->append(chunk);
        return true;
    };
    h.on_complete = [body, done](const Response &r) {
        Response copy = r;
        copy.body = std::move(*body);
        done->set_value(std::move(copy));
    };
    start(std::move(request), std::move(h));
    return result.get();
}

void HttpClient::schedule(Millis delay, std::function<void()> fn) {
    auto impl = impl_;
    asio::post(impl->io, [impl, delay, fn = std::move(fn)]() mutable {
        auto t = std::make_shared<asio::steady_timer>(impl->io, delay);
        t->async_wait([t, fn = std::move(fn)](const boost::system::error_code &ec) {
            if (!ec) fn();
        });
    });
}

bool HttpClient::on_io_thread() const { return std::this_thread::get_id() == impl_->io_id; }

const ClientOptions &HttpClient::options() const { return impl_->options; }

} // namespace llmhost::net
