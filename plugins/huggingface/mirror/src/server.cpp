// The mirror's HTTP server, in the style of Beast's http_server_async example: a listener that
// accepts connections and one Session per connection that reads a request, writes the response
// (header, then the body streamed from disk in chunks), and loops for keep-alive. Each session runs
// on its own strand, so its steps never overlap; the routes themselves are in hub_api.cpp.
#include <llmhost/mirror/server.hpp>

#include "hub_api.hpp"
#include "repo_store.hpp"
#include "tokens.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace llmhost::mirror {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Server::Impl {
    ServerOptions options;
    FaultInjector faults;
    std::unique_ptr<RepoStore> store;
    TokenRegistry tokens;
    std::unique_ptr<HubApi> api;
    std::unique_ptr<net::io_context> ioc;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::unique_ptr<net::steady_timer> accept_timer; // the pause between accepts out of descriptors
    std::chrono::milliseconds accept_backoff{0};     // nonzero while paused
    std::chrono::steady_clock::time_point paused_since;
    std::vector<std::thread> threads;
    std::uint16_t port = 0;
    mutable std::mutex records_mutex;
    std::deque<std::pair<std::uint64_t, RequestRecord>> records; // (sequence number, record)
    std::uint64_t next_record = 0;

    // Returns the record's sequence number, for amend().
    std::uint64_t record(const RequestRecord &r) {
        if (options.on_request) options.on_request(r);
        std::lock_guard lock(records_mutex);
        std::uint64_t seq = next_record++;
        records.emplace_back(seq, r);
        while (records.size() > options.max_recorded_requests) records.pop_front();
        return seq;
    }
    // Corrects a record published before its last write, when that write failed.
    void amend(std::uint64_t seq, const RequestRecord &r) {
        std::lock_guard lock(records_mutex);
        for (auto it = records.rbegin(); it != records.rend(); ++it)
            if (it->first == seq) {
                it->second = r;
                return;
            }
    }
    void do_accept();
    void on_accept_error(const beast::error_code &ec);
    void log(const std::string &line) const {
        if (options.on_log)
            options.on_log(line);
        else
            std::cerr << "llmhost mirror: " + line + "\n" << std::flush;
    }
};

namespace {

constexpr std::size_t kChunkBytes = 256 * 1024;

// A read-only file descriptor, closed on destruction (pread lets one fd serve any offset).
struct FileHandle {
    int fd = -1;
    FileHandle() = default;
    FileHandle(const FileHandle &) = delete;
    FileHandle &operator=(const FileHandle &) = delete;
    ~FileHandle() { reset(); }
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

HttpResponse injected_status(const FaultPlan &plan) {
    HttpResponse r;
    r.status = plan.status;
    r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    std::string message;
    if (plan.status == 429) {
        message = "Rate limit reached (fault injected by llmhost mirror): retry after " +
                  std::to_string(plan.retry_after_seconds) + " seconds";
        r.headers.emplace_back("Retry-After", std::to_string(plan.retry_after_seconds));
    } else {
        message =
            "Server error " + std::to_string(plan.status) + " (fault injected by llmhost mirror)";
    }
    r.headers.emplace_back("X-Error-Message", message);
    r.body = "{\"error\":\"" + message + "\"}";
    return r;
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket &&socket, Server::Impl &server)
        : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(server) {}

    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::do_read, shared_from_this()));
    }

private:
    void do_read() {
        parser_.emplace();
        parser_->header_limit(16 * 1024);
        stream_.expires_after(server_.options.idle_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec)
            return do_close(); // end of stream, timeout or a malformed request: nothing to answer
        const auto &req = parser_->get();
        started_ = std::chrono::steady_clock::now();
        HttpRequest request;
        request.method = std::string(req.method_string());
        request.target = std::string(req.target());
        if (auto it = req.find(http::field::authorization); it != req.end())
            request.authorization = std::string(it->value());
        if (auto it = req.find(http::field::host); it != req.end())
            request.host = std::string(it->value());
        if (auto it = req.find(http::field::range); it != req.end())
            request.range = std::string(it->value());
        keep_alive_ = req.keep_alive();
        head_ = req.method() == http::verb::head;

        record_ = RequestRecord{};
        record_.method = request.method;
        record_.target = request.target;
        record_.had_authorization = request.authorization.has_value();

        std::string path = request.target.substr(0, request.target.find('?'));
        path = percent_decode(path).value_or(path);
        FaultPlan status_fault = server_.faults.take_status_fault(path);
        if (status_fault.status) {
            response_ = injected_status(status_fault);
        } else {
            try {
                response_ = server_.api->handle(request);
            } catch (const std::exception &e) {
                response_ = HttpResponse{};
                response_.status = 500;
                response_.body = std::string("{\"error\":\"internal error\"}");
                response_.headers.emplace_back("X-Error-Message",
                                               std::string("mirror internal error: ") + e.what());
            }
        }
        record_.token_name = response_.token_name;
        published_ = false;
        plan_ = FaultPlan{};
        if (response_.file && !head_ && (response_.status == 200 || response_.status == 206))
            plan_ = server_.faults.take_body_faults(path);
        send_header();
    }

    void send_header() {
        std::uint64_t length = response_.file ? response_.file->length : response_.body.size();
        if (plan_.truncate_to)
            length = std::min(length, *plan_.truncate_to); // the short Content-Length lie
        to_send_ = head_ ? 0 : length;
        sent_ = 0;
        header_ = {};
        header_.version(11);
        header_.result(response_.status);
        header_.set(http::field::server, "llmhost-mirror");
        for (auto &[name, value] : response_.headers) header_.set(name, value);
        header_.set(http::field::content_length, std::to_string(length));
        header_.keep_alive(keep_alive_ && !plan_.drop_after);
        record_.status = response_.status;
        serializer_.emplace(header_);
        if (to_send_ == 0) publish(0);
        stream_.expires_after(server_.options.idle_timeout);
        http::async_write_header(
            stream_, *serializer_,
            beast::bind_front_handler(&Session::on_header_written, shared_from_this()));
    }

    void on_header_written(beast::error_code ec, std::size_t) {
        if (ec) return finish(false);
        if (to_send_ == 0) return finish(true);
        if (!response_.file) {
            publish(to_send_);
            stream_.expires_after(server_.options.idle_timeout);
            return net::async_write(
                stream_, net::buffer(response_.body.data(), to_send_),
                beast::bind_front_handler(&Session::on_chunk_written, shared_from_this()));
        }
        // The path is canonical (repo_store.cpp): a link put there since indexing is not followed.
        file_.fd = ::open(response_.file->path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (file_.fd < 0) return finish(false); // the file vanished after the header went out: drop
        write_next_chunk();
    }

    void write_next_chunk() {
        if (sent_ == to_send_) return finish(true);
        if (plan_.drop_after && sent_ >= *plan_.drop_after) {
            dropped_ = true;
            return finish(false);
        }
        std::uint64_t n = std::min<std::uint64_t>(kChunkBytes, to_send_ - sent_);
        if (plan_.drop_after) n = std::min(n, *plan_.drop_after - sent_);
        if (plan_.bytes_per_second)
            n = std::min<std::uint64_t>(n, std::max<std::uint64_t>(1, plan_.bytes_per_second / 10));
        if (!response_.file) { // only file bodies are streamed here; strings were written whole
            return finish(true);
        }
        chunk_.resize(n);
        std::uint64_t offset = response_.file->offset + sent_;
        ssize_t got = ::pread(file_.fd, chunk_.data(), n, static_cast<off_t>(offset));
        if (got <= 0)
            return finish(false); // the file shrank under us: drop rather than send garbage
        chunk_.resize(static_cast<std::size_t>(got));
        if (plan_.corrupt) {
            // Flip one byte per 64 KiB of the file (and byte 0): same size, a different sha256.
            for (std::uint64_t pos = offset; pos < offset + chunk_.size(); ++pos)
                if (pos % 65536 == 0)
                    chunk_[pos - offset] = static_cast<char>(chunk_[pos - offset] ^ 0x5a);
            if (offset % 65536 != 0) chunk_[0] = static_cast<char>(chunk_[0] ^ 0x5a);
        }
        if (sent_ + chunk_.size() == to_send_) publish(to_send_);
        stream_.expires_after(server_.options.idle_timeout);
        net::async_write(stream_, net::buffer(chunk_),
                         beast::bind_front_handler(&Session::on_chunk_written, shared_from_this()));
    }

    void on_chunk_written(beast::error_code ec, std::size_t n) {
        if (ec) return finish(false);
        sent_ += n;
        if (!response_.file) return finish(sent_ == to_send_);
        if (plan_.bytes_per_second) {
            timer_.expires_after(std::chrono::microseconds(n * 1000000 / plan_.bytes_per_second));
            return timer_.async_wait(
                [self = shared_from_this()](beast::error_code) { self->write_next_chunk(); });
        }
        write_next_chunk();
    }

    // Records the request just before its last bytes are written (so that a client that has its
    // whole response always finds the record), or when the response ends early.
    void publish(std::uint64_t body_bytes) {
        record_.body_bytes = body_bytes;
        record_.dropped = dropped_;
        record_.milliseconds =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
                .count();
        if (!published_)
            record_seq_ = server_.record(record_);
        else
            server_.amend(record_seq_, record_);
        published_ = true;
    }

    // complete: the whole response went out. Otherwise the connection is closed (a dropped body).
    void finish(bool complete) {
        file_.reset();
        if (!published_ || !complete) publish(sent_);
        dropped_ = false;
        if (!complete) {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream_.socket().close(ignored);
            return;
        }
        if (!header_.keep_alive()) return do_close();
        do_read();
    }

    void do_close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    net::steady_timer timer_;
    beast::flat_buffer buffer_;
    Server::Impl &server_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::empty_body> header_;
    std::optional<http::response_serializer<http::empty_body>> serializer_;
    HttpResponse response_;
    FaultPlan plan_;
    FileHandle file_;
    std::vector<char> chunk_;
    std::uint64_t sent_ = 0, to_send_ = 0;
    bool keep_alive_ = true, head_ = false, dropped_ = false, published_ = false;
    std::uint64_t record_seq_ = 0;
    RequestRecord record_;
    std::chrono::steady_clock::time_point started_;
};

} // namespace

// One accept at a time; each handler starts the next. Only this chain touches the backoff state.
void Server::Impl::do_accept() {
    acceptor->async_accept(
        net::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
            if (ec) return on_accept_error(ec);
            if (accept_backoff.count()) {
                accept_backoff = {};
                auto paused = std::chrono::steady_clock::now() - paused_since;
                log("accepting connections again (accepts were paused for " +
                    std::to_string(
                        std::chrono::duration_cast<std::chrono::milliseconds>(paused).count()) +
                    " ms)");
            }
            std::make_shared<Session>(std::move(socket), *this)->run();
            do_accept();
        });
}

// Out of descriptors (or kernel memory) the listening socket stays readable and every accept fails
// at once: accepting again right away spins a core. Pause 50 ms, doubling to 1 s, until an accept
// succeeds (as nginx does); the waiting clients stay in the listen backlog meanwhile.
void Server::Impl::on_accept_error(const beast::error_code &ec) {
    namespace errc = boost::system::errc;
    bool exhausted = ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
                     ec == errc::no_buffer_space || ec == errc::not_enough_memory;
    if (!exhausted) return do_accept(); // e.g. a client that reset before it was accepted
    if (!accept_backoff.count()) {
        paused_since = std::chrono::steady_clock::now();
        log("accept failed: " + ec.message() +
            ": out of file descriptors or memory; pausing accepts " +
            "(retrying every 50 ms to 1 s; raise `ulimit -n` if this recurs)");
    }
    accept_backoff = accept_backoff.count()
                         ? std::min(accept_backoff * 2, std::chrono::milliseconds(1000))
                         : std::chrono::milliseconds(50);
    accept_timer->expires_after(accept_backoff);
    accept_timer->async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor->is_open()) do_accept();
    });
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
}

Server::~Server() { stop(); }

std::uint16_t Server::start() {
    Impl &s = *impl_;
    if (s.ioc) throw std::runtime_error("mirror server already started");
    if (!s.options.tokens_file.empty()) s.tokens = TokenRegistry::load(s.options.tokens_file);
    s.store = std::make_unique<RepoStore>(s.options.root, s.options.lfs_threshold_bytes);
    s.store->index_all();

    s.ioc = std::make_unique<net::io_context>(static_cast<int>(std::max(1u, s.options.threads)));
    std::string where = s.options.host + ":" + std::to_string(s.options.port);
    try {
        tcp::resolver resolver(*s.ioc);
        auto endpoints = resolver.resolve(s.options.host, std::to_string(s.options.port));
        tcp::endpoint endpoint = endpoints.begin()->endpoint();
        s.acceptor = std::make_unique<tcp::acceptor>(*s.ioc);
        s.acceptor->open(endpoint.protocol());
        s.acceptor->set_option(net::socket_base::reuse_address(true));
        s.acceptor->bind(endpoint);
        s.acceptor->listen(net::socket_base::max_listen_connections);
        s.port = s.acceptor->local_endpoint().port();
    } catch (const boost::system::system_error &e) {
        s.acceptor.reset();
        s.ioc.reset();
        throw std::runtime_error(
            "cannot listen on " + where + ": " + e.code().message() +
            " (is the port in use? choose another with --port, or 0 for any free port)");
    }
    HubApiOptions api_options;
    api_options.page_size = s.options.page_size;
    api_options.lfs_redirect_host = s.options.lfs_redirect_host;
    api_options.port = s.port;
    api_options.default_authority = s.options.host + ":" + std::to_string(s.port);
    s.api = std::make_unique<HubApi>(*s.store, s.tokens, api_options);
    s.accept_timer = std::make_unique<net::steady_timer>(*s.ioc);
    s.do_accept();
    for (unsigned i = 0; i < std::max(1u, s.options.threads); ++i)
        s.threads.emplace_back([&s] { s.ioc->run(); });
    return s.port;
}

void Server::stop() {
    Impl &s = *impl_;
    if (!s.ioc) return;
    net::post(*s.ioc, [&s] {
        beast::error_code ignored;
        s.acceptor->close(ignored);
    });
    s.ioc->stop();
    for (auto &t : s.threads) t.join();
    s.threads.clear();
    s.accept_timer.reset();
    s.acceptor.reset();
    s.ioc.reset(); // destroys the pending handlers, hence every session and its socket
}

std::string Server::endpoint() const {
    std::string host = impl_->options.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]"; // IPv6 literal
    return "http://" + host + ":" + std::to_string(impl_->port);
}

std::size_t Server::repo_count() const { return impl_->store ? impl_->store->repo_count() : 0; }

FaultInjector &Server::faults() { return impl_->faults; }

std::vector<RequestRecord> Server::requests() const {
    std::lock_guard lock(impl_->records_mutex);
    std::vector<RequestRecord> out;
    for (auto &[seq, record] : impl_->records) out.push_back(record);
    return out;
}

void Server::clear_requests() {
    std::lock_guard lock(impl_->records_mutex);
    impl_->records.clear();
}

} // namespace llmhost::mirror
