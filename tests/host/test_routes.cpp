// The router's policy on in-process fakes (no plugin, no network): each strategy, which errors
// move on and which are returned at once, nothing hidden once output reached the caller,
// cooldowns and Retry-After, limits, context_overflow routing, and the route's config checks.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "route.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <thread>

using namespace llmhost;
using namespace llmhost::detail;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

RouteConfig route_of(const json &route) {
    return parse_route(json{{"route", route}}, "/providers/r", {});
}

// A fake provider per target: its behaviour is a function of the call number.
struct Fakes {
    std::mutex mu;
    std::map<std::string, int> calls;
    std::map<std::string,
             std::function<GenerateResult(const GenerateRequest &, const TokenCallback &, int)>>
        behaviour;

    Route::Runner runner() {
        return [this](const RouteTarget &t, const GenerateRequest &r, const TokenCallback &tok) {
            std::function<GenerateResult(const GenerateRequest &, const TokenCallback &, int)> f;
            int n;
            {
                std::lock_guard lock(mu);
                n = calls[t.label()]++;
                f = behaviour.at(t.label());
            }
            return f(r, tok, n);
        };
    }
    int count(const std::string &label) {
        std::lock_guard lock(mu);
        return calls[label];
    }
};

// A provider that answers with its own name, as TEXT events and through on_token.
auto answers(const std::string &name, int sleep_ms = 0) {
    return [name, sleep_ms](const GenerateRequest &r, const TokenCallback &tok, int) {
        if (sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        Event e;
        e.type = LLMH_EVENT_TEXT;
        e.text = name;
        if (r.on_event) r.on_event(e);
        if (tok) tok(name, 1);
        GenerateResult res;
        res.provider = name;
        res.text = name;
        res.prompt_tokens = 8;
        res.completion_tokens = 4;
        res.finish_reason = LLMH_FINISH_STOP;
        return res;
    };
}

auto fails(int code, double retry_after = 0, int http = 0) {
    return [=](const GenerateRequest &, const TokenCallback &, int) -> GenerateResult {
        throw HostError(code, "fake failure " + std::string(llmhost_status_name(code)), "", {},
                        retry_after, http);
    };
}

GenerateResult run(Route &route, Fakes &f, std::string *text = nullptr) {
    GenerateRequest req;
    req.prompt = "hi";
    std::string got;
    auto r = route.generate(
        req, [&](std::string_view p, uint32_t) { return got += p, true; }, f.runner());
    if (text) *text = got;
    return r;
}

int code_of(Route &route, Fakes &f, double *retry_after = nullptr) {
    try {
        run(route, f);
    } catch (const HostError &e) {
        if (retry_after) *retry_after = e.retry_after_s();
        return e.code();
    }
    return 0;
}

} // namespace

TEST_CASE("route: fallback moves on in order and says which target served") {
    Route route("r", route_of({{"strategy", "fallback"},
                               {"targets", {"a", {{"provider", "b"}, {"model", "m1"}}, "c"}}}));
    Fakes f;
    f.behaviour["a"] = fails(LLMH_ERR_NETWORK);
    f.behaviour["b/m1"] = [](const GenerateRequest &r, const TokenCallback &t, int n) {
        CHECK(r.model == "m1"); // the target's model replaces the request's
        return answers("b")(r, t, n);
    };
    f.behaviour["c"] = answers("c");
    std::string text;
    std::vector<std::string> announced;
    GenerateRequest req;
    req.model = "asked";
    req.on_target = [&](std::string_view t) { announced.emplace_back(t); };
    auto r = route.generate(
        req, [&](std::string_view p, uint32_t) { return text += p, true; }, f.runner());
    CHECK(r.served_by == "b/m1");
    CHECK(r.provider == "r");
    CHECK(text == "b");
    CHECK(announced == std::vector<std::string>{"a", "b/m1"});
    CHECK(f.count("c") == 0);
    auto st = route.status();
    REQUIRE(st.size() == 3);
    CHECK(st[0].failed == 1);
    CHECK(st[1].ok == 1);
    CHECK(st[2].ok + st[2].failed == 0);
}

TEST_CASE("route: which errors move on and which are returned at once") {
    struct Case {
        int code;
        int http;
        bool moves_on;
    };
    const Case cases[] = {
        {LLMH_ERR_RATE_LIMITED, 429, true},
        {LLMH_ERR_NETWORK, 503, true},
        {LLMH_ERR_NETWORK, 0, true},
        {LLMH_ERR_TIMEOUT, 0, true},
        {LLMH_ERR_OUT_OF_MEMORY, 0, true},
        {LLMH_ERR_INTERNAL, 500, true},
        {LLMHOST_ERR_PLUGIN, 0, true},
        {LLMHOST_ERR_NO_PROVIDER, 0, true},
        // A provider whose creation failed for its configuration: marked 5xx, that target is
        // broken.
        {LLMH_ERR_INVALID_ARGUMENT, 500, true},
        {LLMH_ERR_INVALID_ARGUMENT, 400, false},
        {LLMH_ERR_INVALID_ARGUMENT, 0, false},
        {LLMH_ERR_AUTH_REQUIRED, 401, false},
        {LLMH_ERR_AUTH_INVALID, 401, false},
        {LLMH_ERR_GATED, 403, false},
        {LLMH_ERR_NOT_FOUND, 404, false},
        {LLMH_ERR_UNSUPPORTED, 0, false},
        {LLMH_ERR_CANCELLED, 0, false},
    };
    for (const auto &c : cases) {
        CAPTURE(llmhost_status_name(c.code));
        CAPTURE(c.http);
        Route route("r", route_of({{"targets", {"a", "b"}}}));
        Fakes f;
        f.behaviour["a"] = fails(c.code, 0, c.http);
        f.behaviour["b"] = answers("b");
        if (c.moves_on) {
            CHECK(run(route, f).served_by == "b");
        } else {
            CHECK(code_of(route, f) == c.code);
            CHECK(f.count("b") == 0);
        }
    }
}

TEST_CASE("route: a failure after output reached the caller is reported, never hidden") {
    Route route("r", route_of({{"targets", {"a", "b"}}}));
    Fakes f;
    f.behaviour["a"] = [](const GenerateRequest &r, const TokenCallback &tok,
                          int) -> GenerateResult {
        Event e;
        e.type = LLMH_EVENT_TEXT;
        e.text = "a-part";
        if (r.on_event) r.on_event(e);
        if (tok) tok("a-part", 1);
        throw HostError(LLMH_ERR_NETWORK, "dropped mid-stream");
    };
    f.behaviour["b"] = answers("b");
    std::string text;
    CHECK_THROWS_AS(run(route, f, &text), HostError);
    CHECK(f.count("b") == 0);

    // A logprob goes out before its text: that too is output.
    Route route2("r", route_of({{"targets", {"a", "b"}}}));
    Fakes g;
    g.behaviour["a"] = [](const GenerateRequest &r, const TokenCallback &, int) -> GenerateResult {
        TokenLogprob lp{"x", -0.1f};
        if (r.on_logprob) r.on_logprob(lp, {});
        throw HostError(LLMH_ERR_TIMEOUT, "stalled");
    };
    g.behaviour["b"] = answers("b");
    GenerateRequest req;
    req.logprobs = true;
    int seen = 0;
    req.on_logprob = [&](const TokenLogprob &, const std::vector<TokenLogprob> &) {
        return ++seen, true;
    };
    CHECK_THROWS_AS(route2.generate(req, {}, g.runner()), HostError);
    CHECK(seen == 1);
    CHECK(g.count("b") == 0);
}

TEST_CASE("route: N failures within the window start a cooldown; it ends on time") {
    Route route("r",
                route_of({{"targets", {"a", "b"}},
                          {"cooldown", {{"failures", 2}, {"window_s", 10}, {"seconds", 0.3}}}}));
    Fakes f;
    f.behaviour["a"] = [](const GenerateRequest &r, const TokenCallback &t, int n) {
        if (n < 2) throw HostError(LLMH_ERR_NETWORK, "down");
        return answers("a")(r, t, n);
    };
    f.behaviour["b"] = answers("b");
    CHECK(run(route, f).served_by == "b"); // a failed once
    CHECK(!route.status()[0].cooling_down);
    CHECK(run(route, f).served_by == "b"); // a failed twice: cooling down
    CHECK(route.status()[0].cooling_down);
    CHECK(run(route, f).served_by == "b"); // a skipped, not called
    CHECK(f.count("a") == 2);
    CHECK(route.status()[0].skipped_cooldown == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(350));
    CHECK(!route.status()[0].cooling_down);
    CHECK(run(route, f).served_by == "a");
}

TEST_CASE("route: Retry-After puts a target in cooldown at least that long") {
    Route route("r", route_of({{"targets", {"a", "b"}}, {"cooldown", {{"failures", 100}}}}));
    Fakes f;
    f.behaviour["a"] = fails(LLMH_ERR_RATE_LIMITED, 0.4, 429);
    f.behaviour["b"] = answers("b");
    CHECK(run(route, f).served_by == "b");
    auto st = route.status()[0];
    CHECK(st.cooling_down);
    CHECK(st.cooldown_remaining_s > 0.2);
    CHECK(st.cooldown_remaining_s <= 0.4);
    CHECK(run(route, f).served_by == "b");
    CHECK(f.count("a") == 1);
}

TEST_CASE("route: every target cooling down: 429 with the soonest Retry-After, at once") {
    Route route("r", route_of({{"targets", {"a", "b"}}, {"cooldown", {{"failures", 100}}}}));
    Fakes f;
    f.behaviour["a"] = fails(LLMH_ERR_RATE_LIMITED, 30, 429);
    f.behaviour["b"] = fails(LLMH_ERR_RATE_LIMITED, 5, 429);
    CHECK(code_of(route, f) == LLMH_ERR_RATE_LIMITED); // both tried, both refused
    const auto t0 = Clock::now();
    double ra = 0;
    CHECK(code_of(route, f, &ra) == LLMH_ERR_RATE_LIMITED);
    CHECK(Clock::now() - t0 < std::chrono::milliseconds(100)); // never waits
    CHECK(ra > 4);
    CHECK(ra <= 5);
    CHECK(f.count("a") == 1);
    CHECK(f.count("b") == 1);
}

TEST_CASE("route: every target failing with 5xx returns the last error") {
    Route route("r", route_of({{"targets", {"a", "b"}}}));
    Fakes f;
    f.behaviour["a"] = fails(LLMH_ERR_TIMEOUT);
    f.behaviour["b"] = fails(LLMH_ERR_NETWORK, 0, 502);
    double ra = -1;
    CHECK(code_of(route, f, &ra) == LLMH_ERR_NETWORK);
    CHECK(ra == 0);
}

TEST_CASE("route: max_concurrent: a full target is skipped while another is free; all full: 429") {
    Route route("r", route_of({{"targets",
                                {{{"provider", "a"}, {"max_concurrent", 1}},
                                 {{"provider", "b"}, {"max_concurrent", 1}}}}}));
    Fakes f;
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    std::atomic<int> inside{0};
    auto blocking = [&](const std::string &name) {
        return [&, name](const GenerateRequest &r, const TokenCallback &t, int n) {
            ++inside;
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return release; });
            return answers(name)(r, t, n);
        };
    };
    f.behaviour["a"] = blocking("a");
    f.behaviour["b"] = blocking("b");
    std::string first, second;
    std::thread t1([&] { first = run(route, f).served_by; });
    while (inside < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::thread t2([&] { second = run(route, f).served_by; });
    while (inside < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    double ra = 0;
    CHECK(code_of(route, f, &ra) == LLMH_ERR_RATE_LIMITED);
    CHECK(ra > 0);
    CHECK(route.status()[0].in_flight == 1);
    {
        std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    t1.join();
    t2.join();
    CHECK(first == "a");
    CHECK(second == "b");
    CHECK(route.status()[0].skipped_limit == 2); // the second request and the refused one
    CHECK(route.status()[0].in_flight == 0);
}

TEST_CASE("route: rpm and tpm limits") {
    Route route("r", route_of({{"targets", {{{"provider", "a"}, {"rpm", 2}}, "b"}}}));
    Fakes f;
    f.behaviour["a"] = answers("a");
    f.behaviour["b"] = answers("b");
    CHECK(run(route, f).served_by == "a");
    CHECK(run(route, f).served_by == "a");
    CHECK(run(route, f).served_by == "b"); // a's 2 requests per minute are used
    CHECK(route.status()[0].skipped_limit == 1);

    // 12 tokens per answer (8 + 4): a 20-token budget admits two answers.
    Route tpm("r", route_of({{"targets", {{{"provider", "a"}, {"tpm", 20}}, "b"}}}));
    Fakes g;
    g.behaviour["a"] = answers("a");
    g.behaviour["b"] = answers("b");
    CHECK(run(tpm, g).served_by == "a");
    CHECK(run(tpm, g).served_by == "a");
    CHECK(run(tpm, g).served_by == "b");
    Route only("r", route_of({{"targets", {{{"provider", "a"}, {"rpm", 1}}}}}));
    CHECK(run(only, g).served_by == "a");
    double ra = 0;
    CHECK(code_of(only, g, &ra) == LLMH_ERR_RATE_LIMITED);
    CHECK(ra > 55); // the minute's first request leaves the window in ~60 s
    CHECK(ra <= 60);
}

TEST_CASE("route: context_overflow goes to a target whose context is larger") {
    Route route("r", route_of({{"targets",
                                {{{"provider", "a"}, {"context", 4096}},
                                 {{"provider", "b"}, {"context", 2048}},
                                 {{"provider", "c"}, {"context", 32768}},
                                 "d"}}}));
    Fakes f;
    f.behaviour["a"] = fails(LLMH_ERR_CONTEXT_OVERFLOW, 0, 400);
    f.behaviour["b"] = answers("b");
    f.behaviour["c"] = answers("c");
    f.behaviour["d"] = answers("d");
    CHECK(run(route, f).served_by == "c");
    CHECK(f.count("b") == 0); // smaller than a refusing one: not tried
    CHECK(!route.status()[0].cooling_down);

    // Every larger target refuses too (and one of undeclared size): the overflow is returned.
    Route all("r", route_of({{"targets",
                              {{{"provider", "a"}, {"context", 4096}},
                               {{"provider", "b"}, {"context", 2048}},
                               "d"}}}));
    Fakes g;
    g.behaviour["a"] = fails(LLMH_ERR_CONTEXT_OVERFLOW, 0, 400);
    g.behaviour["b"] = answers("b");
    g.behaviour["d"] = fails(LLMH_ERR_CONTEXT_OVERFLOW, 0, 400);
    CHECK(code_of(all, g) == LLMH_ERR_CONTEXT_OVERFLOW);
    CHECK(g.count("b") == 0);
    CHECK(g.count("d") == 1);
}

TEST_CASE("route: round_robin spreads evenly over equal targets") {
    Route route("r", route_of({{"strategy", "round_robin"}, {"targets", {"a", "b", "c"}}}));
    Fakes f;
    for (auto n : {"a", "b", "c"}) f.behaviour[n] = answers(n);
    std::map<std::string, int> served;
    for (int i = 0; i < 300; ++i) ++served[run(route, f).served_by];
    CHECK(served["a"] == 100);
    CHECK(served["b"] == 100);
    CHECK(served["c"] == 100);
    // A failing target is passed over; the others still share.
    f.behaviour["b"] = fails(LLMH_ERR_NETWORK);
    served.clear();
    for (int i = 0; i < 30; ++i) ++served[run(route, f).served_by];
    CHECK(served["b"] == 0);
    CHECK(served["a"] + served["c"] == 30);
}

TEST_CASE("route: least_busy sends a request to the target with fewest in flight") {
    Route route("r", route_of({{"strategy", "least_busy"}, {"targets", {"a", "b"}}}));
    Fakes f;
    f.behaviour["a"] = answers("a", 2);
    f.behaviour["b"] = answers("b", 2);
    std::mutex m;
    std::map<std::string, int> served;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                auto s = run(route, f).served_by;
                std::lock_guard lock(m);
                ++served[s];
            }
        });
    for (auto &t : threads) t.join();
    CHECK(served["a"] + served["b"] == 200);
    CHECK(std::abs(served["a"] - served["b"]) <= 20); // within 10% of even

    // One target slow (busy longer): it takes fewer.
    Route skew("r", route_of({{"strategy", "least_busy"}, {"targets", {"slow", "fast"}}}));
    Fakes g;
    g.behaviour["slow"] = answers("slow", 20);
    g.behaviour["fast"] = answers("fast", 1);
    served.clear();
    threads.clear();
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 20; ++i) {
                auto s = run(skew, g).served_by;
                std::lock_guard lock(m);
                ++served[s];
            }
        });
    for (auto &t : threads) t.join();
    CHECK(served["fast"] > 2 * served["slow"]);
}

TEST_CASE("route: latency tries every target, then prefers the fastest") {
    Route route("r", route_of({{"strategy", "latency"}, {"targets", {"slow", "fast"}}}));
    Fakes f;
    f.behaviour["slow"] = answers("slow", 30);
    f.behaviour["fast"] = answers("fast", 2);
    std::map<std::string, int> served;
    for (int i = 0; i < 20; ++i) ++served[run(route, f).served_by];
    CHECK(served["slow"] == 1); // tried once (an untried target goes first), then left alone
    CHECK(served["fast"] == 19);
    auto st = route.status();
    CHECK(st[0].ttft_ewma_ms > st[1].ttft_ewma_ms);
}

TEST_CASE("route: cancellation between attempts stops the route") {
    Route route("r", route_of({{"targets", {"a", "b"}}}));
    Fakes f;
    bool cancel = false;
    f.behaviour["a"] = [&](const GenerateRequest &, const TokenCallback &, int) -> GenerateResult {
        cancel = true;
        throw HostError(LLMH_ERR_NETWORK, "down");
    };
    f.behaviour["b"] = answers("b");
    GenerateRequest req;
    req.should_cancel = [&] { return cancel; };
    auto r = route.generate(req, {}, f.runner());
    CHECK(r.finish_reason == LLMH_FINISH_CANCELLED);
    CHECK(f.count("b") == 0);
}

namespace {
std::string config_error_of(const json &route) {
    try {
        route_of(route);
    } catch (const HostError &e) {
        CHECK(e.code() == LLMHOST_ERR_CONFIG);
        return std::string(e.what()) + " | " + e.hint();
    }
    return "";
}
} // namespace

TEST_CASE("route config: hostile and mistaken entries are refused naming the pointer and the fix") {
    auto has = [](const std::string &msg, const std::string &part) {
        CAPTURE(msg);
        CHECK(msg.find(part) != std::string::npos);
    };
    has(config_error_of({{"strategy", "fallbak"}, {"targets", {"a"}}}), "did you mean 'fallback'");
    has(config_error_of({{"strategy", "fastest"}, {"targets", {"a"}}}), "/route/strategy");
    has(config_error_of({{"strategy", 3}, {"targets", {"a"}}}), "unknown route strategy");
    has(config_error_of({{"targets", json::array()}}),
        "/providers/r/route/targets' must be a non-empty");
    has(config_error_of({{"strategy", "fallback"}}), "has no \"targets\"");
    has(config_error_of({{"targets", "a"}}), "non-empty array");
    has(config_error_of({{"targets", {{{"provider", "a"}, {"rpm", 0}}}}}), "/targets/0/rpm");
    has(config_error_of({{"targets", {{{"provider", "a"}, {"rpm", -5}}}}}), "whole number from 1");
    has(config_error_of({{"targets", {{{"provider", "a"}, {"rpm", 1e12}}}}}), "/targets/0/rpm");
    has(config_error_of({{"targets", {{{"provider", "a"}, {"tpm", 2.5}}}}}), "/targets/0/tpm");
    has(config_error_of({{"targets", {{{"provider", "a"}, {"max_concurrent", "4"}}}}}),
        "/targets/0/max_concurrent");
    has(config_error_of({{"targets", {{{"provider", "a"}, {"context", 1e300}}}}}), "/context");
    has(config_error_of({{"targets", {{{"provider", "a"}, {"model", "x\r\ny"}}}}}), "/model");
    has(config_error_of({{"targets", {{{"provider", "a"}, {"modle", "x"}}}}}),
        "did you mean 'model'");
    has(config_error_of({{"targets", {{{"model", "x"}}}}}), "needs \"provider\"");
    has(config_error_of({{"targets", {"a", "a"}}}), "listed twice");
    has(config_error_of({{"targets", {""}}}), "empty provider name");
    has(config_error_of({{"targets", {"a"}}, {"cooldown", {{"seconds", 0}}}}), "/cooldown/seconds");
    has(config_error_of({{"targets", {"a"}}, {"cooldown", {{"window_s", 1e9}}}}),
        "/cooldown/window_s");
    has(config_error_of({{"targets", {"a"}}, {"cooldown", {{"failures", 0}}}}),
        "/cooldown/failures");
    has(config_error_of({{"targets", {"a"}}, {"cooldown", {{"failure", 2}}}}),
        "did you mean 'failures'");
    has(config_error_of({{"targets", {"a"}}, {"stratgy", "x"}}), "did you mean 'strategy'");
    json many = json::array();
    for (int i = 0; i < 65; ++i) many.push_back("p" + std::to_string(i));
    has(config_error_of({{"targets", many}}), "at most 64");
    CHECK(config_error_of({{"targets", {"a"}}}).empty()); // the minimal route is fine

    // Extra keys beside "route" are refused (a route has no plugin or config of its own).
    try {
        parse_route(json{{"route", {{"targets", {"a"}}}}, {"plugin", "x"}}, "/providers/r", {});
        FAIL("a route with a plugin was accepted");
    } catch (const HostError &e) {
        CHECK(std::string(e.what()).find("/providers/r/plugin") != std::string::npos);
    }
}

TEST_CASE("route config: targets name configured plugin providers, never itself or a route") {
    auto rc = route_of({{"targets", {"local", "smart", "cloud", "lcoal"}}});
    const std::vector<std::string> known = {"local", "cloud", "smart", "other_route"};
    auto kind = [&](const std::string &n) -> std::optional<bool> {
        if (n == "local" || n == "cloud") return false;
        if (n == "smart" || n == "other_route") return true;
        return std::nullopt;
    };
    auto error_of = [&](const RouteConfig &r) -> std::string {
        try {
            check_route_targets("smart", r, kind, known, "/providers/smart", {});
        } catch (const HostError &e) {
            return e.what();
        }
        return "";
    };
    std::string e = error_of(rc);
    CHECK(e.find("lists itself") != std::string::npos);
    CHECK(e.find("/providers/smart/route/targets/1") != std::string::npos);
    e = error_of(route_of({{"targets", {"local", "lcoal"}}}));
    CHECK(e.find("did you mean 'local'") != std::string::npos);
    CHECK(e.find("/route/targets/1") != std::string::npos);
    e = error_of(route_of({{"targets", {"other_route"}}}));
    CHECK(e.find("which is a route") != std::string::npos);
    CHECK(error_of(route_of({{"targets", {"local", "cloud"}}})).empty());
}
