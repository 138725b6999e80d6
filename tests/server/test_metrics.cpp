// GET /metrics of llmhost serve (issue 14 item 3), over the echo provider: exact counts after a
// known set of requests, histogram consistency, label escaping and the cardinality bound,
// `promtool check metrics` on a scrape taken under load, swaps and reloads, and the separate
// metrics listener. The request log is in test_request_log.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "metrics.hpp"
#include "ops_test_util.hpp"
#include "request_log.hpp"
#include "server_metrics.hpp"

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
namespace metrics = llmhost::server::metrics;

TEST_CASE("exposition: label escaping, counters, histograms, the series bound") {
    CHECK(metrics::escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
    metrics::Registry reg;
    auto &c = reg.counter("t_requests_total", "help with \\ and\nnewline", {"model"}, 3);
    c.add({"x\"y"}, 2);
    c.add({"plain"});
    c.add({"third"});
    c.add({"fourth"}); // over the bound of 3: counted in the overflow series
    c.add({"fifth"});
    auto &h = reg.histogram("t_latency_seconds", "h", {}, {0.1, 1});
    h.observe({}, 0.05);
    h.observe({}, 0.1); // "less than or equal": in the 0.1 bucket
    h.observe({}, 5);
    std::string text = metrics::write_text(reg.collect());
    CHECK(text.find("# HELP t_requests_total help with \\\\ and\\nnewline\n") != std::string::npos);
    CHECK(text.find("# TYPE t_requests_total counter\n") != std::string::npos);
    CHECK(text.find("t_requests_total{model=\"x\\\"y\"} 2\n") != std::string::npos);
    CHECK(text.find("t_requests_total{model=\"other\"} 2\n") != std::string::npos);
    CHECK(text.find("fourth") == std::string::npos);
    CHECK(text.find("t_latency_seconds_bucket{le=\"0.1\"} 2\n") != std::string::npos);
    CHECK(text.find("t_latency_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
    CHECK(text.find("t_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
    Scrape parsed(text);
    CHECK(parsed.at("t_latency_seconds_sum") == doctest::Approx(5.15));
    CHECK(text.find("t_latency_seconds_count 3\n") != std::string::npos);
}

TEST_CASE("metrics after a known set of requests: exact counts, histograms, in-flight back to 0") {
    ServerOptions opt;
    opt.api_keys = {"sk-client-one-0123456789", "sk-client-two-0123456789"};
    ServerFixture f(one_echo(), opt);
    const std::string k1 = opt.api_keys[0], k2 = opt.api_keys[1];
    uint64_t completion_tokens = 0, prompt_tokens = 0;
    for (int i = 0; i < 3; ++i) {
        auto r =
            http(f.port, "POST", "/v1/chat/completions", chat_body("one two three", false), k1);
        REQUIRE(r.status == 200);
        completion_tokens += r.json()["usage"]["completion_tokens"].get<uint64_t>();
        prompt_tokens += r.json()["usage"]["prompt_tokens"].get<uint64_t>();
    }
    for (int i = 0; i < 2; ++i) {
        auto r = http(f.port, "POST", "/v1/chat/completions",
                      chat_body("four five", true, "echo/echo"), k2);
        REQUIRE(r.status == 200);
        auto data = sse_data(r.body);
        REQUIRE(data.size() >= 3);
        json usage = json::parse(data[data.size() - 2])["usage"];
        completion_tokens += usage["completion_tokens"].get<uint64_t>();
        prompt_tokens += usage["prompt_tokens"].get<uint64_t>();
    }
    CHECK(http(f.port, "POST", "/v1/chat/completions", chat_body("x", false), "wrong-key").status ==
          401);
    CHECK(http(f.port, "POST", "/v1/chat/completions", "{not json", k1).status == 400);
    CHECK(http(f.port, "GET", "/v1/models", "", k2).status == 200);
    CHECK(http(f.port, "GET", "/metrics").status == 401); // keys are configured: scraping needs one

    Scrape s = settled_scrape(f.port, k1);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="echo",model="default",endpoint="/v1/chat/completions",status="200",key="key_1"})") ==
        3);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="echo",model="echo",endpoint="/v1/chat/completions",status="200",key="key_2"})") ==
        2);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="none",model="none",endpoint="/v1/chat/completions",status="401",key="invalid"})") ==
        1);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="none",model="none",endpoint="/v1/chat/completions",status="400",key="key_1"})") ==
        1);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="none",model="none",endpoint="/v1/models",status="200",key="key_2"})") ==
        1);
    CHECK(s.series_of("llmhost_requests_total").size() == 5); // scrapes are not counted
    CHECK(s.at(R"(llmhost_completion_tokens_total{provider="echo"})") ==
          static_cast<double>(completion_tokens));
    CHECK(s.at(R"(llmhost_prompt_tokens_total{provider="echo"})") ==
          static_cast<double>(prompt_tokens));
    CHECK(s.at(R"(llmhost_reasoning_tokens_total{provider="echo"})") == 0);
    CHECK(
        s.at(
            R"(llmhost_request_duration_seconds_count{provider="echo",endpoint="/v1/chat/completions",stream="false"})") ==
        3);
    CHECK(
        s.at(
            R"(llmhost_request_duration_seconds_count{provider="echo",endpoint="/v1/chat/completions",stream="true"})") ==
        2);
    CHECK(s.at(R"(llmhost_time_to_first_token_seconds_count{provider="echo",stream="true"})") == 2);
    CHECK(s.at(R"(llmhost_time_per_output_token_seconds_count{provider="echo"})") == 5);
    for (const char *h : {"llmhost_request_duration_seconds", "llmhost_time_to_first_token_seconds",
                          "llmhost_time_per_output_token_seconds"})
        check_histogram(s, h);
    // A TTFT cannot exceed the whole request's time.
    CHECK(
        s.at(R"(llmhost_time_to_first_token_seconds_sum{provider="echo",stream="true"})") <=
        s.at(
            R"(llmhost_request_duration_seconds_sum{provider="echo",endpoint="/v1/chat/completions",stream="true"})"));
    CHECK(s.at("llmhost_requests_running") == 0);
    CHECK(s.at("llmhost_requests_queued") == 0);
    CHECK(s.at(R"(llmhost_provider_info{provider="echo",state="ready"})") == 1);
    CHECK(s.at(R"(llmhost_provider_instances_created{provider="echo"})") == 1);
    // No key value, nor a prefix of one, anywhere in the scrape.
    CHECK(s.text.find("sk-client") == std::string::npos);
}

TEST_CASE("cardinality: names the provider does not list are counted as 'other'") {
    ServerFixture f(one_echo());
    for (int i = 0; i < 40; ++i) {
        auto r = http(f.port, "POST", "/v1/chat/completions",
                      chat_body("hi", false, "echo/random-model-" + std::to_string(i)));
        REQUIRE(r.status == 200);
    }
    // A hostile path does not make an endpoint label either.
    CHECK(http(f.port, "GET", "/v1/unknown/\"x", "").status == 404);
    Scrape s = settled_scrape(f.port);
    CHECK(s.text.find("random-model") == std::string::npos);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="echo",model="other",endpoint="/v1/chat/completions",status="200",key="none"})") ==
        40);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="none",model="none",endpoint="other",status="404",key="none"})") ==
        1);
    CHECK(s.series_of("llmhost_requests_total").size() == 2);
}

TEST_CASE("label escaping: a model name with a quote, a backslash and a newline") {
    // The echo provider lists "echo:<instance_id>": a model a provider lists is a label value,
    // and a remote provider's list is as untrusted as a request.
    const std::string hostile = "a\"b\\c\nd} 1\nfake_metric 2";
    ServerFixture f(one_echo({{"instance_id", hostile}}));
    auto r = http(f.port, "POST", "/v1/chat/completions",
                  chat_body("hi there", false, "echo/echo:" + hostile));
    REQUIRE(r.status == 200);
    Scrape s = settled_scrape(f.port);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="echo",model="echo:a\"b\\c\nd} 1\nfake_metric 2",endpoint="/v1/chat/completions",status="200",key="none"})") ==
        1);
    CHECK(s.text.find("\nfake_metric") == std::string::npos);
}

TEST_CASE("promtool check metrics on a scrape taken while requests run") {
#ifndef LLMHOST_PROMTOOL
    MESSAGE("skipped: promtool is not installed (Debian package prometheus; scripts/deps.sh "
            "installs it)");
    std::exit(77);
#else
    if (!std::filesystem::exists(LLMHOST_PROMTOOL)) {
        MESSAGE("skipped: promtool (" LLMHOST_PROMTOOL ") is gone");
        std::exit(77);
    }
    ServerOptions opt;
    opt.max_concurrency = 4;
    opt.queue = 64;
    ServerFixture f(one_echo({{"delay_ms", 20}, {"instance_id", "q\"uote\\back\nline"}}), opt);
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c)
        clients.emplace_back([&, c] {
            while (!stop) {
                auto r = http(f.port, "POST", "/v1/chat/completions",
                              chat_body("a b c d e f", c % 2 == 0,
                                        c % 3 ? "echo" : "echo/echo:q\"uote\\back\nline"));
                if (r.status == 200) ++ok;
            }
        });
    std::string text;
    double in_flight = 0, queued = 0;
    REQUIRE(eventually(
        [&] {
            Scrape s = scrape(f.port);
            in_flight = s.at("llmhost_requests_in_flight");
            queued = s.at("llmhost_requests_queued");
            text = s.text;
            return in_flight > 0 && ok > 8 &&
                   text.find("llmhost_time_to_first_token_seconds_bucket") != std::string::npos;
        },
        20));
    stop = true;
    for (auto &t : clients) t.join();
    CHECK(in_flight > 0);
    MESSAGE("scrape under load: in flight " << in_flight << ", queued " << queued << ", "
                                            << text.size() << " bytes");
    const auto verdict = promtool_check(text);
    REQUIRE(verdict);
    INFO("promtool said: " << verdict->second);
    CHECK(verdict->first == 0);
    CHECK(verdict->second.empty()); // no lint warnings either (names, units, _total, HELP)
#endif
}

TEST_CASE("separate metrics listener: --metrics-port with --metrics-no-auth on loopback") {
    ServerOptions opt;
    opt.api_keys = {"sk-client-key-123456789"};
    opt.separate_metrics_listener = true;
    opt.metrics_port = 0;
    opt.metrics_host = "127.0.0.1";
    opt.metrics_no_auth = true;
    ServerFixture f(one_echo(), opt);
    const auto mport = f.server->metrics_port();
    REQUIRE(mport != 0);
    REQUIRE(mport != f.port);
    CHECK(http(f.port, "POST", "/v1/chat/completions", chat_body("hi", false), opt.api_keys[0])
              .status == 200);
    Scrape s = settled_scrape(mport); // no key
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="echo",model="default",endpoint="/v1/chat/completions",status="200",key="key_1"})") ==
        1);
    CHECK(http(mport, "GET", "/health").status == 200);
    CHECK(http(mport, "GET", "/v1/models").status == 404); // only /metrics and /health there
    CHECK(http(mport, "POST", "/v1/chat/completions", chat_body("hi", false), opt.api_keys[0])
              .status == 404);
    CHECK(http(f.port, "GET", "/metrics", "", opt.api_keys[0]).status ==
          404); // not on the main port
}

TEST_CASE("--metrics-no-auth is refused unless the metrics listener is on loopback") {
    ServerFixture f(one_echo());
    auto refused = [&](ServerOptions o) {
        o.port = 0;
        o.metrics_no_auth = true;
        llmhost::server::Server s(*f.host, o);
        try {
            s.start();
        } catch (const llmhost::server::ServerError &e) {
            std::string what = e.what();
            CHECK(what.find("--metrics-no-auth") != std::string::npos);
            CHECK(what.find("loopback") != std::string::npos);
            return true;
        }
        return false;
    };
    ServerOptions same;
    same.host = "0.0.0.0"; // /metrics on the public main port
    CHECK(refused(same));
    ServerOptions separate;
    separate.host = "127.0.0.1";
    separate.separate_metrics_listener = true;
    separate.metrics_host = "0.0.0.0";
    CHECK(refused(separate));
    ServerOptions v6;
    v6.host = "127.0.0.1";
    v6.separate_metrics_listener = true;
    v6.metrics_host = "::";
    CHECK(refused(v6));
    ServerOptions fine; // loopback metrics listener next to a public main port
    fine.host = "0.0.0.0";
    fine.api_keys = {"k-123456789"};
    fine.separate_metrics_listener = true;
    fine.metrics_host = "127.0.0.1";
    CHECK_FALSE(refused(fine));
}

TEST_CASE("swaps and reloads: counted, and the provider's instances go up") {
    ServerOptions opt;
    opt.admin_keys = {"adm-key-1234567890"};
    ServerFixture f(one_echo(), opt);
    const std::string adm = opt.admin_keys[0];
    REQUIRE(http(f.port, "POST", "/v1/chat/completions", chat_body("hi", false)).status == 200);
    CHECK(
        settled_scrape(f.port, adm).at(R"(llmhost_provider_instances_created{provider="echo"})") ==
        1);
    json entry = echo_entry({{"prefix", "new: "}});
    CHECK(http(f.port, "POST", "/admin/providers/echo", entry.dump(), adm).status == 200);
    CHECK(http(f.port, "POST", "/admin/providers/echo", R"({"plugin":"no-such-plugin"})", adm)
              .status >= 400);
    CHECK(http(f.port, "POST", "/admin/reload", "", adm).status == 200);
    CHECK(http(f.port, "POST", "/admin/reload", "", "wrong").status == 401);
    Scrape s = settled_scrape(f.port, adm);
    CHECK(s.at(R"(llmhost_admin_swaps_total{result="ok"})") == 1);
    CHECK(s.at(R"(llmhost_admin_swaps_total{result="failed"})") == 1);
    CHECK(s.at(R"(llmhost_config_reloads_total{trigger="admin",result="ok"})") == 1);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="none",model="none",endpoint="/admin/providers/{name}",status="200",key="admin_1"})") ==
        1);
    CHECK(
        s.at(
            R"(llmhost_requests_total{provider="none",model="none",endpoint="/admin/reload",status="401",key="invalid"})") ==
        1);
    // 1: the first load; 2: the swap; 3: the reload, which puts the file's entry back.
    CHECK(s.at(R"(llmhost_provider_instances_created{provider="echo"})") == 3);
    CHECK(s.at(R"(llmhost_provider_info{provider="echo",state="ready"})") == 1);
    CHECK(s.series_of("llmhost_provider_info").size() == 1);
    CHECK(s.text.find(adm) == std::string::npos);
}

TEST_CASE("prompt cached tokens: counted by provider from each result's cached_tokens") {
    llmhost::server::ServerMetrics::Readers readers;
    readers.in_flight = readers.running = readers.queued = [] { return 0.0; };
    readers.providers = [] { return std::vector<std::tuple<std::string, std::string, double>>{}; };
    llmhost::server::ServerMetrics m(readers,
                                     [](const std::string &) { return std::vector<std::string>{}; });
    llmhost::server::RequestRecord r;
    r.provider = "local";
    r.endpoint = "/v1/chat/completions";
    r.generation = r.has_usage = true;
    r.status = 200;
    r.prompt_tokens = 50;
    r.cached_tokens = 42; // an agent's next turn: the history came from the prefix cache
    m.record(r);
    r.prompt_tokens = 10;
    r.cached_tokens = 0;
    m.record(r);
    Scrape s(m.scrape());
    CHECK(s.at(R"(llmhost_prompt_cached_tokens_total{provider="local"})") == 42);
    CHECK(s.at(R"(llmhost_prompt_tokens_total{provider="local"})") == 60);
}
