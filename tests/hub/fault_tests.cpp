// Injected faults: dropped and truncated bodies resume with Range; 5xx and 429 are retried (429
// waits for Retry-After); a wrong sha publishes nothing; a full disk names the directory; cancel.
#include "hashing.hpp"

#include <doctest/doctest.h>

#include "mirror_fixture.hpp"

#include <atomic>
#include <cstring>
#include <sys/mount.h>

using namespace llmhost;
using hubtest::Mirror;
namespace fs = std::filesystem;

namespace {
bool has_partial_or_blob(const fs::path &blobs, const std::string &etag) {
    for (auto &e : fs::directory_iterator(blobs))
        if (e.path().filename().string().rfind(etag, 0) == 0) return true;
    return false;
}
} // namespace

TEST_CASE("a dropped connection resumes with Range from the bytes already written") {
    Mirror m;
    m.server->faults().drop_after_bytes("*model.safetensors", 3 * 1024 * 1024, 1);
    hub::Client client(m.options());
    fs::path snap = client.snapshot_download("org/big-model");
    CHECK(hubtest::read_file(snap / "model.safetensors") == m.big);
    auto gets = m.requests_for("/_lfs/", "GET");
    REQUIRE(gets.size() == 2);
    CHECK(gets[0].dropped);
    CHECK(gets[0].body_bytes == 3 * 1024 * 1024);
    CHECK(gets[1].status == 206);
    CHECK(gets[1].body_bytes == m.big.size() - 3 * 1024 * 1024); // only the rest was sent
}

TEST_CASE("a truncated body (short Content-Length) is detected and completed") {
    Mirror m;
    m.server->faults().truncate_body("*model.safetensors", 1000000, 1);
    hub::Client client(m.options());
    fs::path snap = client.snapshot_download("org/big-model");
    CHECK(hubtest::read_file(snap / "model.safetensors") == m.big);
    auto gets = m.requests_for("/_lfs/", "GET");
    REQUIRE(gets.size() == 2);
    CHECK(gets[1].status == 206);
}

TEST_CASE("5xx bursts are retried with backoff") {
    Mirror m;
    m.server->faults().error_burst("*config.json", 2, 503);
    m.server->faults().error_burst("/api/models/org/big-model*", 1, 502);
    hub::Client client(m.options());
    fs::path snap = client.snapshot_download("org/big-model");
    CHECK(hubtest::read_file(snap / "config.json") == m.config);
    std::size_t failures = 0;
    for (auto &r : m.requests()) failures += r.status >= 500;
    CHECK(failures == 3);
}

TEST_CASE("429 waits for Retry-After - when retries run out the error says how long") {
    Mirror m;
    m.server->faults().rate_limit("*config.json", 1, 1);
    hub::Client client(m.options());
    auto t0 = std::chrono::steady_clock::now();
    client.hf_hub_download("org/big-model", "config.json");
    auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(waited >= std::chrono::milliseconds(1000)); // not the 20 ms backoff: the server's wait

    m.server->faults().rate_limit("/api/models/org/public-model*", 10, 1);
    auto o = m.options();
    o.retry.max_retries = 1;
    hub::Client impatient(o);
    auto e = hubtest::expect_error([&] { impatient.snapshot_download("org/public-model"); });
    CHECK(e.code() == LLMH_ERR_RATE_LIMITED);
    CHECK(e.retry_after_s() == 1);
    CHECK(std::string(e.what()).find("retry after 1 s") != std::string::npos);
    CHECK(e.hint().find("token") != std::string::npos);
}

TEST_CASE("a wrong sha256 is detected while streaming - nothing is published") {
    Mirror m;
    m.server->faults().wrong_sha("*model.safetensors");
    hub::Client client(m.options());
    auto e = hubtest::expect_error([&] { client.snapshot_download("org/big-model"); });
    CHECK(e.code() == LLMH_ERR_NETWORK);
    CHECK(std::string(e.what()).find("checksum mismatch") != std::string::npos);
    const std::string sha = hub::detail::sha256_hex(m.big);
    fs::path repo = m.cache.path / "models--org--big-model";
    CHECK_FALSE(has_partial_or_blob(repo / "blobs", sha)); // neither the blob nor its .incomplete
    for (auto &snap : fs::directory_iterator(repo / "snapshots"))
        CHECK_FALSE(fs::exists(fs::symlink_status(snap.path() / "model.safetensors")));
    // Fixed server: the same cache downloads cleanly.
    m.server->faults().clear();
    CHECK(hubtest::read_file(client.snapshot_download("org/big-model") / "model.safetensors") == m.big);
}

TEST_CASE("disk full: the error names the directory and nothing half-written is published") {
    Mirror m;
    hubtest::TempDir small("hubtest-small");
    if (::mount("tmpfs", small.path.c_str(), "tmpfs", 0, "size=2m") != 0) {
        MESSAGE("skipped: cannot mount a small tmpfs here (needs root): " << std::strerror(errno));
        return;
    }
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{small.path};
    auto o = m.options();
    o.cache_dir = small.path / "hub";
    hub::Client client(o);
    auto e = hubtest::expect_error([&] { client.snapshot_download("org/big-model"); }); // 8 MB into 2 MB
    CHECK(e.code() == LLMH_ERR_OUT_OF_MEMORY);
    CHECK(std::string(e.what()).find("disk full") != std::string::npos);
    CHECK(std::string(e.what()).find((small.path / "hub" / "models--org--big-model" / "blobs").string()) != std::string::npos);
    CHECK(e.hint().find("free space") != std::string::npos);
    fs::path repo = small.path / "hub" / "models--org--big-model";
    CHECK_FALSE(has_partial_or_blob(repo / "blobs", hub::detail::sha256_hex(m.big)));
    for (auto &snap : fs::directory_iterator(repo / "snapshots"))
        CHECK_FALSE(fs::exists(fs::symlink_status(snap.path() / "model.safetensors")));
}

TEST_CASE("cancel stops a download promptly - the partial file is kept for resume") {
    Mirror m;
    m.server->faults().slow_body("*model.safetensors", 256 * 1024);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> done{0};
    hub::Client client(m.options(), {}, [&](const hub::Progress &p) { done = p.bytes_done; if (p.bytes_done > 300000) stop = true; },
                       [&] { return stop.load(); });
    auto t0 = std::chrono::steady_clock::now();
    auto e = hubtest::expect_error([&] { client.snapshot_download("org/big-model"); });
    CHECK(e.code() == LLMH_ERR_CANCELLED);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    fs::path partial = m.cache.path / "models--org--big-model/blobs" / (hub::detail::sha256_hex(m.big) + ".incomplete");
    REQUIRE(fs::exists(partial));
    auto kept = fs::file_size(partial);
    m.server->faults().clear();
    hub::Client again(m.options());
    CHECK(hubtest::read_file(again.snapshot_download("org/big-model") / "model.safetensors") == m.big);
    // The resumed request asked only for the rest (the cancelled one may be logged after it).
    bool resumed = false;
    for (auto &g : m.requests_for("/_lfs/", "GET"))
        resumed |= g.status == 206 && g.body_bytes == m.big.size() - kept;
    CHECK(resumed);
}
