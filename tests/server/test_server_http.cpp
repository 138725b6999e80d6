// llmhost serve over the echo plugin, spoken to over raw HTTP: the wire format of every endpoint,
// the error envelope, auth, limits, cancellation on disconnect, graceful shutdown and live swap.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "server_fixture.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <csignal>
#include <fstream>
#include <future>
#include <thread>

using namespace llmhost::test;
using nlohmann::json;
using llmhost::server::ServerOptions;

namespace {

json one_echo(json cfg = json::object()) { return {{"providers", {{"echo", echo_entry(std::move(cfg))}}}}; }

std::string chat_body(const std::string &text, bool stream, const std::string &model = "echo",
                      json extra = json::object()) {
    json b = {{"model", model}, {"messages", {{{"role", "user"}, {"content", text}}}}, {"stream", stream}};
    for (auto &[k, v] : extra.items()) b[k] = v;
    return b.dump();
}

void check_envelope(const HttpReply &r, int status, const std::string &code = "") {
    CHECK(r.status == status);
    json j = r.json();
    REQUIRE(j.is_object());
    REQUIRE(j.contains("error"));
    for (const char *k : {"message", "type", "param", "code"}) CHECK(j["error"].contains(k));
    CHECK(j["error"]["message"].get<std::string>().size() > 10);
    if (!code.empty()) CHECK(j["error"]["code"] == code);
    CHECK(r.header("content-type") == "application/json");
}

// Polls until pred() or the timeout; returns pred().
template <class F> bool eventually(F pred, double seconds = 3) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!pred() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return pred();
}

// Sends a request on a raw socket and returns the socket (to read a little, or to drop).
std::unique_ptr<boost::asio::ip::tcp::socket> raw_request(boost::asio::io_context &ioc, unsigned short port,
                                                           const std::string &body) {
    using boost::asio::ip::tcp;
    auto s = std::make_unique<tcp::socket>(ioc);
    s->connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    boost::asio::write(*s, boost::asio::buffer(req));
    return s;
}

} // namespace

TEST_CASE("health and the model list") {
    ServerFixture f(one_echo());
    auto h = http(f.port, "GET", "/health");
    CHECK(h.status == 200);
    CHECK(h.json()["status"] == "ok");
    auto m = http(f.port, "GET", "/v1/models");
    REQUIRE(m.status == 200);
    json j = m.json();
    CHECK(j["object"] == "list");
    REQUIRE(j["data"].size() >= 1);
    for (const auto &e : j["data"]) {
        CHECK(e["id"].get<std::string>().rfind("echo", 0) == 0);
        CHECK(e["object"] == "model");
        CHECK(e["owned_by"] == "echo");
        CHECK(e.contains("created"));
    }
}

TEST_CASE("non-streaming chat completion has every required key") {
    ServerFixture f(one_echo());
    auto r = http(f.port, "POST", "/v1/chat/completions", chat_body("hello big world", false));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    json j = r.json();
    CHECK(j["object"] == "chat.completion");
    CHECK(j["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
    CHECK(j["model"] == "echo");
    CHECK(j["created"].is_number_integer());
    auto &c = j["choices"][0];
    CHECK(c["index"] == 0);
    CHECK(c["message"]["role"] == "assistant");
    CHECK(c["message"]["content"] == "hello big world");
    CHECK(c["message"].contains("refusal"));
    CHECK(c.contains("logprobs"));
    CHECK(c["finish_reason"] == "stop");
    CHECK(j["usage"]["total_tokens"] == j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
    CHECK(j["usage"]["completion_tokens"].get<int>() >= 3);
}

TEST_CASE("streaming chat: role delta first - content deltas - finish chunk - usage chunk - [DONE]") {
    ServerFixture f(one_echo());
    auto r = http(f.port, "POST", "/v1/chat/completions",
                  chat_body("one two three", true, "echo", {{"stream_options", {{"include_usage", true}}}}));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "text/event-stream");
    CHECK(r.header("cache-control") == "no-cache");
    auto data = sse_data(r.body);
    REQUIRE(data.size() >= 6);
    CHECK(data.back() == "[DONE]");
    std::vector<json> chunks;
    for (std::size_t i = 0; i + 1 < data.size(); ++i) chunks.push_back(json::parse(data[i]));
    const std::string id = chunks[0]["id"];
    for (auto &c : chunks) {
        CHECK(c["id"] == id);
        CHECK(c["object"] == "chat.completion.chunk");
        CHECK(c["model"] == "echo");
    }
    CHECK(chunks[0]["choices"][0]["delta"] == json{{"role", "assistant"}, {"content", ""}});
    std::string text;
    for (std::size_t i = 1; i + 2 < chunks.size(); ++i) {
        CHECK(chunks[i]["choices"][0]["finish_reason"].is_null());
        text += chunks[i]["choices"][0]["delta"]["content"].get<std::string>();
    }
    CHECK(text == "one two three");
    auto &fin = chunks[chunks.size() - 2];
    CHECK(fin["choices"][0]["delta"] == json::object());
    CHECK(fin["choices"][0]["finish_reason"] == "stop");
    auto &usage = chunks.back();
    CHECK(usage["choices"] == json::array());
    CHECK(usage["usage"]["completion_tokens"].get<int>() >= 3);
}

TEST_CASE("legacy completions - plain and streamed") {
    ServerFixture f(one_echo());
    auto r = http(f.port, "POST", "/v1/completions", R"({"model":"echo","prompt":"alpha beta","max_tokens":50})");
    REQUIRE(r.status == 200);
    CHECK(r.json()["object"] == "text_completion");
    CHECK(r.json()["choices"][0]["text"] == "alpha beta");
    auto s = http(f.port, "POST", "/v1/completions", R"({"model":"echo","prompt":"alpha beta","stream":true})");
    REQUIRE(s.status == 200);
    auto data = sse_data(s.body);
    CHECK(data.back() == "[DONE]");
    std::string text;
    for (std::size_t i = 0; i + 1 < data.size(); ++i) text += json::parse(data[i])["choices"][0]["text"].get<std::string>();
    CHECK(text == "alpha beta");
}

TEST_CASE("bad requests get the OpenAI error envelope") {
    ServerFixture f(json{{"providers", {{"echo", echo_entry()}, {"echo2", echo_entry()}}}});
    check_envelope(http(f.port, "POST", "/v1/chat/completions", "{not json"), 400);
    check_envelope(http(f.port, "POST", "/v1/chat/completions", R"({"model":"echo"})"), 400);
    CHECK(http(f.port, "POST", "/v1/chat/completions", R"({"model":"echo"})").json()["error"]["param"] == "messages");
    check_envelope(http(f.port, "POST", "/v1/chat/completions", chat_body("x", false, "echo", {{"n", 2}})), 400);
    check_envelope(http(f.port, "POST", "/v1/chat/completions", chat_body("x", false, "echo", {{"temperature", 7}})), 400);
    check_envelope(http(f.port, "POST", "/v1/chat/completions", chat_body("x", false, "nosuch/model")), 404, "model_not_found");
    check_envelope(http(f.port, "GET", "/v1/chat/completions"), 405);
    check_envelope(http(f.port, "GET", "/v2/whatever"), 404);
    // "provider/model" reaches the named provider
    CHECK(http(f.port, "POST", "/v1/chat/completions", chat_body("hi", false, "echo2/anything")).status == 200);
}

TEST_CASE("client API keys: 401 without or with a wrong key - any listed key works") {
    ServerOptions o;
    o.api_keys = {"key-one", "key-two"};
    ServerFixture f(one_echo(), o);
    check_envelope(http(f.port, "POST", "/v1/chat/completions", chat_body("x", false)), 401, "invalid_api_key");
    check_envelope(http(f.port, "POST", "/v1/chat/completions", chat_body("x", false), "key-tw"), 401, "invalid_api_key");
    check_envelope(http(f.port, "GET", "/v1/models", "", "wrong"), 401, "invalid_api_key");
    CHECK(http(f.port, "POST", "/v1/chat/completions", chat_body("x", false), "key-two").status == 200);
    CHECK(http(f.port, "GET", "/health").status == 200);
}

TEST_CASE("a body over --max-body is refused with 413") {
    ServerOptions o;
    o.max_body = 2048;
    ServerFixture f(one_echo(), o);
    check_envelope(http(f.port, "POST", "/v1/chat/completions", chat_body(std::string(5000, 'a'), false)), 413);
    CHECK(http(f.port, "POST", "/v1/chat/completions", chat_body("small", false)).status == 200);
}

TEST_CASE("a full queue answers 429 with retry-after - queued requests still complete") {
    ServerOptions o;
    o.max_concurrency = 1;
    o.queue = 1;
    ServerFixture f(one_echo({{"loop", true}, {"delay_ms", 40}}), o);
    auto slow = chat_body("a b", true, "echo", {{"max_tokens", 12}});
    auto first = std::async(std::launch::async, [&] { return http(f.port, "POST", "/v1/chat/completions", slow); });
    REQUIRE(eventually([&] { return f.server->stats().running == 1; }));
    auto second = std::async(std::launch::async, [&] { return http(f.port, "POST", "/v1/chat/completions", slow); });
    REQUIRE(eventually([&] { return f.server->stats().queued == 1; }));
    auto third = http(f.port, "POST", "/v1/chat/completions", slow);
    check_envelope(third, 429, "server_busy");
    CHECK(third.header("retry-after") == "1");
    CHECK(first.get().status == 200);
    CHECK(second.get().status == 200);
    CHECK(f.server->stats().rejected == 1);
}

TEST_CASE("a client that disconnects cancels its generation (streamed and not)") {
    ServerFixture f(one_echo({{"loop", true}, {"delay_ms", 20}}));
    for (bool stream : {true, false}) {
        CAPTURE(stream);
        boost::asio::io_context ioc;
        auto s = raw_request(ioc, f.port, chat_body("w1 w2 w3", stream, "echo", {{"max_tokens", 5000}}));
        REQUIRE(eventually([&] { return f.server->stats().running == 1; }));
        if (stream) {
            char buf[256];
            s->read_some(boost::asio::buffer(buf)); // the stream has started
        }
        s->close();
        // 5000 tokens x 20 ms would take 100 s: a prompt stop means the generation was cancelled
        CHECK(eventually([&] { return f.server->stats().running == 0; }, 2));
    }
    CHECK(http(f.port, "GET", "/health").status == 200);
}

TEST_CASE("graceful shutdown finishes the stream in flight and refuses new work") {
    ServerFixture f(one_echo({{"loop", true}, {"delay_ms", 30}}));
    auto inflight = std::async(std::launch::async, [&] {
        return http(f.port, "POST", "/v1/chat/completions", chat_body("x y", true, "echo", {{"max_tokens", 20}}));
    });
    REQUIRE(eventually([&] { return f.server->stats().running == 1; }));
    f.server->shutdown();
    auto r = inflight.get();
    REQUIRE(r.status == 200);
    auto data = sse_data(r.body);
    REQUIRE(!data.empty());
    CHECK(data.back() == "[DONE]");
    f.server->wait(); // returns once drained
    auto after = http(f.port, "GET", "/health");
    CHECK(after.status == 0); // nothing listens any more
}

TEST_CASE("admin endpoints: separate key - swap - failed swap keeps the old provider - reload") {
    ServerOptions o;
    o.admin_keys = {"admin-k"};
    o.api_keys = {"client-k"};
    ServerFixture f(one_echo({{"prefix", "OLD"}}), o);
    auto text = [&] {
        return http(f.port, "POST", "/v1/chat/completions", chat_body("hi", false), "client-k")
            .json()["choices"][0]["message"]["content"].get<std::string>();
    };
    CHECK(text().rfind("OLD", 0) == 0);
    auto entry = echo_entry({{"prefix", "NEW"}}).dump();
    check_envelope(http(f.port, "POST", "/admin/providers/echo", entry), 401);
    check_envelope(http(f.port, "POST", "/admin/providers/echo", entry, "client-k"), 401); // a client key is not an admin key
    CHECK(http(f.port, "POST", "/admin/providers/echo", entry, "admin-k").status == 200);
    CHECK(text().rfind("NEW", 0) == 0);
    auto bad = http(f.port, "POST", "/admin/providers/echo", echo_entry({{"fail_create", true}}).dump(), "admin-k");
    CHECK(bad.status >= 400);
    CHECK(bad.status < 500);
    CHECK(bad.json()["error"]["message"].get<std::string>().find("fail_create") != std::string::npos);
    CHECK(text().rfind("NEW", 0) == 0); // the old instance keeps serving
    check_envelope(http(f.port, "POST", "/admin/providers/echo", "{oops", "admin-k"), 400);
    CHECK(http(f.port, "POST", "/admin/reload", "", "admin-k").status == 200);

    ServerFixture none(one_echo());
    check_envelope(http(none.port, "POST", "/admin/reload", "", "anything"), 403, "admin_disabled");
}

TEST_CASE("SIGHUP re-reads the config and swaps the changed provider") {
    ServerFixture f(one_echo({{"prefix", "BEFORE"}}));
    f.server->handle_signals();
    std::ofstream(f.config.path()) << one_echo({{"prefix", "AFTER"}}).dump();
    std::raise(SIGHUP);
    std::string last;
    bool ok = eventually([&] {
        auto r = http(f.port, "POST", "/v1/chat/completions", chat_body("hi", false));
        last = r.body;
        return r.status == 200 && r.json()["choices"][0]["message"]["content"].get<std::string>().rfind("AFTER", 0) == 0;
    });
    if (!ok) {
        std::string logs;
        for (const auto &l : f.log_lines()) logs += l + "\n";
        MESSAGE("last answer: " << last << "\nserver log:\n" << logs);
    }
    CHECK(ok);
}

TEST_CASE("without an API key only loopback clients are served") {
    std::string external;
    ifaddrs *ifs = nullptr;
    if (getifaddrs(&ifs) == 0) {
        for (auto *i = ifs; i; i = i->ifa_next)
            if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
                char buf[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in *>(i->ifa_addr)->sin_addr, buf, sizeof buf);
                if (std::string(buf).rfind("127.", 0) != 0) external = buf;
            }
        freeifaddrs(ifs);
    }
    if (external.empty()) {
        MESSAGE("skipped: this machine has no non-loopback IPv4 address to connect from");
        return;
    }
    for (bool insecure : {false, true}) {
        TempConfig cfg(one_echo());
        auto h = llmhost::Host::open(host_options(cfg.path()));
        ServerOptions o;
        o.host = "0.0.0.0";
        o.port = 0;
        o.insecure_public = insecure;
        llmhost::server::Server s(*h, o);
        s.start();
        auto r = http(s.port(), "POST", "/v1/chat/completions", chat_body("x", false), "", external);
        if (insecure) {
            CHECK(r.status == 200);
        } else {
            check_envelope(r, 403, "loopback_only");
        }
        CHECK(http(s.port(), "POST", "/v1/chat/completions", chat_body("x", false)).status == 200);
    }
}
