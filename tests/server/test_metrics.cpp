// GET /metrics and the request log of llmhost serve (issue 14 items 3 and 4), over the echo
// provider: exact counts after a known set of requests, histogram consistency, label escaping
// and the cardinality bound, `promtool check metrics` on a scrape taken under load, the request
// log's fields and secrets, x-request-id, and the separate metrics listener.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "metrics.hpp"
#include "request_log.hpp"
#include "server_fixture.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

using namespace llmhost::test;
using llmhost::server::ServerOptions;
using nlohmann::json;
namespace metrics = llmhost::server::metrics;

namespace {

json one_echo(json cfg = json::object()) {
    return {{"providers", {{"echo", echo_entry(std::move(cfg))}}}};
}

std::string chat_body(const std::string &text, bool stream, const std::string &model = "echo") {
    json b = {{"model", model},
              {"messages", {{{"role", "user"}, {"content", text}}}},
              {"stream", stream}};
    if (stream) b["stream_options"] = {{"include_usage", true}};
    return b.dump();
}

// One request with extra headers (the fixture's http() sends only Authorization).
HttpReply http_h(unsigned short port, const std::string &method, const std::string &target,
                 const std::string &body, const std::map<std::string, std::string> &headers) {
    namespace beast = boost::beast;
    namespace h = beast::http;
    using tcp = boost::asio::ip::tcp;
    HttpReply out;
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    h::request<h::string_body> req(h::string_to_verb(method), target, 11);
    req.set(h::field::host, "127.0.0.1");
    for (const auto &[k, v] : headers) req.set(k, v);
    if (method == "POST") {
        req.set(h::field::content_type, "application/json");
        req.body() = body;
    }
    req.prepare_payload();
    h::write(stream, req);
    beast::flat_buffer buf;
    h::response<h::string_body> res;
    h::read(stream, buf, res);
    out.status = static_cast<int>(res.result_int());
    for (const auto &f : res) {
        std::string n(f.name_string());
        for (auto &c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[n] = std::string(f.value());
    }
    out.body = res.body();
    return out;
}

// A parsed scrape: "name{labels}" exactly as written -> value; and the series of one name.
struct Scrape {
    std::string text;
    std::map<std::string, double> samples;
    explicit Scrape(std::string t) : text(std::move(t)) {
        std::size_t pos = 0;
        while (pos < text.size()) {
            std::size_t end = text.find('\n', pos);
            if (end == std::string::npos) end = text.size();
            std::string line = text.substr(pos, end - pos);
            pos = end + 1;
            if (line.empty() || line[0] == '#') continue;
            std::size_t sp = line.rfind(' ');
            REQUIRE(sp != std::string::npos);
            samples[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
        }
    }
    double at(const std::string &series) const {
        auto it = samples.find(series);
        return it == samples.end() ? -1 : it->second;
    }
    std::vector<std::string> series_of(const std::string &name) const {
        std::vector<std::string> out;
        for (const auto &[k, v] : samples)
            if (k == name || k.rfind(name + "{", 0) == 0) out.push_back(k);
        return out;
    }
};

Scrape scrape(unsigned short port, const std::string &bearer = "") {
    auto r = http(port, "GET", "/metrics", "", bearer);
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    return Scrape(r.body);
}

template <class F>
bool eventually(F pred, double seconds = 5) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!pred() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return pred();
}

// A request is counted once its answer is written, which may be just after the client has
// read it: wait until nothing is in flight (the count comes before the gauge's decrement).
Scrape settled_scrape(unsigned short port, const std::string &bearer = "") {
    Scrape s = scrape(port, bearer);
    for (int i = 0; i < 1000 && s.at("llmhost_requests_in_flight") != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        s = scrape(port, bearer);
    }
    REQUIRE(s.at("llmhost_requests_in_flight") == 0);
    return s;
}

// Histogram invariants of every series of `name`: buckets non-decreasing, +Inf == _count,
// _sum consistent with the buckets (every observation <= its bucket's bound, so _sum cannot
// exceed the sum of the bounds when no observation is in +Inf).
void check_histogram(const Scrape &s, const std::string &name) {
    std::map<std::string, std::vector<std::pair<double, double>>> buckets; // labels -> (le, n)
    const std::regex bucket_re(name + R"re(_bucket\{(.*),le="([^"]+)"\})re");
    for (const auto &[k, v] : s.samples) {
        std::smatch m;
        if (!std::regex_match(k, m, bucket_re)) continue;
        double le = m[2] == "+Inf" ? INFINITY : std::stod(m[2]);
        buckets[m[1]].push_back({le, v});
    }
    REQUIRE_FALSE(buckets.empty());
    for (auto &[labels, bs] : buckets) {
        std::sort(bs.begin(), bs.end());
        for (std::size_t i = 1; i < bs.size(); ++i) CHECK(bs[i].second >= bs[i - 1].second);
        const double count = s.at(name + "_count{" + labels + "}");
        const double sum = s.at(name + "_sum{" + labels + "}");
        CHECK(bs.back().first == INFINITY);
        CHECK(bs.back().second == count);
        CHECK(count > 0);
        CHECK(sum >= 0);
        double upper = 0, prev = 0; // an upper bound of the sum from the buckets
        for (const auto &[le, n] : bs) {
            if (le == INFINITY) break;
            upper += (n - prev) * le;
            prev = n;
        }
        if (bs.back().second == prev) CHECK(sum <= upper + 1e-9);
    }
}

} // namespace

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
    auto path = std::filesystem::temp_directory_path() /
                ("llmhost-scrape-" + std::to_string(::getpid()) + ".txt");
    std::ofstream(path) << text;
    std::string cmd = std::string(LLMHOST_PROMTOOL) + " check metrics < " + path.string() + " 2>&1";
    FILE *p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int rc = ::pclose(p);
    std::filesystem::remove(path);
    INFO("promtool said: " << out);
    CHECK(rc == 0);
    CHECK(out.empty()); // no lint warnings either (names, units, _total, HELP)
#endif
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
