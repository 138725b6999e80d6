// Fault injection really happens on the wire; an HF cache is served as a mirror; concurrent
// downloads; the request log never carries a token value.
#include <doctest/doctest.h>

#include "fixture.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <thread>

using namespace mirror_test;
using json = nlohmann::json;

namespace {
const char *kConfig = "/org/tiny/resolve/main/config.json";
std::string lfs_location(const Mirror &m) { return head(m.ep + "/org/tiny/resolve/main/model.safetensors").header("location"); }
} // namespace

TEST_CASE("drop after N bytes closes the connection mid-body / once / the next request completes") {
    Mirror m;
    std::string location = lfs_location(m);
    m.server->faults().drop_after_bytes("*model.safetensors", 4096);
    Reply dropped = get(location);
    CHECK(dropped.status == 200);
    CHECK(dropped.header("content-length") == "300000");
    CHECK(dropped.body.size() == 4096);
    CHECK(dropped.curl_code != 0);  // the transfer ended early (CURLE_PARTIAL_FILE)
    auto records = m.server->requests();
    REQUIRE(!records.empty());
    CHECK(records.back().dropped);
    CHECK(records.back().body_bytes == 4096);
    // Resume with Range from where it stopped: the rest arrives and the whole file is intact.
    Reply rest = get(location, {"Range: bytes=4096-"});
    CHECK(rest.status == 206);
    CHECK(rest.curl_code == 0);
    CHECK(sha256_hex(dropped.body + rest.body) == sha256_hex(read_file(m.dir.path / "repos/org/tiny/model.safetensors")));
}

TEST_CASE("truncate: a complete-looking response whose Content-Length is short") {
    Mirror m;
    m.server->faults().truncate_body("*config.json", 5);
    Reply r = get(m.ep + kConfig);
    CHECK(r.status == 200);
    CHECK(r.curl_code == 0);
    CHECK(r.header("content-length") == "5");
    CHECK(r.body.size() == 5);
    CHECK(get(m.ep + kConfig).body.size() > 5);  // one time only
}

TEST_CASE("a burst of K 5xx ends after K responses") {
    Mirror m;
    m.server->faults().error_burst("*config.json", 3, 502);
    for (int i = 0; i < 3; ++i) CHECK(head(m.ep + kConfig).status == 502);
    CHECK(head(m.ep + kConfig).status == 200);
    CHECK(head(m.ep + "/org/tiny/resolve/main/README.md").status == 200);  // the glob limits it
}

TEST_CASE("429 responses carry Retry-After / then the server answers normally") {
    Mirror m;
    m.server->faults().rate_limit("*", 2, 7);
    Reply first = get(m.ep + "/api/models/org/tiny");
    CHECK(first.status == 429);
    CHECK(first.header("retry-after") == "7");
    CHECK(get(m.ep + kConfig).status == 429);
    CHECK(get(m.ep + kConfig).status == 200);
}

TEST_CASE("wrong sha: same size / the advertised sha256 no longer matches the content") {
    Mirror m;
    std::string location = lfs_location(m);
    std::string etag = head(m.ep + "/org/tiny/resolve/main/model.safetensors").header("x-linked-etag");
    m.server->faults().wrong_sha("*model.safetensors");
    Reply r = get(location);
    CHECK(r.status == 200);
    CHECK(r.body.size() == 300000);
    CHECK("\"" + sha256_hex(r.body) + "\"" != etag);
    CHECK(head(m.ep + "/org/tiny/resolve/main/model.safetensors").header("x-linked-etag") == etag);
    m.server->faults().clear();
    CHECK("\"" + sha256_hex(get(location).body) + "\"" == etag);
}

TEST_CASE("slow body: throttled to about the given rate") {
    Mirror m;
    m.server->faults().slow_body("*model.safetensors", 200000);  // 300000 bytes at 200 kB/s: ~1.5 s
    auto start = std::chrono::steady_clock::now();
    Reply r = get(lfs_location(m));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(r.body.size() == 300000);
    CHECK(seconds > 1.2);
    CHECK(seconds < 10);
}

TEST_CASE("an huggingface_hub cache is served: blob names as etags / snapshot as commit / refs as revisions") {
    std::string config, weights, commit;
    Mirror m({}, [&](const fs::path &root) { commit = make_hf_cache(root, config, weights); });
    Reply r = head(m.ep + "/org/cached/resolve/main/config.json");
    CHECK(r.status == 200);
    CHECK(r.header("x-repo-commit") == commit);
    CHECK(r.header("etag") == "\"" + git_blob_sha1(config) + "\"");
    CHECK(get(m.ep + "/org/cached/resolve/v1/config.json").body == config);
    CHECK(get(m.ep + "/org/cached/resolve/" + commit + "/config.json").body == config);
    Reply lfs = head(m.ep + "/org/cached/resolve/main/weights.safetensors");
    CHECK(lfs.status == 302);
    CHECK(lfs.header("x-linked-etag") == "\"" + sha256_hex(weights) + "\"");
    CHECK(lfs.header("x-linked-size") == std::to_string(weights.size()));
    CHECK(get(lfs.header("location")).body == weights);
    json info = json::parse(get(m.ep + "/api/models/org/cached/revision/main").body);
    CHECK(info["sha"] == commit);
    CHECK(info["siblings"].size() == 2);
    CHECK(head(m.ep + "/org/tiny/resolve/main/config.json").status == 200);  // plain repos beside it
}

TEST_CASE("concurrent downloads on separate connections are all complete and correct") {
    Mirror m;
    std::string location = lfs_location(m);
    std::string expected = sha256_hex(read_file(m.dir.path / "repos/org/tiny/model.safetensors"));
    std::vector<std::thread> threads;
    std::mutex mutex;
    int good = 0;
    for (int i = 0; i < 16; ++i)
        threads.emplace_back([&, i] {
            Reply r = i % 2 ? get(location) : get(m.ep + kConfig);
            bool ok = r.status == 200 && r.curl_code == 0 && (i % 2 == 0 || sha256_hex(r.body) == expected);
            std::lock_guard lock(mutex);
            good += ok;
        });
    for (auto &t : threads) t.join();
    CHECK(good == 16);
}

TEST_CASE("the request log and records name tokens / never their values") {
    std::vector<std::string> lines;
    std::mutex mutex;
    llmhost::mirror::ServerOptions options;
    options.on_request = [&](const llmhost::mirror::RequestRecord &r) {
        std::lock_guard lock(mutex);
        lines.push_back(llmhost::mirror::format_request_log_line(r));
    };
    Mirror m(options);
    get(m.ep + "/org/private/resolve/main/config.json", {auth(kAliceToken)});
    get(m.ep + "/api/whoami-v2", {auth(kBobToken)});
    get(m.ep + "/org/gated/resolve/main/config.json", {auth(kCarolToken)});
    get(m.ep + "/api/whoami-v2", {auth("hf_invalid_value_42")});
    std::lock_guard lock(mutex);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].find("[token alice]") != std::string::npos);
    CHECK(lines[0].find(" 200 ") != std::string::npos);
    for (const std::string &line : lines) {
        for (const std::string &secret : {kAliceToken, kBobToken, kCarolToken, std::string("hf_invalid_value_42")})
            CHECK(line.find(secret) == std::string::npos);
    }
    auto records = m.server->requests();
    REQUIRE(records.size() == 4);
    CHECK(records[1].token_name == "bob");
    CHECK(records[2].status == 403);
    CHECK(records[3].had_authorization);
    CHECK(records[3].token_name.empty());
    m.server->clear_requests();
    CHECK(m.server->requests().empty());
}
