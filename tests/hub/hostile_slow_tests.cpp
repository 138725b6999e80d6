// Issue 10, item 7: a hostile Hub must not hold a download forever: Retry-After
// extremes, trickling and stalling bodies, endless pagination. Every case ends
// in a few seconds (small windows).
#include "hostile_fixture.hpp"

#include <doctest/doctest.h>

using namespace llmhost;
using hubtest::Conn;
using hubtest::Hostile;
using hubtest::HttpRequest;
namespace fs = std::filesystem;

namespace {
bool contains(const llmh::Error &e, const std::string &s) { return std::string(e.what()).find(s) != std::string::npos; }
bool is_get_of(const HttpRequest &r, const std::string &file) {
    return r.method == "GET" && r.target.find("/resolve/") != std::string::npos &&
           r.target.find(file) != std::string::npos;
}
} // namespace

TEST_CASE("hostile: Retry-After 999999 (503 or 429, HEAD or API) gives up at once with retry_after") {
    for (int status : {503, 429}) {
        for (bool api : {false, true}) {
            CAPTURE(status);
            CAPTURE(api);
            Hostile h;
            h.hub.on = [&](const HttpRequest &req, Conn &c) {
                bool hit = api ? req.target.find("/api/") != std::string::npos : req.method == "HEAD";
                if (hit) c.reply(req, status, {{"Retry-After", "999999"}});
                return hit;
            };
            auto &server = h.start();
            auto c = h.client(h.options());
            auto e = hubtest::expect_error([&] {
                if (api)
                    c->snapshot_download(h.hub.repo);
                else
                    c->hf_hub_download(h.hub.repo, "config.json");
            });
            CHECK(h.elapsed_s() < 2.0);
            CHECK(e.code() == LLMH_ERR_RATE_LIMITED);
            CHECK(e.retry_after_s() == doctest::Approx(999999));
            CHECK(e.http_status() == status);
            CHECK(contains(e, "999999 s"));
            CHECK(server.total() == 1); // not a single retry
        }
    }
}

TEST_CASE("hostile: Retry-After values that are not delta-seconds are ignored, huge ones capped") {
    auto ra = [](const std::string &v) {
        net::Headers h;
        h.add("Retry-After", v);
        return net::parse_retry_after(h);
    };
    for (const std::string &junk : std::vector<std::string>{"1e300", "-5", "nan", "inf", "1.5", "0x10", "+3", "", "3 s", "-1e300"}) {
        CAPTURE(junk);
        CHECK_FALSE(ra(junk));
    }
    auto huge = ra("99999999999999999999999999999999");
    REQUIRE(huge);
    CHECK(huge->count() > 0);
    CHECK(*huge >= net::Millis(365LL * 24 * 3600 * 1000)); // capped, positive
    auto far = ra("Fri, 31 Dec 9999 23:59:59 GMT");
    REQUIRE(far);
    CHECK(far->count() > 0);
    CHECK(ra("Sunday, 06-Nov-94 08:49:37 GMT") == net::Millis(0)); // RFC 850, in the past
    CHECK(ra("Sun Nov  6 08:49:37 1994") == net::Millis(0));       // asctime
    net::Headers ms;
    ms.add("retry-after-ms", "1e300");
    CHECK_FALSE(net::parse_retry_after(ms));

    // On the wire: a 503 with Retry-After: 1e300 is retried after the usual
    // backoff.
    Hostile h;
    int n = 0;
    h.hub.on = [&](const HttpRequest &req, Conn &c) {
        if (req.method != "HEAD" || n++ > 0) return false;
        c.reply(req, 503, {{"Retry-After", "1e300"}});
        return true;
    };
    h.start();
    auto c = h.client(h.options());
    fs::path p = c->hf_hub_download(h.hub.repo, "config.json");
    CHECK(hubtest::read_file(p) == h.hub.files[0].content);
    CHECK(h.elapsed_s() < 3.0);
}

TEST_CASE("hostile: a body trickling 1 byte per 0.5 s is aborted within the speed window") {
    Hostile h;
    h.hub.on = [&](const HttpRequest &req, Conn &c) {
        if (!is_get_of(req, "model.safetensors")) return false;
        const std::string &body = h.hub.files[1].content;
        if (!c.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n"))
            return true;
        for (std::size_t i = 0; i < body.size() && c.send(body.substr(i, 1)) && c.pause(std::chrono::milliseconds(500));
             ++i) {
        }
        return true;
    };
    h.start();
    auto o = h.options();
    o.download_timeout = std::chrono::milliseconds(1000); // the window
    o.min_download_speed = 100;                           // bytes/s
    o.max_file_retries = 0;
    auto c = h.client(o);
    auto e = hubtest::expect_error([&] { c->hf_hub_download(h.hub.repo, "model.safetensors"); });
    CHECK(e.code() == LLMH_ERR_TIMEOUT);
    CHECK(h.elapsed_s() < 4.0);
    CHECK(Hostile::tree(h.cache() / "models--org--evil/snapshots").empty());
}

TEST_CASE("hostile: 5 bytes per connection then a stall gives up within the per-file retry budget") {
    Hostile h;
    h.hub.on = [&](const HttpRequest &req, Conn &c) {
        if (!is_get_of(req, "model.safetensors")) return false;
        const std::string &body = h.hub.files[1].content;
        std::size_t from = 0;
        if (auto r = req.header("Range"); r.rfind("bytes=", 0) == 0) from = std::stoull(r.substr(6));
        std::string head = std::string(from ? "HTTP/1.1 206 Partial Content" : "HTTP/1.1 200 OK") +
                           "\r\nContent-Length: " + std::to_string(body.size() - from) +
                           "\r\nConnection: close\r\n\r\n";
        if (c.send(head) && c.send(body.substr(from, 5))) c.stall();
        return true;
    };
    auto &server = h.start();
    auto o = h.options();
    o.download_timeout = std::chrono::milliseconds(1000);
    o.max_file_retries = 2;
    auto c = h.client(o, std::chrono::milliseconds(9000));
    auto e = hubtest::expect_error([&] { c->hf_hub_download(h.hub.repo, "model.safetensors"); });
    CHECK(e.code() == LLMH_ERR_TIMEOUT);
    CHECK(contains(e, "2 retries in all"));
    CHECK(server.count("model.safetensors", "GET") == 3);
    CHECK(h.elapsed_s() < 8.0);
    CHECK(Hostile::tree(h.cache() / "models--org--evil/snapshots").empty());
}

TEST_CASE("hostile: a pagination loop and endless pages stop with a clear error") {
    Hostile h;
    int page = 0;
    bool loop = true;
    h.hub.on = [&](const HttpRequest &req, Conn &c) {
        if (req.target.find("/tree/") == std::string::npos) return false;
        std::string next = loop ? req.target : "/api/models/org/evil/tree/x?cursor=" + std::to_string(++page);
        c.reply(req, 200, {{"Link", "<" + next + ">; rel=\"next\""}}, "[]");
        return true;
    };
    auto &server = h.start();
    auto c = h.client(h.options());
    auto e = hubtest::expect_error([&] { c->snapshot_download(h.hub.repo); });
    CHECK(e.code() == LLMH_ERR_NETWORK);
    CHECK(contains(e, "loops"));
    CHECK(server.count("/tree/") == 1); // the next link is the page itself: caught before refetching it

    loop = false;
    auto o = h.options();
    o.max_tree_pages = 30;
    auto c2 = h.client(o);
    auto e2 = hubtest::expect_error([&] { c2->snapshot_download(h.hub.repo); });
    CHECK(contains(e2, "more than 30 pages"));
    CHECK(page == 30);
}

TEST_CASE("hub client limits from provider config keys") {
    hub::ClientOptions o;
    CHECK(hub::set_client_option(o, "download_timeout", 2.5));
    CHECK(o.download_timeout == std::chrono::milliseconds(2500));
    CHECK(hub::set_client_option(o, "max_retry_after", 60));
    CHECK(o.retry.max_retry_after == std::chrono::milliseconds(60000));
    CHECK(hub::set_client_option(o, "min_download_speed", 0));
    CHECK(hub::set_client_option(o, "max_file_retries", 3));
    CHECK(o.max_file_retries == 3);
    CHECK(hub::set_client_option(o, "max_tree_pages", 7));
    CHECK(o.max_tree_pages == 7);
    CHECK_FALSE(hub::set_client_option(o, "model", 1));
    CHECK_THROWS_AS(hub::set_client_option(o, "etag_timeout", -1), llmh::Error);
    CHECK_THROWS_AS(hub::set_client_option(o, "max_tree_pages", 1e300), llmh::Error);
}
