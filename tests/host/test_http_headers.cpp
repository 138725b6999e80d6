// The HTTP client builds header lines from caller data (tokens from the environment or a config
// file): a CR, LF or NUL in a header name, value or bearer token is refused before anything is
// sent, and the error names the header without quoting the value.
#include <llmhost/net/http_client.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace {
const std::string kCanary = "CANARY-7f3a-http-1b5e";
size_t canary_at(const std::string &text) { return text.find(kCanary); }
} // namespace

TEST_CASE("hardening: the HTTP client refuses CR/LF/NUL in headers and tokens, sending nothing") {
    llmhost::net::HttpClient http;
    auto request = [] {
        llmhost::net::Request r;
        r.url = "http://127.0.0.1:9/x"; // never reached: refused before connecting
        r.timeouts.connect = std::chrono::milliseconds(500);
        return r;
    };
    auto r1 = request();
    r1.bearer_token = kCanary + "\r\nX-Injected: 1";
    auto r2 = request();
    r2.headers.add("X-Api-Key", kCanary + "\nX-Injected: 1");
    auto r3 = request();
    r3.headers.add("X-Bad\r\nName", "v");
    auto r4 = request();
    r4.headers.add("X-Nul", std::string("a\0b", 3));
    for (auto *r : {&r1, &r2, &r3, &r4}) {
        auto resp = http.fetch(*r);
        CHECK(resp.error == llmhost::net::Error::invalid_request);
        CHECK(resp.error_message.find("not sent") != std::string::npos);
        CHECK(canary_at(resp.error_message) == std::string::npos);
    }
}
