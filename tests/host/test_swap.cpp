// Live swap: under load (8 streaming threads, 50 swaps) no request fails or is cut short, and each
// old instance is destroyed — and its library unloaded — only after its last request. Also: a
// failed swap keeps the old instance, reload applies config changes, non-thread-safe instances
// are serialized.
#include "test_support.hpp"

#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include <atomic>
#include <chrono>
#include <thread>

using namespace test;
using llmhost::Host;
using Clock = std::chrono::steady_clock;

// Is the library at this path mapped in the process right now? (Asks the loader without loading.)
static bool library_loaded(const std::string &path) {
#ifdef _WIN32
    // GetModuleHandleW compares full paths, with backslashes, and takes no reference.
    return GetModuleHandleW(fs::path(widen(path)).make_preferred().c_str()) != nullptr;
#else
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (h == nullptr) return false;
    dlclose(h); // RTLD_NOLOAD still took a reference
    return true;
#endif
}

TEST_CASE("swap under load: 8 threads x streaming, 50 swaps, zero failures, ordered teardown") {
    CleanEnvironment clean;
    const std::string lib_a = std::string(LLMHOST_TEST_SWAP_DIR_A) + "/" + plugin_file("echo");
    const std::string lib_b = std::string(LLMHOST_TEST_SWAP_DIR_B) + "/" + plugin_file("echo");
    REQUIRE_FALSE(library_loaded(lib_a));
    REQUIRE_FALSE(library_loaded(lib_b));

    constexpr int kSwaps = 50, kThreads = 8, kMaxIds = kSwaps + 2;
    std::array<std::atomic<bool>, kMaxIds> destroyed{};
    std::array<std::atomic<int64_t>, kMaxIds> destroyed_at{}, last_token_at{};
    std::atomic<int> created{0}, token_after_destroy{0};
    auto now_ns = [] { return Clock::now().time_since_epoch().count(); };

    auto host = Host::open(test_options());
    host->set_log_sink([&](llmh_log_level, std::string_view msg) {
        // "[s] echo: destroying instance '12'"
        if (auto p = msg.find("destroying instance '"); p != std::string_view::npos) {
            int id = std::atoi(std::string(msg.substr(p + 21)).c_str());
            destroyed_at[id] = now_ns();
            destroyed[id] = true;
        } else if (msg.find("created instance") != std::string_view::npos) {
            ++created;
        }
    });
    auto entry_for = [&](int id) {
        return nlohmann::json{{"plugin", id % 2 ? lib_b : lib_a},
                              {"config", {{"prefix", "i" + std::to_string(id) + " "},
                                          {"instance_id", std::to_string(id)},
                                          {"delay_ms", 1}}}};
    };
    host->swap("s", entry_for(0));

    const std::string words = "the quick brown fox jumps over the lazy dog";
    std::atomic<bool> stop{false};
    std::atomic<int> completed{0}, failed{0}, incomplete{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&] {
            while (!stop) {
                int id = -1;
                try {
                    auto r = host->generate("s", prompt(words), [&](std::string_view piece, uint32_t) {
                        if (id < 0) id = std::atoi(std::string(piece.substr(1)).c_str());
                        if (destroyed[id]) ++token_after_destroy;
                        last_token_at[id] = std::max<int64_t>(last_token_at[id], now_ns());
                        return true;
                    });
                    const std::string expected = "i" + std::to_string(id) + " " + words;
                    if (r.text != expected || r.finish_reason != LLMH_FINISH_STOP) ++incomplete;
                    ++completed;
                } catch (const std::exception &) {
                    ++failed;
                }
            }
        });
    for (int i = 1; i <= kSwaps; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(8));
        host->swap("s", entry_for(i));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop = true;
    for (auto &t : threads) t.join();

    CHECK(failed == 0);
    CHECK(incomplete == 0);
    CHECK(completed >= kThreads * 5);
    CHECK(token_after_destroy == 0);
    CHECK(created == kSwaps + 1);
    for (int id = 0; id < kSwaps; ++id) { // every old instance: destroyed, after its last token
        CAPTURE(id);
        CHECK(destroyed[id]);
        CHECK(destroyed_at[id] >= last_token_at[id]);
    }
    CHECK_FALSE(destroyed[kSwaps]); // the current one lives on
    // kSwaps is even: the current instance runs from copy A; B's last user is gone, so B is unloaded.
    CHECK(library_loaded(lib_a));
    CHECK_FALSE(library_loaded(lib_b));
    // With no request in flight a swap tears the old instance down at once, library included.
    host->swap("s", entry_for(kSwaps + 1)); // odd: copy B
    CHECK(destroyed[kSwaps]);
    CHECK(library_loaded(lib_b));
    CHECK_FALSE(library_loaded(lib_a));
    host.reset();
    CHECK_FALSE(library_loaded(lib_b));
}

TEST_CASE("a failed swap keeps the old instance serving and reports the error") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());
    host->swap("s", {{"plugin", "echo"}, {"config", {{"prefix", "old "}}}});
    auto e = expect_host_error([&] {
        host->swap("s", {{"plugin", "echo"}, {"config", {{"prefix", "new "}, {"fail_create", true}}}});
    });
    CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(e.what()).find("fail_create") != std::string::npos);
    CHECK(host->generate("s", prompt("x")).text == "old x");
    // A new name whose creation fails is not added at all.
    expect_host_error([&] { host->swap("n", {{"plugin", "echo"}, {"config", {{"fail_create", true}}}}); });
    CHECK(expect_host_error([&] { host->generate("n", prompt("x")); }).code() == LLMHOST_ERR_NO_PROVIDER);
}

TEST_CASE("reload re-reads the file: changed providers swapped, removed ones gone, errors change nothing") {
    CleanEnvironment clean;
    auto write = [&](const std::string &prefix, bool with_b) {
        nlohmann::json root = {{"default_provider", "a"},
                               {"providers", {{"a", {{"plugin", "echo"}, {"config", {{"prefix", prefix}}}}}}}};
        if (with_b) root["providers"]["b"] = {{"plugin", "echo"}};
        return clean.home.write("c.json", root.dump(2));
    };
    auto o = test_options();
    o.config_path = write("one ", true);
    auto host = Host::open(o);
    CHECK(host->generate("", prompt("x")).text == "one x");
    CHECK(host->generate("b", prompt("x")).text == "x");
    write("two ", false);
    host->reload();
    CHECK(host->generate("", prompt("x")).text == "two x");
    CHECK(expect_host_error([&] { host->generate("b", prompt("x")); }).code() == LLMHOST_ERR_NO_PROVIDER);
    clean.home.write("c.json", "{\"providers\": {\"a\": {\"plugin\": \"echo\",}}}");
    auto e = expect_host_error([&] { host->reload(); });
    CHECK(e.code() == LLMHOST_ERR_CONFIG);
    CHECK(host->generate("", prompt("x")).text == "two x");
    for (const auto &p : host->providers())
        if (p.name == "a") CHECK(p.generation == 2);
}

TEST_CASE("an instance that is not thread-safe gets its calls serialized, and creation is lazy") {
    CleanEnvironment clean;
    auto host = Host::open(test_options());
    host->swap("t", {{"plugin", "thrower"}, {"config", {{"throw_in", "never"}}}});
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            for (int k = 0; k < 10; ++k) try {
                    host->generate("t", prompt("x"));
                } catch (const std::exception &) {
                    ++failures;
                }
        });
    for (auto &t : threads) t.join();
    CHECK(failures == 0);
    for (const auto &p : host->providers())
        if (p.name == "t") CHECK_FALSE(p.thread_safe);

    // Providers from a config are created on first use, not at open.
    nlohmann::json root = {{"providers", {{"lazy", {{"plugin", "echo"}}}}}};
    auto o = test_options();
    o.config_path = clean.home.write("c.json", root.dump());
    auto h2 = Host::open(o);
    CHECK(h2->providers().at(0).state == llmhost::ProviderState::configured);
    h2->generate("lazy", prompt("x"));
    CHECK(h2->providers().at(0).state == llmhost::ProviderState::ready);
}
