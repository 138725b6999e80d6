// Helpers of the /metrics and request-log tests (test_metrics.cpp, test_request_log.cpp): a
// request with extra headers, a parsed scrape, waiting for requests to settle, and the
// histogram invariants.
#pragma once

#include "server_fixture.hpp"

#include <doctest/doctest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <optional>
#include <fstream>
#include <filesystem>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace llmhost::test::ops {

using nlohmann::json;

inline json one_echo(json cfg = json::object()) {
    return {{"providers", {{"echo", echo_entry(std::move(cfg))}}}};
}

inline std::string chat_body(const std::string &text, bool stream,
                             const std::string &model = "echo") {
    json b = {{"model", model},
              {"messages", {{{"role", "user"}, {"content", text}}}},
              {"stream", stream}};
    if (stream) b["stream_options"] = {{"include_usage", true}};
    return b.dump();
}

// One request with extra headers (the fixture's http() sends only Authorization).
inline HttpReply http_h(unsigned short port, const std::string &method, const std::string &target,
                        const std::string &body,
                        const std::map<std::string, std::string> &headers) {
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

// `promtool check metrics` on a page: {exit status, what it printed}; nullopt when promtool is
// not installed (LLMHOST_PROMTOOL unset, or the file is gone): the caller skips or says so.
inline std::optional<std::pair<int, std::string>> promtool_check(const std::string &text) {
#ifndef LLMHOST_PROMTOOL
    (void)text;
    return std::nullopt;
#else
    if (!std::filesystem::exists(LLMHOST_PROMTOOL)) return std::nullopt;
    static std::atomic<int> seq{0};
    auto path = std::filesystem::temp_directory_path() /
                ("llmhost-scrape-" + std::to_string(::getpid()) + "-" + std::to_string(++seq) +
                 ".txt");
    std::ofstream(path) << text;
    std::string cmd = std::string(LLMHOST_PROMTOOL) + " check metrics < " + path.string() + " 2>&1";
    FILE *p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (p && std::fgets(buf, sizeof buf, p)) out += buf;
    const int rc = p ? ::pclose(p) : -1;
    std::filesystem::remove(path);
    return std::make_pair(rc, out);
#endif
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

inline Scrape scrape(unsigned short port, const std::string &bearer = "") {
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
// The worker that produced an answer leaves the pool's running count only after its job
// returns, which may also be after the client has the answer, so wait for that too.
inline Scrape settled_scrape(unsigned short port, const std::string &bearer = "") {
    auto settled = [](const Scrape &s) {
        return s.at("llmhost_requests_in_flight") == 0 && s.at("llmhost_requests_running") == 0;
    };
    Scrape s = scrape(port, bearer);
    for (int i = 0; i < 1000 && !settled(s); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        s = scrape(port, bearer);
    }
    REQUIRE(s.at("llmhost_requests_in_flight") == 0);
    REQUIRE(s.at("llmhost_requests_running") == 0);
    return s;
}

// Histogram invariants of every series of `name`: buckets non-decreasing, +Inf == _count,
// _sum consistent with the buckets (every observation <= its bucket's bound, so _sum cannot
// exceed the sum of the bounds when no observation is in +Inf).
inline void check_histogram(const Scrape &s, const std::string &name) {
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

} // namespace llmhost::test::ops
