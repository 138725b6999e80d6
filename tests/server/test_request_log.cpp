// The request log of llmhost serve (issue 14 item 4): one JSON line per request with its fields,
// x-request-id echoed (a hostile one replaced), no key in it with or without --log-content, and
// a client that goes away.
#include <doctest/doctest.h>

#include "metrics.hpp"
#include "ops_test_util.hpp"
#include "request_log.hpp"

#include <boost/asio/write.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

using namespace llmhost::test;
using namespace llmhost::test::ops;
using llmhost::server::ServerOptions;
using nlohmann::json;

TEST_CASE("request ids: a safe incoming id is kept, anything else replaced") {
    using llmhost::server::request_id_from;
    CHECK(request_id_from("abc-DEF_1.2") == "abc-DEF_1.2");
    for (std::string bad : {std::string(""), std::string(65, 'a'), std::string("a b"),
                            std::string("x\r\nSet-Cookie: y"), std::string("\"quoted\""),
                            std::string("caf\xc3\xa9")}) {
        std::string id = request_id_from(bad);
        CHECK(id != bad);
        CHECK(id.rfind("req_", 0) == 0);
        CHECK(llmhost::server::request_id_acceptable(id));
    }
    CHECK(request_id_from("") != request_id_from(""));
}

TEST_CASE("request log: one JSON line per request, fields, x-request-id, no secrets") {
    const std::string key = "sk-live-abcdefghijklmnop0123";
    const std::string prompt = "my password is hunter2 and my key is " + key;
    for (bool content : {false, true}) {
        CAPTURE(content);
        auto lines = std::make_shared<std::vector<std::string>>();
        auto mu = std::make_shared<std::mutex>();
        ServerOptions opt;
        opt.api_keys = {"sk-other-key-99999999", key};
        opt.log_content = content;
        opt.request_log = [lines, mu](std::string_view l) {
            std::lock_guard lk(*mu);
            lines->emplace_back(l);
        };
        ServerFixture f(one_echo(), opt);
        auto a = http_h(f.port, "POST", "/v1/chat/completions", chat_body(prompt, false),
                        {{"authorization", "Bearer " + key}, {"x-request-id", "client-id_1.2-3"}});
        REQUIRE(a.status == 200);
        CHECK(a.header("x-request-id") == "client-id_1.2-3");
        auto b = http_h(f.port, "POST", "/v1/chat/completions", chat_body(prompt, true),
                        {{"authorization", "Bearer " + key}, {"x-request-id", "bad id\"<script>"}});
        REQUIRE(b.status == 200);
        const std::string replaced = b.header("x-request-id");
        CHECK(replaced.rfind("req_", 0) == 0);
        auto c = http_h(f.port, "POST", "/v1/chat/completions", chat_body(prompt, false),
                        {{"authorization", "Bearer wrong-" + key}});
        CHECK(c.status == 401);
        CHECK(llmhost::server::request_id_acceptable(c.header("x-request-id")));
        CHECK(http(f.port, "GET", "/health").status == 200); // not logged
        REQUIRE(eventually([&] {
            std::lock_guard lk(*mu);
            return lines->size() >= 3;
        }));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::lock_guard lk(*mu);
        REQUIRE(lines->size() == 3);
        std::map<std::string, json> by_id;
        for (const auto &l : *lines) {
            CHECK(l.find('\n') == std::string::npos);
            CHECK(l.find(key) == std::string::npos); // never the key, with or without content
            CHECK(l.find("sk-live") == std::string::npos);
            json j = json::parse(l, nullptr, false);
            REQUIRE(j.is_object());
            for (const char *field : {"time", "request_id", "key", "endpoint", "provider", "model",
                                      "status", "stream", "ttft_ms", "total_ms"})
                CHECK(j.contains(field));
            by_id[j["request_id"]] = j;
        }
        json ja = by_id["client-id_1.2-3"], jb = by_id[replaced],
             jc = by_id[c.header("x-request-id")];
        CHECK(ja["key"] == "key_2");
        CHECK(ja["provider"] == "echo");
        CHECK(ja["endpoint"] == "/v1/chat/completions");
        CHECK(ja["status"] == 200);
        CHECK(ja["stream"] == false);
        CHECK(ja["completion_tokens"] == a.json()["usage"]["completion_tokens"]);
        CHECK(ja["prompt_tokens"] == a.json()["usage"]["prompt_tokens"]);
        CHECK(ja["ttft_ms"].get<double>() >= 0);
        CHECK(ja["total_ms"].get<double>() >= ja["ttft_ms"].get<double>());
        CHECK(jb["stream"] == true);
        CHECK(jb["status"] == 200);
        CHECK(jb["key"] == "key_2");
        CHECK(jc["status"] == 401);
        CHECK(jc["key"] == "invalid");
        CHECK(jc["error"] == "invalid_api_key");
        CHECK(jc["provider"].is_null());
        for (const auto &l : *lines)
            CHECK((l.find("hunter2") != std::string::npos) ==
                  (content && l.find("\"status\":401") == std::string::npos));
        if (content) {
            CHECK(ja["output"].get<std::string>().find("hunter2") != std::string::npos);
            CHECK(ja["request_body"].get<std::string>().find("[redacted]") != std::string::npos);
        } else {
            CHECK_FALSE(ja.contains("request_body"));
            CHECK_FALSE(ja.contains("output"));
        }
    }
}

TEST_CASE("a client that goes away: logged and counted as 499 cancelled, in-flight back to 0") {
    auto lines = std::make_shared<std::vector<std::string>>();
    auto mu = std::make_shared<std::mutex>();
    ServerOptions opt;
    opt.request_log = [lines, mu](std::string_view l) {
        std::lock_guard lk(*mu);
        lines->emplace_back(l);
    };
    ServerFixture f(one_echo({{"delay_ms", 20}, {"loop", true}}), opt);
    {
        boost::asio::io_context ioc;
        using tcp = boost::asio::ip::tcp;
        tcp::socket sock(ioc);
        sock.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), f.port));
        const std::string body = chat_body("a b c", false);
        const std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                "application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
        boost::asio::write(sock, boost::asio::buffer(req));
        REQUIRE(eventually([&] { return scrape(f.port).at("llmhost_requests_running") == 1; }));
    } // closed mid-generation
    REQUIRE(eventually([&] {
        std::lock_guard lk(*mu);
        return !lines->empty();
    }));
    json j = json::parse(lines->front());
    CHECK(j["status"] == 499);
    CHECK(j["error"] == "cancelled");
    CHECK(j["provider"] == "echo");
    Scrape s = settled_scrape(f.port);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="echo",model="default",endpoint="/v1/chat/completions",status="499",key="none"})") ==
        1);
    // Not an answer: no latency observed.
    CHECK(s.series_of("llmhost_request_duration_seconds_count").empty());
}
