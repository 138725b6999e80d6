#include <llmhost/server/server.hpp>

#include "host_backend.hpp"
#include "http_session.hpp"
#include "server_state.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <condition_variable>
#include <csignal>
#include <thread>

namespace llmhost::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Server::Impl {
    Impl(std::shared_ptr<Backend> backend, ServerOptions options)
        : state(std::make_unique<ServerState>(std::move(backend), std::move(options))),
          ioc(static_cast<int>(std::max(1u, state->options.io_threads))),
          work(asio::make_work_guard(ioc)), acceptor(asio::make_strand(ioc)),
          accept_timer(acceptor.get_executor()), metrics_acceptor(asio::make_strand(ioc)) {}

    ~Impl() {
        state->abort_all = true;
        stop_io();
        join();
        if (drainer.joinable()) drainer.join();
        // Workers hold sessions; stop them while the io_context (their executor) still exists,
        // and before it destroys its pending handlers (more sessions) that touch `state`.
        state->workers.stop();
        state->admin.stop();
    }

    // The metrics listener: few connections (a scraper), so a failed accept simply retries
    // after 100 ms instead of the main listener's backoff.
    void do_accept_metrics() {
        metrics_acceptor.async_accept(
            asio::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket s) {
                if (ec == asio::error::operation_aborted || !metrics_acceptor.is_open()) return;
                if (ec) {
                    auto t = std::make_shared<asio::steady_timer>(metrics_acceptor.get_executor());
                    t->expires_after(std::chrono::milliseconds(100));
                    t->async_wait([this, t](boost::system::error_code) {
                        if (metrics_acceptor.is_open()) do_accept_metrics();
                    });
                    return;
                }
                s.set_option(tcp::no_delay(true), ec);
                std::make_shared<HttpSession>(std::move(s), *state, true)->run();
                do_accept_metrics();
            });
    }

    void do_accept() {
        acceptor.async_accept(
            asio::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket s) {
                if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
                if (ec) return on_accept_error(ec);
                if (accept_backoff.count()) {
                    accept_backoff = {};
                    auto paused = std::chrono::steady_clock::now() - paused_since;
                    state->log(
                        "accepting connections again (accepts were paused for " +
                        std::to_string(
                            std::chrono::duration_cast<std::chrono::milliseconds>(paused).count()) +
                        " ms)");
                }
                s.set_option(tcp::no_delay(true), ec);
                std::make_shared<HttpSession>(std::move(s), *state)->run();
                do_accept();
            });
    }

    // Out of descriptors (or kernel memory) the listening socket stays readable and every accept
    // fails at once: accepting again right away spins a core. Pause 50 ms, doubling to 1 s, until
    // an accept succeeds (as nginx does); waiting clients stay in the listen backlog meanwhile.
    // Runs on the acceptor's strand, like the timer's handler.
    void on_accept_error(const boost::system::error_code &ec) {
        namespace errc = boost::system::errc;
        bool exhausted = ec == errc::too_many_files_open ||
                         ec == errc::too_many_files_open_in_system || ec == errc::no_buffer_space ||
                         ec == errc::not_enough_memory;
        if (!exhausted) return do_accept(); // e.g. a client that reset before it was accepted
        if (!accept_backoff.count()) {
            paused_since = std::chrono::steady_clock::now();
            state->log("accept failed: " + ec.message() +
                       ": out of file descriptors or memory; pausing accepts (retrying every 50 ms "
                       "to 1 s; "
                       "raise `ulimit -n` if this recurs)");
        }
        accept_backoff = accept_backoff.count()
                             ? std::min(accept_backoff * 2, std::chrono::milliseconds(1000))
                             : std::chrono::milliseconds(50);
        accept_timer.expires_after(accept_backoff);
        accept_timer.async_wait([this](boost::system::error_code wait_ec) {
            if (!wait_ec && acceptor.is_open()) do_accept();
        });
    }

    void stop_io() {
        work.reset();
        ioc.stop();
    }

    void join() {
        std::lock_guard lk(join_mutex);
        for (auto &t : threads)
            if (t.joinable()) t.join();
    }

    void on_signal(boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            state->admin.try_submit([this] {
                state->reload_keys("SIGHUP");
                try {
                    state->backend->reload();
                    state->metrics.reload_done("sighup", true);
                    state->metrics.labels().forget();
                    state->log("SIGHUP: configuration reloaded");
                } catch (const std::exception &e) {
                    state->metrics.reload_done("sighup", false);
                    state->log(std::string("SIGHUP: reload failed, the providers keep serving: ") +
                               e.what());
                }
            });
        } else if (state->draining) {
            state->log("second signal: stopping now, cancelling running generations");
            state->abort_all = true;
            stop_io();
            return;
        } else {
            begin_shutdown();
        }
        signals->async_wait([this](boost::system::error_code e, int s) { on_signal(e, s); });
    }

    void begin_shutdown() {
        bool expected = false;
        if (!state->draining.compare_exchange_strong(expected, true)) return;
        state->log("shutting down: finishing " + std::to_string(state->active_requests.load()) +
                   " request(s) in flight");
        asio::post(acceptor.get_executor(), [this] {
            boost::system::error_code ignored;
            acceptor.close(ignored);
            accept_timer.cancel();
        });
        asio::post(metrics_acceptor.get_executor(), [this] {
            boost::system::error_code ignored;
            metrics_acceptor.close(ignored);
        });
        drainer = std::thread([this] {
            auto deadline = std::chrono::steady_clock::now() + state->options.drain_timeout;
            while (state->active_requests > 0 && !state->abort_all &&
                   std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (state->active_requests > 0) {
                state->log("drain timeout: cancelling " +
                           std::to_string(state->active_requests.load()) + " request(s)");
                state->abort_all = true;
                auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(2);
                while (state->active_requests > 0 && std::chrono::steady_clock::now() < grace)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            stop_io();
        });
    }

    std::unique_ptr<ServerState> state;
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    tcp::acceptor acceptor;
    asio::steady_timer accept_timer;             // the pause between accepts out of descriptors
    std::chrono::milliseconds accept_backoff{0}; // nonzero while paused
    std::chrono::steady_clock::time_point paused_since;
    tcp::acceptor metrics_acceptor; // --metrics-port: /metrics and /health only
    uint16_t metrics_port = 0;
    std::optional<asio::signal_set> signals;
    std::vector<std::thread> threads;
    std::mutex join_mutex;
    std::thread drainer;
    uint16_t port = 0;
};

Server::Server(Host &host, ServerOptions options)
    : Server(make_host_backend(host), std::move(options)) {}

Server::Server(std::shared_ptr<Backend> backend, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(backend), std::move(options))) {}

Server::~Server() = default;

namespace {

asio::ip::address parse_address(const std::string &host, const char *flag) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec)
        throw ServerError(std::string(flag) + " '" + host +
                          "' is not an IP address (use e.g. 127.0.0.1 or 0.0.0.0)");
    return address;
}

void listen_on(tcp::acceptor &a, const asio::ip::address &address, const std::string &host,
               uint16_t port, const char *flag) {
    boost::system::error_code ec;
    tcp::endpoint ep(address, port);
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw ServerError(
            "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message() +
            (ec == asio::error::address_in_use
                 ? std::string(" (another server runs there: pick another ") + flag + ")"
                 : std::string()));
}

} // namespace

void Server::start() {
    auto &o = impl_->state->options;
    auto address = parse_address(o.host, "--host");
    std::optional<asio::ip::address> metrics_address;
    if (o.separate_metrics_listener)
        metrics_address =
            parse_address(o.metrics_host.empty() ? o.host : o.metrics_host, "--metrics-host");
    // Unauthenticated metrics only where nobody but this machine can connect.
    const auto &scraped = metrics_address ? *metrics_address : address;
    if (o.metrics_no_auth && !scraped.is_loopback())
        throw ServerError(
            std::string("--metrics-no-auth needs the listener serving /metrics on a loopback "
                        "address, but it is bound to ") +
            (metrics_address
                 ? (o.metrics_host.empty() ? o.host : o.metrics_host) + " (--metrics-host)"
                 : o.host + " (--host)") +
            ": bind it to 127.0.0.1 (--metrics-port with --metrics-host 127.0.0.1), or drop "
            "--metrics-no-auth and scrape with a key");
    if (impl_->state->keys.enabled()) { // refused whole at start: a server without its keys
        try {
            for (const auto &w : impl_->state->keys.load()) impl_->state->log("warning: " + w);
        } catch (const KeysFileError &e) {
            throw ServerError(std::string("--keys-file: ") + e.what());
        }
    }
    listen_on(impl_->acceptor, address, o.host, o.port, "--port");
    impl_->port = impl_->acceptor.local_endpoint().port();
    if (metrics_address) {
        listen_on(impl_->metrics_acceptor, *metrics_address,
                  o.metrics_host.empty() ? o.host : o.metrics_host, o.metrics_port,
                  "--metrics-port");
        impl_->metrics_port = impl_->metrics_acceptor.local_endpoint().port();
        impl_->do_accept_metrics();
    }
    impl_->do_accept();
    for (unsigned i = 0; i < std::max(1u, o.io_threads); ++i)
        impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

uint16_t Server::port() const { return impl_->port; }

uint16_t Server::metrics_port() const { return impl_->metrics_port; }

void Server::handle_signals() {
    impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM, SIGHUP);
    impl_->signals->async_wait(
        [this](boost::system::error_code e, int s) { impl_->on_signal(e, s); });
}

void Server::shutdown() { impl_->begin_shutdown(); }

void Server::wait() { impl_->join(); }

Server::Stats Server::stats() const {
    Stats s;
    s.running = impl_->state->workers.running();
    s.queued = impl_->state->workers.queued();
    s.served = impl_->state->served;
    s.rejected = impl_->state->rejected;
    return s;
}

} // namespace llmhost::server
