// Routes through llmhost::Host on the echo plugin: configuration (file errors with positions),
// served_by and on_target, a broken target passed over, swap and reload of a route (in-flight
// requests finish on the old route), providers() and list_models on a route, the C API accessor.
#include "test_support.hpp"

#include <llmhost/host.h>

#include <atomic>
#include <thread>

using namespace test;
using llmhost::Host;
using json = nlohmann::json;

namespace {

json echo(const std::string &prefix, int delay_ms = 0) {
    json cfg = {{"prefix", prefix}};
    if (delay_ms) cfg["delay_ms"] = delay_ms;
    return {{"plugin", "echo"}, {"config", cfg}};
}

json base_config() {
    json providers = {
        {"local", echo("L:")},
        {"cloud", echo("C:")},
        {"broken", {{"plugin", "echo"}, {"config", {{"fail_create", true}}}}},
        {"smart",
         {{"route",
           {{"strategy", "fallback"},
            {"targets", {"broken", {{"provider", "local"}, {"max_concurrent", 4}}, "cloud"}},
            {"cooldown", {{"failures", 1}, {"window_s", 30}, {"seconds", 60}}}}}}}};
    return {{"providers", providers}, {"default_provider", "smart"}};
}

std::string config_error(const CleanEnvironment &env, const std::string &text) {
    auto opts = test_options();
    opts.config_path = env.home.write("llmhost.json", text);
    try {
        Host::open(opts);
    } catch (const llmhost::HostError &e) {
        CHECK(e.code() == LLMHOST_ERR_CONFIG);
        return std::string(e.what()) + " | " + e.hint();
    }
    return "";
}

} // namespace

TEST_CASE("routes/host: a route passes over a broken target and says who served") {
    CleanEnvironment env;
    auto opts = test_options();
    opts.config_path = env.home.write("llmhost.json", base_config().dump(2));
    auto host = Host::open(opts);
    llmhost::GenerateRequest req;
    req.prompt = "hello";
    std::vector<std::string> announced;
    req.on_target = [&](std::string_view t) { announced.emplace_back(t); };
    std::string streamed;
    auto r = host->generate("", req, [&](std::string_view p, uint32_t) {
        streamed += p;
        return true;
    });
    CHECK(r.served_by == "local");
    CHECK(r.provider == "smart");
    CHECK(r.text.rfind("L:", 0) == 0);
    CHECK(streamed == r.text);
    CHECK(announced == std::vector<std::string>{"broken", "local"});

    // The broken target (create fails) is cooling down now: the next request skips it.
    announced.clear();
    CHECK(host->generate("smart", req).served_by == "local");
    CHECK(announced == std::vector<std::string>{"local"});
    bool seen = false;
    for (const auto &s : host->route_status()) {
        if (s.target != "broken") continue;
        seen = true;
        CHECK(s.route == "smart");
        CHECK(s.cooling_down);
        CHECK(s.failed == 1);
        CHECK(s.skipped_cooldown == 1);
    }
    CHECK(seen);

    // A plain provider says itself.
    announced.clear();
    auto plain = host->generate("cloud", req);
    CHECK(plain.served_by == "cloud");
    CHECK(announced == std::vector<std::string>{"cloud"});

    bool listed = false;
    for (const auto &p : host->providers())
        if (p.name == "smart") {
            listed = true;
            CHECK(p.plugin == "route");
            CHECK(p.state == llmhost::ProviderState::ready);
            CHECK(p.route_targets == std::vector<std::string>{"broken", "local", "cloud"});
        }
    CHECK(listed);
    auto shown = host->resolved_config_for_display();
    CHECK(shown["providers"]["smart"]["route"]["strategy"] == "fallback");

    // A bad request is the caller's to fix: returned at once, not retried on other targets.
    llmhost::GenerateRequest bad;
    bad.prompt = "x";
    bad.logprobs = true;
    bad.top_logprobs = 1000;
    announced.clear();
    bad.on_target = req.on_target;
    CHECK_THROWS_AS(host->generate("smart", bad), llmhost::HostError);
    CHECK(announced.size() == 1);
}

TEST_CASE("routes/host: configuration errors point at the route's JSON") {
    CleanEnvironment env;
    auto with_route = [](const json &route) {
        json c = base_config();
        c["providers"]["smart"] = {{"route", route}};
        return c.dump(2);
    };
    std::string e = config_error(env, with_route({{"targets", {"local", "clod"}}}));
    CHECK(e.find("llmhost.json:") != std::string::npos);
    CHECK(e.find("'clod' ('/providers/smart/route/targets/1'), which is not a configured provider; "
                 "did you mean 'cloud'") != std::string::npos);
    e = config_error(env, with_route({{"targets", {"smart"}}}));
    CHECK(e.find("lists itself") != std::string::npos);
    e = config_error(env, with_route({{"strategy", "fastest"}, {"targets", {"local"}}}));
    CHECK(e.find("/providers/smart/route/strategy") != std::string::npos);
    CHECK(e.find("one of: fallback, round_robin, least_busy, latency") != std::string::npos);
    e = config_error(env, with_route({{"targets", json::array()}}));
    CHECK(e.find("non-empty array") != std::string::npos);
    e = config_error(env, with_route({{"targets", {{{"provider", "local"}, {"rpm", -1}}}}}));
    CHECK(e.find("/providers/smart/route/targets/0/rpm") != std::string::npos);
    // Another route as a target (a cycle is impossible because routes never nest).
    json c = base_config();
    c["providers"]["other"] = {{"route", {{"targets", {"smart"}}}}};
    e = config_error(env, c.dump(2));
    CHECK(e.find("which is a route; routes do not nest") != std::string::npos);
    // Line and column of the offending value.
    e = config_error(env,
                     "{\"providers\": {\"local\": {\"plugin\": \"echo\"},\n"
                     "  \"smart\": {\"route\": {\"targets\": [\"local\"], \"strategy\": 7}}}}");
    CHECK(e.find("llmhost.json:2:") != std::string::npos);
}

TEST_CASE("routes/host: swap and reload replace a route live, in-flight requests finish on it") {
    CleanEnvironment env;
    auto opts = test_options();
    json cfg = base_config();
    cfg["providers"]["slow"] = echo("S:", 20); // 20 ms per token
    cfg["providers"]["smart"] = {{"route", {{"targets", {"slow"}}}}};
    opts.config_path = env.home.write("llmhost.json", cfg.dump(2));
    auto host = Host::open(opts);

    // A streaming request on the old route while it is swapped for another.
    std::atomic<bool> started{false};
    llmhost::GenerateResult inflight;
    std::thread t([&] {
        llmhost::GenerateRequest req;
        req.prompt = "one two three four five";
        inflight = host->generate("smart", req, [&](std::string_view, uint32_t) {
            started = true;
            return true;
        });
    });
    while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    host->swap("smart", {{"route", {{"targets", {"cloud"}}}}});
    llmhost::GenerateRequest req;
    req.prompt = "after";
    CHECK(host->generate("smart", req).served_by == "cloud");
    t.join();
    CHECK(inflight.served_by == "slow");
    CHECK(inflight.text.find("five") != std::string::npos);

    // A swap naming an unknown target fails and the route in place keeps serving.
    CHECK_THROWS_WITH_AS(host->swap("smart", {{"route", {{"targets", {"nowhere"}}}}}),
                         doctest::Contains("not a configured provider"), llmhost::HostError);
    CHECK(host->generate("smart", req).served_by == "cloud");
    // A provider may become a route and back.
    host->swap("cloud", {{"route", {{"targets", {"local"}}}}});
    CHECK(host->generate("cloud", req).served_by == "local");
    host->swap("cloud", echo("C2:"));
    CHECK(host->generate("cloud", req).text.rfind("C2:", 0) == 0);

    // Reload: the file's route changes, and the new one is used.
    cfg["providers"]["smart"] = {{"route", {{"strategy", "round_robin"}, {"targets", {"local"}}}}};
    env.home.write("llmhost.json", cfg.dump(2));
    host->reload();
    CHECK(host->generate("smart", req).served_by == "local");
    // A reload that breaks a route changes nothing.
    cfg["providers"]["smart"] = {{"route", {{"targets", {"gone"}}}}};
    env.home.write("llmhost.json", cfg.dump(2));
    CHECK_THROWS_AS(host->reload(), llmhost::HostError);
    CHECK(host->generate("smart", req).served_by == "local");
}

TEST_CASE("routes/host: list_models on a route, and the C API's served_by") {
    CleanEnvironment env;
    json cfg = base_config();
    cfg["providers"]["pinned"] = {
        {"route", {{"targets", {{{"provider", "local"}, {"model", "tiny"}}, "cloud"}}}}};
    const std::string path = env.home.write("llmhost.json", cfg.dump(2));
    auto opts = test_options();
    opts.config_path = path;
    auto host = Host::open(opts);
    auto models = host->list_models("pinned");
    REQUIRE(!models.empty());
    CHECK(models[0].id == "tiny");

    llmhost_open_params p = llmhost_open_default_params();
    p.config_path = path.c_str();
    const char *dirs[] = {LLMHOST_TEST_PLUGIN_DIR};
    p.plugin_dirs = dirs;
    p.n_plugin_dirs = 1;
    p.search_default_plugin_dirs = 0;
    llmhost_host *h = llmhost_open_ext(&p);
    REQUIRE(h != nullptr);
    llmh_request req;
    llmh_params params;
    llmhost_request_init(&req, &params);
    req.prompt = "hi";
    char *text = nullptr;
    REQUIRE(llmhost_generate(h, "pinned", &req, nullptr, &text) == LLMH_OK);
    CHECK(std::string(llmhost_last_served_by()) == "local/tiny");
    llmhost_free(text);
    REQUIRE(llmhost_generate(h, "cloud", &req, nullptr, nullptr) == LLMH_OK);
    CHECK(std::string(llmhost_last_served_by()) == "cloud");
    CHECK(llmhost_generate(h, "nowhere", &req, nullptr, nullptr) != LLMH_OK);
    CHECK(std::string(llmhost_last_served_by()).empty());
    llmhost_close(h);
}
