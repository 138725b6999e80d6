// The shared transport (llmhost::net::HttpClient) against the mirror on 127.0.0.1.
#include <llmhost/net/http_client.hpp>

#include <doctest/doctest.h>

#include "mirror_fixture.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>

using namespace llmhost;
using hubtest::Mirror;

TEST_CASE("transport: fetch collects a small body - many transfers share one io thread") {
    Mirror m;
    net::HttpClient http;
    auto r = http.fetch({.url = m.server->endpoint() + "/api/models/org/public-model"});
    CHECK(r.ok());
    CHECK(r.status == 200);
    CHECK(r.body.find("\"org/public-model\"") != std::string::npos);

    std::vector<std::future<net::Response>> futures;
    for (int i = 0; i < 24; ++i)
        futures.push_back(std::async(std::launch::async, [&] {
            return http.fetch({.url = m.server->endpoint() + "/org/public-model/resolve/main/config.json"});
        }));
    for (auto &f : futures) {
        auto x = f.get();
        CHECK(x.status == 200);
        CHECK(x.body == m.config);
    }
}

TEST_CASE("transport: streamed body arrives in order through on_data") {
    Mirror m;
    net::HttpClient http;
    std::promise<net::Response> done;
    std::string got;
    int status = 0;
    net::Request req{.url = m.server->endpoint() + "/org/big-model/resolve/main/model.safetensors",
                     .follow_redirects = true};
    http.start(req, {.on_headers = [&](int s, const net::Headers &) { status = s; return true; },
                     .on_data = [&](std::string_view c) { got.append(c); return true; },
                     .on_complete = [&](const net::Response &r) { done.set_value(r); }});
    auto r = done.get_future().get();
    CHECK(r.error == net::Error::none);
    CHECK(status == 200);
    CHECK(r.redirects == 1); // LFS: 302 to the blob URL
    CHECK(got == m.big);
    CHECK(r.body.empty());
}

TEST_CASE("transport: cancel from another thread, abort from on_data, total timeout") {
    Mirror m;
    m.server->faults().slow_body("*model.safetensors", 64 * 1024);
    net::HttpClient http;
    const std::string url = m.server->endpoint() + "/org/big-model/resolve/main/model.safetensors";

    std::promise<net::Response> cancelled;
    std::atomic<std::size_t> bytes{0};
    auto t = http.start({.url = url, .follow_redirects = true},
                        {.on_data = [&](std::string_view c) { bytes += c.size(); return true; },
                         .on_complete = [&](const net::Response &r) { cancelled.set_value(r); }});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto t0 = std::chrono::steady_clock::now();
    std::thread([t]() mutable { t.cancel(); }).join();
    auto r = cancelled.get_future().get();
    CHECK(r.error == net::Error::cancelled);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    CHECK(bytes.load() < m.big.size());
    t.cancel(); // after completion: nothing happens

    auto aborted = http.fetch({.url = url, .follow_redirects = true}, 1000);
    CHECK(aborted.error == net::Error::aborted);

    net::Request slow{.url = url, .follow_redirects = true};
    slow.timeouts.total = std::chrono::milliseconds(300);
    auto timed = http.fetch(slow);
    CHECK(timed.error == net::Error::timeout);
}

TEST_CASE("transport: refused connection is a network error naming the host") {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    int port = ntohs(a.sin_port);
    ::close(fd); // nobody listens there now
    net::HttpClient http;
    auto r = http.fetch({.url = "http://127.0.0.1:" + std::to_string(port) + "/x", .bearer_token = hubtest::kAlice});
    CHECK(r.error == net::Error::network);
    CHECK(r.error_message.find("127.0.0.1") != std::string::npos);
    CHECK(r.error_message.find(hubtest::kAlice) == std::string::npos);
}

TEST_CASE("transport: the bearer token follows same-origin redirects only") {
    SUBCASE("redirect to another host (127.0.0.1 -> localhost): token dropped") {
        Mirror m("localhost");
        net::HttpClient http;
        auto r = http.fetch({.url = m.server->endpoint() + "/org/big-model/resolve/main/model.safetensors",
                             .follow_redirects = true, .bearer_token = hubtest::kAlice});
        CHECK(r.status == 200);
        CHECK(r.effective_url.find("http://localhost:") == 0);
        auto resolve = m.requests_for("/resolve/");
        auto lfs = m.requests_for("/_lfs/");
        REQUIRE(resolve.size() == 1);
        REQUIRE(lfs.size() == 1);
        CHECK(resolve[0].had_authorization);
        CHECK(resolve[0].token_name == "alice");
        CHECK_FALSE(lfs[0].had_authorization);
    }
    SUBCASE("redirect on the same host: token kept") {
        Mirror m;
        net::HttpClient http;
        auto r = http.fetch({.url = m.server->endpoint() + "/org/big-model/resolve/main/model.safetensors",
                             .follow_redirects = true, .bearer_token = hubtest::kAlice});
        CHECK(r.status == 200);
        auto lfs = m.requests_for("/_lfs/");
        REQUIRE(lfs.size() == 1);
        CHECK(lfs[0].had_authorization);
    }
    SUBCASE("a plain Authorization header is never sent") {
        Mirror m;
        net::HttpClient http;
        net::Request req{.url = m.server->endpoint() + "/api/whoami-v2"};
        req.headers.add("Authorization", std::string("Bearer ") + hubtest::kAlice);
        auto r = http.fetch(req);
        CHECK(r.status == 401);
        CHECK_FALSE(m.requests_for("whoami")[0].had_authorization);
    }
}
