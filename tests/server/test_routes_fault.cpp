// Routes under faults, end to end (issue 14, "Done when"): fake OpenAI upstreams on 127.0.0.1
// (one answering 429 with Retry-After, 500, hanging, dropping the connection or serving), the
// openai plugin pointed at them through a route, `llmhost serve` in front, 1,000 requests over 16
// clients. Checked: 0 failed while a target is healthy, every answer wholly one upstream's (and
// the one x-llmhost-target names), cooldowns and limits as configured seen in /metrics, promtool
// on a scrape taken under load; round_robin and least_busy spread evenly over two equal
// upstreams; latency moves the load to the faster of two (10 ms vs 100 ms).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "fake_openai_server.hpp"
#include "ops_test_util.hpp"
#include "request_log.hpp"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <unistd.h>

using namespace llmhost::test;
using namespace llmhost::test::ops;
using llmhost::server::ServerOptions;

namespace {

// The whole answer of upstream `name`: its own name in every piece, so a spliced answer shows.
std::string answer_of(const std::string &name) { return "from-" + name + " " + name + "-end"; }

std::string sse_chunk(const std::string &content, const char *finish = nullptr) {
    json choice = {{"index", 0},
                   {"delta", content.empty() ? json::object() : json{{"content", content}}},
                   {"finish_reason", finish ? json(finish) : json(nullptr)}};
    return "data: " +
           json{{"id", "c"},
                {"object", "chat.completion.chunk"},
                {"created", 1},
                {"model", "m"},
                {"choices", {choice}}}
               .dump() +
           "\n\n";
}

FakeReply normal_answer(const FakeRequest &req, const std::string &name) {
    json body = json::parse(req.body, nullptr, false);
    const bool stream = body.is_object() && body.value("stream", false);
    if (stream)
        return FakeReply::stream({sse_chunk("from-" + name + " "), sse_chunk(name + "-end"),
                                  sse_chunk("", "stop"), "data: [DONE]\n\n"});
    return FakeReply::json(
        200, json{{"id", "c"},
                  {"object", "chat.completion"},
                  {"created", 1},
                  {"model", "m"},
                  {"choices",
                   {{{"index", 0},
                     {"message", {{"role", "assistant"}, {"content", answer_of(name)}}},
                     {"finish_reason", "stop"}}}},
                  {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 3}, {"total_tokens", 8}}}}
                 .dump());
}

// An upstream that counts how many requests it serves at once.
struct Upstream {
    std::string name;
    std::atomic<int> now{0}, peak{0}, served{0};
    int delay_ms = 0;
    std::function<std::optional<FakeReply>(int index)> fault; // nullopt: serve normally
    std::unique_ptr<FakeOpenAiServer> server;

    explicit Upstream(std::string n, int delay = 0) : name(std::move(n)), delay_ms(delay) {}
    void start() {
        server = std::make_unique<FakeOpenAiServer>([this](const FakeRequest &req, int index) {
            if (fault)
                if (auto f = fault(index)) return *f;
            int n = ++now;
            for (int p = peak; n > p && !peak.compare_exchange_weak(p, n);) {}
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            --now;
            ++served;
            return normal_answer(req, name);
        });
    }
    json entry(double timeout_s = 5) const {
        return {{"plugin", "openai"},
                {"config",
                 {{"base_url", server->base_url()},
                  {"model", "m"},
                  {"max_retries", 0}, // the route moves on; the plugin must not retry by itself
                  {"timeout_s", timeout_s},
                  {"connect_timeout_s", 1}}},
                {"secrets", {{"api_key", "sk-test-upstream-key-0123456789"}}}};
    }
};

struct Outcome {
    int status = 0;
    std::string target, text, error;
};

// One chat completion through serve; the text reassembled from the stream when streaming.
Outcome ask(unsigned short port, const std::string &model, bool stream) {
    Outcome o;
    auto r = http(port, "POST", "/v1/chat/completions", chat_body("hi", stream, model));
    o.status = r.status;
    o.error = r.error;
    o.target = r.header("x-llmhost-target");
    if (r.status != 200) {
        o.error += r.body;
        return o;
    }
    if (!stream) {
        auto j = r.json();
        o.text = j["choices"][0]["message"]["content"].get<std::string>();
        return o;
    }
    for (const auto &d : sse_data(r.body)) {
        if (d == "[DONE]") break;
        auto j = json::parse(d, nullptr, false);
        if (!j.is_object() || j.contains("error")) {
            o.error += d;
            o.status = 0;
            continue;
        }
        if (!j["choices"].empty() && j["choices"][0]["delta"].contains("content"))
            o.text += j["choices"][0]["delta"]["content"].get<std::string>();
    }
    return o;
}

// `clients` threads sending `total` requests (every other one streaming); served counts by the
// x-llmhost-target header.
std::map<std::string, int> load(unsigned short port, const std::string &model, int total,
                                int clients, std::vector<std::string> &failures,
                                const std::map<std::string, std::string> &upstream_of) {
    std::mutex mu;
    std::map<std::string, int> served;
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&] {
            for (int i; (i = next++) < total;) {
                Outcome o = ask(port, model, i % 2 == 1);
                std::lock_guard lock(mu);
                auto up = upstream_of.find(o.target);
                if (o.status != 200 || up == upstream_of.end() || o.text != answer_of(up->second)) {
                    failures.push_back("status " + std::to_string(o.status) + ", target '" +
                                       o.target + "', text '" + o.text + "', " + o.error);
                    continue;
                }
                ++served[o.target];
            }
        });
    for (auto &t : threads) t.join();
    return served;
}

std::string series(const std::string &name, const std::string &route, const std::string &target,
                   const std::string &outcome = "") {
    std::string s = name + "{route=\"" + route + "\",target=\"" + target + "\"";
    if (!outcome.empty()) s += ",outcome=\"" + outcome + "\"";
    return s + "}";
}

} // namespace

TEST_CASE("routes under faults: 1,000 requests, 16 clients, 0 failed, no spliced answer") {
    Upstream alpha("alpha"), beta("beta"), gamma("gamma");
    alpha.delay_ms = 3;
    // beta fails four requests in five, each way an upstream can: 429 with Retry-After, 500,
    // an answer that never comes, a connection dropped before the first byte of the body.
    beta.fault = [](int index) -> std::optional<FakeReply> {
        switch (index % 5) {
        case 0: {
            auto r =
                FakeReply::json(429, R"({"error":{"message":"slow down","type":"rate_limit"}})");
            r.headers.emplace_back("Retry-After", "1");
            return r;
        }
        case 1:
            return FakeReply::json(500, R"({"error":{"message":"boom","type":"server_error"}})");
        case 2: {
            FakeReply r;
            r.hang = true;
            return r;
        }
        case 3: {
            FakeReply r = FakeReply::stream({});
            r.drop = true;
            return r;
        }
        default: return std::nullopt;
        }
    };
    alpha.start();
    beta.start();
    gamma.start();
    json providers = {{"a", alpha.entry()},
                      {"b", beta.entry(0.3)}, // a hang costs 0.3 s
                      {"c", gamma.entry()},
                      {"main",
                       {{"route",
                         {{"strategy", "round_robin"},
                          {"targets", {"b", {{"provider", "a"}, {"max_concurrent", 3}}, "c"}},
                          {"cooldown", {{"failures", 3}, {"window_s", 10}, {"seconds", 0.2}}}}}}}};
    ServerOptions opt;
    opt.max_concurrency = 16;
    opt.queue = 64;
    ServerFixture f({{"providers", providers}}, opt);

    // A scraper watching the route while the load runs: the peak in flight on `a` (its limit
    // is 3) and the longest cooldown seen on `b` (0.2 s by the rule, 1 s by Retry-After).
    std::atomic<bool> stop{false};
    double peak_in_flight_a = 0, longest_cooldown_b = 0;
    std::string under_load;
    std::thread scraper([&] {
        while (!stop) {
            auto r = http(f.port, "GET", "/metrics");
            if (r.status == 200) {
                Scrape s(r.body);
                peak_in_flight_a = std::max(
                    peak_in_flight_a, s.at(series("llmhost_route_target_in_flight", "main", "a")));
                longest_cooldown_b = std::max(
                    longest_cooldown_b,
                    s.at(series("llmhost_route_target_cooldown_remaining_seconds", "main", "b")));
                if (under_load.empty() && s.at("llmhost_requests_in_flight") > 4)
                    under_load = r.body;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    std::vector<std::string> failures;
    const auto t0 = std::chrono::steady_clock::now();
    auto served =
        load(f.port, "main", 1000, 16, failures, {{"a", "alpha"}, {"b", "beta"}, {"c", "gamma"}});
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stop = true;
    scraper.join();
    MESSAGE("1,000 requests in " << seconds << " s; served a=" << served["a"]
                                 << " b=" << served["b"] << " c=" << served["c"]);
    CHECK(failures.empty());
    for (size_t i = 0; i < failures.size() && i < 5; ++i) MESSAGE(failures[i]);
    CHECK(served["a"] + served["b"] + served["c"] == 1000);
    CHECK(served["b"] > 0); // beta's good fifth still serves when it is not cooling

    // Limits: `a` never ran more than 3 at once, neither in the route nor at the upstream.
    CHECK(alpha.peak <= 3);
    CHECK(peak_in_flight_a <= 3);
    // Each upstream's answers are those the route counted as served by it.
    Scrape s = settled_scrape(f.port);
    CHECK(s.at(series("llmhost_route_target_requests_total", "main", "a", "ok")) == served["a"]);
    CHECK(s.at(series("llmhost_route_target_requests_total", "main", "c", "ok")) == served["c"]);
    CHECK(s.at(series("llmhost_route_target_requests_total", "main", "b", "ok")) == served["b"]);
    CHECK(alpha.served == served["a"]);
    CHECK(gamma.served == served["c"]);
    // Cooldowns: beta failed, was skipped while cooling, and a Retry-After of 1 s kept it out
    // longer than the rule's 0.2 s.
    const double b_failed =
        s.at(series("llmhost_route_target_requests_total", "main", "b", "failed"));
    const double b_skipped =
        s.at(series("llmhost_route_target_requests_total", "main", "b", "skipped_cooldown"));
    MESSAGE("b: failed " << b_failed << ", skipped while cooling " << b_skipped
                         << ", longest cooldown seen " << longest_cooldown_b << " s");
    CHECK(b_failed > 0);
    CHECK(b_skipped > 0);
    // (at most: a request may fail on a connection the upstream had closed, before reaching it)
    CHECK(beta.server->request_count() <= static_cast<int>(b_failed) + served["b"]);
    CHECK(beta.server->request_count() > served["b"]);
    CHECK(longest_cooldown_b > 0.2);
    CHECK(longest_cooldown_b <= 1.0);
    CHECK(s.at(series("llmhost_route_target_cooldown", "main", "a")) == 0);

    REQUIRE(!under_load.empty());
    if (const auto verdict = promtool_check(under_load)) {
        INFO("promtool said: " << verdict->second);
        CHECK(verdict->first == 0);
        CHECK(verdict->second.empty());
    } else {
        MESSAGE("promtool is not installed: the scrape under load was not linted");
    }
}

TEST_CASE("routes: round_robin and least_busy spread within 10% of even over two equal targets") {
    Upstream one("one", 5), two("two", 5);
    one.start();
    two.start();
    auto route = [](const std::string &strategy) {
        return json{{"route", {{"strategy", strategy}, {"targets", {"p1", "p2"}}}}};
    };
    ServerOptions opt;
    opt.max_concurrency = 16;
    ServerFixture f(
        {{"providers", {{"p1", one.entry()}, {"p2", two.entry()}, {"r", route("round_robin")}}}},
        opt);
    for (std::string strategy : {"round_robin", "least_busy"}) {
        CAPTURE(strategy);
        f.host->swap("r", route(strategy)); // live, like POST /admin/providers/r
        std::vector<std::string> failures;
        auto served = load(f.port, "r", 400, 16, failures, {{"p1", "one"}, {"p2", "two"}});
        MESSAGE(strategy << ": p1 " << served["p1"] << ", p2 " << served["p2"]);
        CHECK(failures.empty());
        CHECK(served["p1"] + served["p2"] == 400);
        CHECK(served["p1"] >= 180); // 45 %..55 % of 400
        CHECK(served["p2"] >= 180);
    }
}

TEST_CASE("routes: latency moves the load to the faster target (10 ms vs 100 ms)") {
    Upstream fast("fast", 10), slow("slow", 100);
    fast.start();
    slow.start();
    ServerOptions opt;
    opt.max_concurrency = 8;
    ServerFixture f(
        {{"providers",
          {{"fast", fast.entry()},
           {"slow", slow.entry()},
           {"r", {{"route", {{"strategy", "latency"}, {"targets", {"slow", "fast"}}}}}}}}},
        opt);
    std::vector<std::string> failures;
    auto served = load(f.port, "r", 200, 4, failures, {{"fast", "fast"}, {"slow", "slow"}});
    MESSAGE("latency: fast " << served["fast"] << ", slow " << served["slow"]);
    CHECK(failures.empty());
    CHECK(served["fast"] + served["slow"] == 200);
    CHECK(served["slow"] >= 1);   // tried, to learn its latency
    CHECK(served["fast"] >= 180); // then left alone: >= 90 % to the faster
}

TEST_CASE("routes: x-llmhost-target cannot split a header, whatever the configured name") {
    CHECK(llmhost::server::target_header_value("local/gpt-4o-mini") == "local/gpt-4o-mini");
    CHECK(llmhost::server::target_header_value("a\r\nx-evil: 1") == "a__x-evil:_1");
    CHECK(llmhost::server::target_header_value(std::string(500, 'm')).size() == 200);
    // Through serve: a provider whose configured name holds CR LF, reached through a route.
    const std::string evil = "ev\r\nx-injected: yes";
    json providers = {{evil, echo_entry()}, {"r", {{"route", {{"targets", {evil}}}}}}};
    ServerFixture f(json{{"providers", providers}});
    for (bool stream : {false, true}) {
        CAPTURE(stream);
        auto r = http(f.port, "POST", "/v1/chat/completions", chat_body("hi", stream, "r"));
        CHECK(r.status == 200);
        CHECK(r.header("x-llmhost-target") == "ev__x-injected:_yes");
        CHECK(r.header("x-injected").empty());
    }
}
