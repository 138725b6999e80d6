// Swap under load through the server: 200 concurrent streaming clients while the provider is
// swapped 20 times over the admin endpoint -> zero failed requests, every stream complete.
#include <doctest/doctest.h>

#include "server_fixture.hpp"

#include <sys/resource.h>

#include <atomic>
#include <set>
#include <thread>

using namespace llmhost::test;
using nlohmann::json;

TEST_CASE("200 streaming clients - 20 live swaps - zero failed requests") {
    // 200 client sockets + 200 server sockets + plugins: more than a default 1024 soft limit allows
    // with headroom, so raise it to the hard limit.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 4096);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    constexpr int kClients = 200, kSwaps = 20;
    llmhost::server::ServerOptions o;
    o.max_concurrency = kClients;
    o.queue = kClients;
    o.admin_keys = {"adm"};
    ServerFixture f(json{{"providers", {{"echo", echo_entry({{"prefix", "gen0 "}, {"delay_ms", 2}})}}}}, o);

    const std::string prompt = "the quick brown fox jumps over the lazy dog";
    const std::string body =
        json{{"model", "echo"}, {"stream", true}, {"messages", {{{"role", "user"}, {"content", prompt}}}}}.dump();
    std::atomic<bool> swapping_done{false};
    std::atomic<int> ok{0}, failed{0};
    std::mutex m;
    std::set<std::string> prefixes;
    std::vector<std::string> failures;

    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c)
        clients.emplace_back([&] {
            int done_after = 0; // keep going until the swaps are over, then one more round
            while (done_after < 1) {
                if (swapping_done) ++done_after;
                auto r = http(f.port, "POST", "/v1/chat/completions", body);
                std::string text, why;
                auto data = sse_data(r.body);
                if (r.status != 200) why = "status " + std::to_string(r.status) + " " + r.error + " " + r.body;
                else if (data.empty() || data.back() != "[DONE]") why = "stream not terminated";
                else {
                    for (std::size_t i = 0; i + 1 < data.size(); ++i) {
                        json j = json::parse(data[i], nullptr, false);
                        if (!j.is_object() || j.contains("error")) { why = "error event " + data[i]; break; }
                        auto &d = j["choices"][0]["delta"];
                        if (d.contains("content")) text += d["content"].get<std::string>();
                    }
                    if (why.empty() && (text.rfind("gen", 0) != 0 || text.find(prompt) == std::string::npos))
                        why = "incomplete text '" + text + "'";
                }
                std::lock_guard lk(m);
                if (why.empty()) {
                    ++ok;
                    prefixes.insert(text.substr(0, text.find(' ')));
                } else {
                    ++failed;
                    if (failures.size() < 5) failures.push_back(why);
                }
            }
        });

    for (int i = 1; i <= kSwaps; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
        auto entry = echo_entry({{"prefix", "gen" + std::to_string(i) + " "}, {"delay_ms", 2}}).dump();
        auto r = http(f.port, "POST", "/admin/providers/echo", entry, "adm");
        CHECK_MESSAGE(r.status == 200, r.body);
    }
    swapping_done = true;
    for (auto &t : clients) t.join();

    for (const auto &w : failures) MESSAGE("failure: " << w);
    MESSAGE(ok.load() << " streams completed, " << prefixes.size() << " provider generations seen");
    CHECK(failed == 0);
    CHECK(ok >= kClients * 2);
    CHECK(prefixes.size() >= 5); // requests really spanned many swapped instances
}
