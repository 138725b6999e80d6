// Issue 10, items 1, 2 and 9: a hostile Hub must not steer any path outside the
// cache or the local dir (commit header, ETag, file names, revision), nor skip
// the checksum.
#include "hostile_fixture.hpp"

#include "validate.hpp"

#include <doctest/doctest.h>

using namespace llmhost;
using hubtest::Hostile;
namespace fs = std::filesystem;

namespace {
// The error a download throws, with the file system checked for escapes
// afterwards.
template <class F> llmh::Error refused(Hostile &, F &&f) {
    auto e = hubtest::expect_error(std::forward<F>(f));
    CHECK(std::string(e.what()).size() < 600); // never megabytes of server garbage
    return e;
}
bool contains(const llmh::Error &e, const std::string &s) { return std::string(e.what()).find(s) != std::string::npos; }
} // namespace

TEST_CASE("hostile: an X-Repo-Commit of ../../../victim_dir is refused and the victim is untouched") {
    Hostile h;
    hubtest::write_file(h.root.path / "victim_dir/config.json", "precious");
    h.hub.commit_header = "../../../victim_dir";
    h.start();
    auto c = h.client(h.options());
    auto e = refused(h, [&] { c->hf_hub_download(h.hub.repo, "config.json"); });
    CHECK(e.code() == LLMH_ERR_NETWORK);
    CHECK(contains(e, "X-Repo-Commit"));
    CHECK(contains(e, "'../../../victim_dir'"));
    CHECK_FALSE(fs::is_symlink(h.root.path / "victim_dir/config.json"));
    CHECK(hubtest::read_file(h.root.path / "victim_dir/config.json") == "precious");
    CHECK(h.outside_cache() == std::set<std::string>{"victim_dir", "victim_dir/config.json"});

    // The same through snapshot_download (the API's sha is fine, the HEAD's
    // header is not), and a huge header is quoted short.
    h.hub.commit_header = std::string(20000, 'A');
    auto e2 = refused(h, [&] { c->snapshot_download(h.hub.repo); });
    CHECK(contains(e2, "(20000 bytes)"));
    CHECK(h.outside_cache() == std::set<std::string>{"victim_dir", "victim_dir/config.json"});
}

TEST_CASE("hostile: a commit sha that is not 40 lower-case hex is refused from the API too") {
    Hostile h;
    h.hub.commit = "../../../victim_dir";
    h.start();
    auto c = h.client(h.options());
    auto e = refused(h, [&] { c->snapshot_download(h.hub.repo); });
    CHECK(contains(e, "'sha'"));
    CHECK(h.outside_cache().empty());
    CHECK(Hostile::tree(h.cache() / "models--org--evil/snapshots").empty());
}

TEST_CASE("hostile: ETags that are paths (relative, absolute, /etc/hostname) are refused") {
    Hostile h;
    h.start();
    const std::string abs = (h.root.path / "abs-target").string();
    for (const std::string &etag : std::vector<std::string>{"../../../escaped", abs, std::string("/etc/hostname"), std::string("W/\"../../x\"")}) {
        CAPTURE(etag);
        h.hub.files[0].etag = etag;
        auto c = h.client(h.options());
        auto e = refused(h, [&] { c->hf_hub_download(h.hub.repo, "config.json"); });
        CHECK(e.code() == LLMH_ERR_NETWORK);
        CHECK(contains(e, "ETag"));
        CHECK(h.outside_cache().empty());
        CHECK(Hostile::tree(h.cache() / "models--org--evil/snapshots").empty());
    }
    // With --local-dir the ETag named the .incomplete file: nothing outside the
    // local dir either.
    h.hub.files[0].etag = "../../../../../../escaped";
    auto c = h.client(h.options());
    hub::SnapshotOptions so;
    so.local_dir = h.root.path / "local";
    auto e = refused(h, [&] { c->snapshot_download(h.hub.repo, so); });
    CHECK(contains(e, "ETag"));
    for (auto &p : h.outside_cache()) CHECK(p.rfind("local", 0) == 0);
    CHECK_FALSE(fs::exists(h.root.path / "local/config.json"));
}

TEST_CASE("hostile: non-hex or short ETags are refused instead of skipping the checksum") {
    Hostile h;
    h.start();
    for (const std::string &etag : std::vector<std::string>{std::string("abc123"), std::string(40, 'z'), std::string(63, 'a'), std::string("")}) {
        CAPTURE(etag);
        h.hub.files[0].etag = etag.empty() ? "\"\"" : etag;
        auto c = h.client(h.options());
        auto e = refused(h, [&] { c->hf_hub_download(h.hub.repo, "config.json"); });
        CHECK(e.code() == LLMH_ERR_NETWORK);
        CHECK(Hostile::tree(h.cache() / "models--org--evil/blobs").empty());
    }
}

TEST_CASE("hostile: an upper-case ETag names the blob as huggingface_hub does and is still verified") {
    Hostile h;
    const std::string good = h.hub.files[1].content;
    const std::string etag = hubtest::upper(hubtest::sha256_of(good));
    h.hub.files[1].etag = "W/\"" + etag + "\""; // weak and quoted: stripped like _normalize_etag
    h.start();
    auto c = h.client(h.options());
    fs::path p = c->hf_hub_download(h.hub.repo, "model.safetensors");
    CHECK(hubtest::read_file(p) == good);
    CHECK(fs::read_symlink(p).filename() == etag); // huggingface_hub keeps the case: one shared blob

    // The same upper-case ETag with a body that does not match it: refused,
    // nothing published.
    hubtest::TempDir other("hubtest-hostile2");
    h.hub.files[1].content[5] ^= 1;
    auto o = h.options();
    o.cache_dir = other.path;
    auto c2 = h.client(o);
    auto e = refused(h, [&] { c2->hf_hub_download(h.hub.repo, "model.safetensors"); });
    CHECK(contains(e, "checksum mismatch"));
    CHECK(Hostile::tree(other.path / "models--org--evil/blobs").empty());
    CHECK(Hostile::tree(other.path / "models--org--evil/snapshots").empty());
}

TEST_CASE("hostile: a lying body (wrong hash, too long) is refused and not published") {
    Hostile h;
    h.hub.files[1].etag = hubtest::sha256_of(h.hub.files[1].content);
    h.hub.files[1].content[100] ^= 1; // same length, other bytes
    h.hub.files[0].etag = hubtest::git_sha1_of(h.hub.files[0].content);
    h.start();
    auto c = h.client(h.options());
    auto e = refused(h, [&] { c->hf_hub_download(h.hub.repo, "model.safetensors"); });
    CHECK(contains(e, "checksum mismatch"));
    CHECK(Hostile::tree(h.cache() / "models--org--evil/blobs").empty());

    // More bytes than the HEAD announced.
    h.hub.on = [&](const hubtest::HttpRequest &req, hubtest::Conn &conn) {
        if (req.method != "GET" || req.target.find("/resolve/") == std::string::npos) return false;
        conn.reply(req, 200, {}, h.hub.files[0].content + "and more");
        return true;
    };
    auto e2 = refused(h, [&] { c->hf_hub_download(h.hub.repo, "config.json"); });
    CHECK(contains(e2, "more than the announced"));
    CHECK(Hostile::tree(h.cache() / "models--org--evil/snapshots").empty());
}

TEST_CASE("hostile: file names that escape the snapshot or the local dir are refused") {
    for (const std::string &bad : std::vector<std::string>
         {"../escape.txt", "/abs.txt", "a\\..\\..\\b", "a//b", "./a", "a/../../b", "C:x", std::string("a\0b", 3)}) {
        CAPTURE(bad);
        Hostile h;
        h.hub.files.push_back({bad, "pwned"});
        h.start();
        auto c = h.client(h.options());
        hub::SnapshotOptions so;
        so.local_dir = h.root.path / "local";
        auto e = refused(h, [&] { c->snapshot_download(h.hub.repo, so); });
        CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(h.outside_cache().empty()); // not even the local dir: the listing is checked first
        auto e2 = refused(h, [&] { c->snapshot_download(h.hub.repo); });
        CHECK(Hostile::tree(h.cache() / "models--org--evil/snapshots").empty());
    }
}

TEST_CASE("hostile: a bad --revision is refused before any request or file") {
    Hostile h;
    auto &server = h.start();
    auto c = h.client(h.options());
    for (const std::string &rev : std::vector<std::string>{"../../x", "/abs", "-x", "a//b", "a\\b", "a..b", "a.lock", "a/", "a b", "a~1", "a^", "a:b",
                            "a?", "a*", "a[", std::string("a\nb"), ".hidden"}) {
        CAPTURE(rev);
        auto e = refused(h, [&] { c->hf_hub_download(h.hub.repo, "config.json", rev); });
        CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT);
        CHECK(contains(e, "revision"));
        hub::SnapshotOptions so;
        so.revision = rev;
        CHECK(hubtest::expect_error([&] { c->snapshot_download(h.hub.repo, so); }).code() == LLMH_ERR_INVALID_ARGUMENT);
    }
    CHECK(server.total() == 0);
    CHECK(h.outside_cache().empty());
    CHECK_FALSE(fs::exists(h.cache()));

    // Branch names the Hub uses are fine, and a '/' is percent-encoded as
    // huggingface_hub does.
    fs::path p = c->hf_hub_download(h.hub.repo, "config.json", "refs/pr/1");
    CHECK(hubtest::read_file(p) == h.hub.files[0].content);
    CHECK(server.count("/resolve/refs%2Fpr%2F1/config.json", "HEAD") == 1);
    CHECK(hubtest::read_file(h.cache() / "models--org--evil/refs/refs/pr/1") == h.hub.commit);
}

TEST_CASE("validate_revision, blob names and excerpts") {
    using namespace llmhost::hub::detail;
    for (const std::string &ok : std::vector<std::string>{"main", "v1.0", "refs/pr/1", "release/2024-01", std::string(40, 'a')})
        CHECK_NOTHROW(validate_revision(ok));
    CHECK_THROWS(validate_revision(""));
    CHECK_THROWS(validate_revision(std::string(300, 'a')));
    CHECK(is_blob_name(std::string(40, 'a')));
    CHECK(is_blob_name(std::string(64, 'F')));
    CHECK_FALSE(is_blob_name(std::string(63, 'a')));
    CHECK_FALSE(is_blob_name("../" + std::string(37, 'a')));
    CHECK(excerpt("ab\ncd") == "'ab?cd'");
    CHECK(excerpt(std::string(100, 'x'), 4) == "'xxxx...' (100 bytes)");
}
