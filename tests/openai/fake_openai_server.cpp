#include "fake_openai_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

namespace llmhost::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct FakeOpenAiServer::Impl {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    Handler handler;
    std::thread accept_thread;
    mutable std::mutex m;
    std::condition_variable cv;
    bool stopping = false;
    std::vector<FakeRequest> requests;
    std::set<std::shared_ptr<tcp::socket>> sockets;
    std::vector<std::thread> connections;
};

namespace {

void write_reply(tcp::socket &s, const FakeReply &r, std::unique_lock<std::mutex> &lk,
                 std::condition_variable &cv, const bool &stopping) {
    if (r.hang) {
        cv.wait(lk, [&] { return stopping; });
        return;
    }
    lk.unlock();
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
    for (const auto &[k, v] : r.headers) head += k + ": " + v + "\r\n";
    if (!r.sse) {
        head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
        asio::write(s, asio::buffer(head));
        lk.lock();
        return;
    }
    head += "Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    asio::write(s, asio::buffer(head));
    for (const auto &p : r.pieces) {
        if (r.piece_delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(r.piece_delay_ms));
        char size[20];
        std::snprintf(size, sizeof size, "%zx\r\n", p.size());
        std::string c = size + p + "\r\n";
        asio::write(s, asio::buffer(c));
    }
    if (!r.drop) asio::write(s, asio::buffer(std::string("0\r\n\r\n")));
    lk.lock();
}

} // namespace

FakeOpenAiServer::FakeOpenAiServer(Handler handler) : impl_(std::make_unique<Impl>()) {
    impl_->handler = std::move(handler);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();
    impl_->accept_thread = std::thread([this] {
        for (;;) {
            auto sock = std::make_shared<tcp::socket>(impl_->ioc);
            boost::system::error_code ec;
            impl_->acceptor.accept(*sock, ec);
            std::lock_guard lk(impl_->m);
            if (impl_->stopping) return;
            if (ec) continue;
            impl_->sockets.insert(sock);
            impl_->connections.emplace_back([this, sock] {
                beast::flat_buffer buf;
                for (;;) {
                    http::request<http::string_body> req;
                    boost::system::error_code rec;
                    http::read(*sock, buf, req, rec);
                    if (rec) break;
                    FakeRequest fr;
                    fr.method = std::string(req.method_string());
                    fr.target = std::string(req.target());
                    fr.body = req.body();
                    for (const auto &f : req) {
                        std::string name(f.name_string());
                        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
                        fr.headers[name] = std::string(f.value());
                    }
                    int index = count_++;
                    FakeReply reply = impl_->handler(fr, index);
                    std::unique_lock lk(impl_->m);
                    impl_->requests.push_back(fr);
                    try {
                        write_reply(*sock, reply, lk, impl_->cv, impl_->stopping);
                    } catch (const std::exception &) {
                        break;
                    }
                    if (impl_->stopping || reply.drop || reply.hang) break;
                }
                boost::system::error_code ignored;
                sock->shutdown(tcp::socket::shutdown_both, ignored);
                sock->close(ignored);
            });
        }
    });
}

FakeOpenAiServer::~FakeOpenAiServer() {
    {
        std::lock_guard lk(impl_->m);
        impl_->stopping = true;
        for (auto &s : impl_->sockets) {
            boost::system::error_code ignored;
            s->shutdown(tcp::socket::shutdown_both, ignored);
        }
    }
    impl_->cv.notify_all();
    { // wake the blocking accept
        asio::io_context ioc;
        tcp::socket s(ioc);
        boost::system::error_code ignored;
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ignored);
    }
    impl_->accept_thread.join();
    for (auto &t : impl_->connections) t.join();
}

std::string FakeOpenAiServer::base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

std::vector<FakeRequest> FakeOpenAiServer::requests() const {
    std::lock_guard lk(impl_->m);
    return impl_->requests;
}

} // namespace llmhost::test
