#include <llmhost/server/server.hpp>

#include "host_backend.hpp"
#include "http_session.hpp"
#include "server_state.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
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
          work(asio::make_work_guard(ioc)), acceptor(asio::make_strand(ioc)) {}

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

    void do_accept() {
        acceptor.async_accept(asio::make_strand(ioc), [this](boost::system::error_code ec, tcp::socket s) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
            if (!ec) {
                s.set_option(tcp::no_delay(true), ec);
                std::make_shared<HttpSession>(std::move(s), *state)->run();
            }
            do_accept(); // EMFILE and friends: keep accepting the next client
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
                try {
                    state->backend->reload();
                    state->log("SIGHUP: configuration reloaded");
                } catch (const std::exception &e) {
                    state->log(std::string("SIGHUP: reload failed, the providers keep serving: ") + e.what());
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
        });
        drainer = std::thread([this] {
            auto deadline = std::chrono::steady_clock::now() + state->options.drain_timeout;
            while (state->active_requests > 0 && !state->abort_all &&
                   std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (state->active_requests > 0) {
                state->log("drain timeout: cancelling " + std::to_string(state->active_requests.load()) +
                           " request(s)");
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

void Server::start() {
    auto &o = impl_->state->options;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, ec);
    if (ec) throw ServerError("--host '" + o.host + "' is not an IP address (use e.g. 127.0.0.1 or 0.0.0.0)");
    tcp::endpoint ep(address, o.port);
    auto &a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw ServerError("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                          ec.message() + (ec == asio::error::address_in_use
                                              ? " (another server runs there: pick another --port)"
                                              : ""));
    impl_->port = a.local_endpoint().port();
    impl_->do_accept();
    for (unsigned i = 0; i < std::max(1u, o.io_threads); ++i)
        impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

uint16_t Server::port() const { return impl_->port; }

void Server::handle_signals() {
    impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM, SIGHUP);
    impl_->signals->async_wait([this](boost::system::error_code e, int s) { impl_->on_signal(e, s); });
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
