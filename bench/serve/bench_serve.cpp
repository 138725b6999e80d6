// bench/serve: what `llmhost serve` adds on top of a provider. The echo plugin answers a 16-word
// prompt (16 tokens); each configuration runs C clients for a fixed time, each sending requests
// back to back (keep-alive HTTP/1.1 for the server, Host::generate for the in-process peer).
// Printed per row: requests/s, p50 and p99 latency, and the ratio / difference to the peer.
//
// The routed rows: Host::generate on the echo provider against the same request through a
// fallback route whose one target is that provider (the router's added p50, same run).
//
//   bench_serve [seconds per row, default 2] [--routed-only]
#include <llmhost/host.hpp>
#include <llmhost/server/server.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kPrompt = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen";

struct Row {
    double rps = 0, p50_ms = 0, p99_ms = 0;
    uint64_t errors = 0;
};

double pct(std::vector<double> &v, double q) {
    if (v.empty()) return 0;
    std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(q * (v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[k];
}

// Runs `clients` threads calling one_request() until `seconds` pass; one_request returns false on error.
template <class MakeClient> Row run(int clients, double seconds, MakeClient make_client) {
    std::vector<std::vector<double>> lat(clients);
    std::atomic<uint64_t> errors{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            auto one_request = make_client();
            while (!stop) {
                auto t0 = Clock::now();
                bool ok = one_request();
                lat[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                if (!ok) ++errors;
            }
        });
    auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto &t : threads) t.join();
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> all;
    for (auto &v : lat) all.insert(all.end(), v.begin(), v.end());
    Row r;
    r.rps = all.size() / elapsed;
    r.p50_ms = pct(all, 0.50);
    r.p99_ms = pct(all, 0.99);
    r.errors = errors;
    return r;
}

// A keep-alive HTTP client: one request per call.
struct HttpClient {
    asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buf;
    std::string body;
    bool stream_mode;
    HttpClient(unsigned short port, bool streaming) : stream_mode(streaming) {
        stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        stream.socket().set_option(tcp::no_delay(true));
        body = nlohmann::json{{"model", "echo"}, {"stream", streaming},
                              {"messages", {{{"role", "user"}, {"content", kPrompt}}}}}.dump();
    }
    bool operator()() {
        http::request<http::string_body> req(http::verb::post, "/v1/chat/completions", 11);
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.prepare_payload();
        http::write(stream, req);
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        return res.result_int() == 200 &&
               (!stream_mode || res.body().find("data: [DONE]") != std::string::npos);
    }
};

} // namespace

int main(int argc, char **argv) {
    double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    auto dir = std::filesystem::temp_directory_path() / "llmhost-bench-serve";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "llmhost.json")
        << R"({"providers": {"echo": {"plugin": "echo"},
                             "routed": {"route": {"strategy": "fallback", "targets": ["echo"]}}}})";
    const bool routed_only = argc > 2 && std::string(argv[2]) == "--routed-only";
    llmhost::HostOptions ho;
    ho.config_path = (dir / "llmhost.json").string();
    ho.plugin_dirs = {LLMHOST_BENCH_PLUGIN_DIR};
    auto host = llmhost::Host::open(ho);

    llmhost::server::ServerOptions so;
    so.port = 0;
    so.max_concurrency = 128;
    so.queue = 256;
    llmhost::server::Server server(*host, so);
    server.start();
    const unsigned short port = server.port();

    std::printf("llmhost serve vs in-process Host::generate, echo plugin, 16 tokens per request, %.1f s per row, %u cores\n",
                seconds, std::thread::hardware_concurrency());
    std::printf("%-6s %-7s | %10s %9s %9s | %10s %9s %9s | %8s %10s %10s\n", "mode", "clients",
                "direct r/s", "p50 ms", "p99 ms", "serve r/s", "p50 ms", "p99 ms", "r/s ratio",
                "+p50 ms", "+p99 ms");
    for (bool streaming : {false, true}) {
        if (routed_only) break;
        for (int clients : {1, 16, 128}) {
            Row direct = run(clients, seconds, [&] {
                return [&] {
                    llmhost::GenerateRequest req;
                    req.messages = {{"user", kPrompt}};
                    req.stream = streaming;
                    std::size_t n = 0;
                    auto r = host->generate("echo", req, [&](std::string_view p, uint32_t) { n += p.size(); return true; });
                    return r.finish_reason == LLMH_FINISH_STOP && n > 0;
                };
            });
            Row served = run(clients, seconds, [&] {
                auto client = std::make_shared<HttpClient>(port, streaming);
                return [client] { return (*client)(); };
            });
            std::printf("%-6s %-7d | %10.0f %9.3f %9.3f | %10.0f %9.3f %9.3f | %8.3f %10.3f %10.3f%s\n",
                        streaming ? "stream" : "json", clients, direct.rps, direct.p50_ms, direct.p99_ms,
                        served.rps, served.p50_ms, served.p99_ms, served.rps / direct.rps,
                        served.p50_ms - direct.p50_ms, served.p99_ms - direct.p99_ms,
                        (direct.errors + served.errors) ? "  (errors!)" : "");
            std::fflush(stdout);
        }
    }
    if (!routed_only) std::printf("target: < 1 ms added p99 at 16 clients (the +p99 column)\n");

    // The router: the same in-process request on "echo" and on the route "routed" -> echo.
    // Rounds alternate (direct, routed, direct, ...) so drift in the machine's load hits both;
    // each side's best p50 of 3 rounds is compared.
    std::printf("\nrouter overhead: Host::generate on echo vs a fallback route over echo, best p50 of 3 "
                "alternating rounds, %.1f s each\n",
                seconds / 2);
    std::printf("%-6s %-7s | %12s %12s | %12s %9s\n", "mode", "clients", "direct p50", "routed p50",
                "+p50 us", "p50 ratio");
    for (bool streaming : {false, true})
        for (int clients : {1, 16}) {
            auto bench_provider = [&](const char *provider) {
                return run(clients, seconds / 2, [&, provider] {
                    return [&, provider] {
                        llmhost::GenerateRequest req;
                        req.messages = {{"user", kPrompt}};
                        req.stream = streaming;
                        std::size_t n = 0;
                        auto r = host->generate(provider, req, [&](std::string_view p, uint32_t) {
                            n += p.size();
                            return true;
                        });
                        return r.finish_reason == LLMH_FINISH_STOP && n > 0;
                    };
                });
            };
            double direct = 1e9, routed = 1e9;
            uint64_t errors = 0;
            for (int round = 0; round < 3; ++round) {
                Row d = bench_provider("echo"), r = bench_provider("routed");
                direct = std::min(direct, d.p50_ms);
                routed = std::min(routed, r.p50_ms);
                errors += d.errors + r.errors;
            }
            std::printf("%-6s %-7d | %9.1f us %9.1f us | %12.1f %9.3f%s\n",
                        streaming ? "stream" : "json", clients, direct * 1000, routed * 1000,
                        (routed - direct) * 1000, routed / direct, errors ? "  (errors!)" : "");
            std::fflush(stdout);
        }
    std::printf("target: the router adds < 50 us p50 per request\n");
    return 0;
}
