// A hostile Hub (hostile_server.hpp) in a temporary root: root/cache is the hub
// cache, anything else a test puts in root (a victim file) must come out
// unchanged. Clients get short windows and a watchdog that cancels after a few
// seconds, so a regression fails fast instead of hanging.
#pragma once

#include "hostile_server.hpp"
#include "mirror_fixture.hpp"

#include <llmhost/hub/client.hpp>

#include <set>

namespace hubtest {

struct Hostile {
    TempDir root{"hubtest-hostile"};
    FakeHub hub;
    std::unique_ptr<HostileServer> server;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    Hostile() {
        hub.files = {{"config.json", "{\"hidden_size\": 64}\n"}, {"model.safetensors", random_bytes(100000, 11)}};
    }
    fs::path cache() const { return root.path / "cache"; }
    HostileServer &start() {
        server = std::make_unique<HostileServer>(hub.handler());
        return *server;
    }

    llmhost::hub::ClientOptions options() const {
        llmhost::hub::ClientOptions o;
        o.endpoint = server->endpoint();
        o.cache_dir = cache();
        o.retry.initial_delay = std::chrono::milliseconds(20);
        o.retry.max_delay = std::chrono::milliseconds(50);
        o.retry.max_retry_after = std::chrono::milliseconds(3000);
        o.etag_timeout = std::chrono::milliseconds(3000);
        o.download_timeout = std::chrono::milliseconds(1000);
        o.max_parallel = 2;
        return o;
    }

    // A client whose downloads are cancelled `limit` after it is made.
    std::unique_ptr<llmhost::hub::Client> client(llmhost::hub::ClientOptions o,
                                                 std::chrono::milliseconds limit = std::chrono::milliseconds(8000)) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        started = std::chrono::steady_clock::now();
        return std::make_unique<llmhost::hub::Client>(
            std::move(o), llmhost::hub::Logger{}, llmhost::hub::ProgressFn{},
            [deadline] { return std::chrono::steady_clock::now() > deadline; });
    }
    double elapsed_s() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }

    // Names directly in root, and every path below root that is not inside the
    // cache.
    std::set<std::string> outside_cache() const {
        std::set<std::string> out;
        for (auto it = fs::recursive_directory_iterator(root.path); it != fs::recursive_directory_iterator(); ++it) {
            auto rel = fs::relative(it->path(), root.path).string();
            if (rel == "cache" || rel.rfind("cache/", 0) == 0) {
                if (rel == "cache") it.disable_recursion_pending();
                continue;
            }
            out.insert(rel);
        }
        return out;
    }
    // Every path under `dir`, recursively (symlinks not followed).
    static std::set<std::string> tree(const fs::path &dir) {
        std::set<std::string> out;
        std::error_code ec;
        if (!fs::exists(dir, ec)) return out;
        for (auto &e : fs::recursive_directory_iterator(dir)) out.insert(fs::relative(e.path(), dir).string());
        return out;
    }
};

} // namespace hubtest
