// snapshot_download / hf_hub_download against the mirror: the exact cache tree, patterns,
// offline mode, local_dir mode, progress, 404s, cache scan and delete.
#include "hashing.hpp"

#include <doctest/doctest.h>

#include "mirror_fixture.hpp"

#include <set>

using namespace llmhost;
using hubtest::Mirror;
using hubtest::read_file;
namespace fs = std::filesystem;

namespace {
std::string git_sha1(const std::string &content) {
    hub::detail::ContentHasher h(hub::detail::ContentHasher::Kind::git_sha1, content.size());
    h.update(content);
    return h.hex_digest();
}

std::set<std::string> tree_of(const fs::path &dir) {
    std::set<std::string> out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
        std::string rel = it->path().lexically_relative(dir).generic_string();
        if (it->is_symlink()) out.insert(rel + " -> " + fs::read_symlink(it->path()).generic_string());
        else if (it->is_directory()) out.insert(rel + "/");
        else out.insert(rel);
    }
    return out;
}
} // namespace

TEST_CASE("snapshot_download writes huggingface_hub's exact cache tree") {
    Mirror m;
    hub::Client client(m.options());
    fs::path snap = client.snapshot_download("org/public-model");
    const std::string commit = snap.filename().string();
    REQUIRE(commit.size() == 40);
    fs::path repo = m.cache.path / "models--org--public-model";
    CHECK(snap == repo / "snapshots" / commit);

    const std::string sha_w = hub::detail::sha256_hex(m.weights);
    const std::string e_cfg = git_sha1(m.config), e_tok = git_sha1(m.tokenizer), e_notes = git_sha1(m.notes);
    std::set<std::string> expected = {
        "blobs/",
        "blobs/" + e_cfg,
        "blobs/" + e_tok,
        "blobs/" + e_notes,
        "blobs/" + sha_w,
        "refs/",
        "refs/main",
        "snapshots/",
        "snapshots/" + commit + "/",
        "snapshots/" + commit + "/config.json -> ../../blobs/" + e_cfg,
        "snapshots/" + commit + "/tokenizer.json -> ../../blobs/" + e_tok,
        "snapshots/" + commit + "/model.safetensors -> ../../blobs/" + sha_w,
        "snapshots/" + commit + "/sub/",
        "snapshots/" + commit + "/sub/dir/",
        "snapshots/" + commit + "/sub/dir/notes.txt -> ../../../../blobs/" + e_notes,
        "trees/",
        "trees/" + commit + ".json", // the file list, as huggingface_hub >= 1.29 writes it
    };
    auto actual = tree_of(repo);
    for (const auto &e : actual)
        if (!expected.count(e)) FAIL_CHECK("unexpected in cache: " << e);
    for (const auto &e : expected)
        if (!actual.count(e)) FAIL_CHECK("missing from cache: " << e);
    CHECK(read_file(repo / "refs/main") == commit); // 40 hex, no newline
    CHECK(read_file(snap / "model.safetensors") == m.weights);
    CHECK(read_file(snap / "sub/dir/notes.txt") == m.notes);
    CHECK(fs::exists(m.cache.path / ".locks/models--org--public-model" / (sha_w + ".lock")));
    CHECK(fs::exists(m.cache.path / "CACHEDIR.TAG"));
    auto perms = fs::status(repo / "blobs" / sha_w).permissions();
    CHECK((perms & fs::perms::owner_write) != fs::perms::none);

    // The same commit again: no metadata or content request at all.
    m.settle_and_clear();
    CHECK(client.snapshot_download("org/public-model", {.revision = commit}) == snap);
    CHECK(m.requests_for("/resolve/").empty());
    CHECK(m.requests_for("/_lfs/").empty());
    // Tree listing went through several pages (page_size 2) and a user-agent naming llmhost was sent.
}

TEST_CASE("allow and ignore patterns select files") {
    Mirror m;
    hub::Client client(m.options());
    fs::path snap = client.snapshot_download("org/public-model", {.allow_patterns = {"*.json", "sub/"},
                                                                   .ignore_patterns = {"tokenizer.*"}});
    CHECK(fs::exists(snap / "config.json"));
    CHECK(fs::exists(snap / "sub/dir/notes.txt"));
    CHECK_FALSE(fs::exists(snap / "tokenizer.json"));
    CHECK_FALSE(fs::exists(snap / "model.safetensors"));
    CHECK(m.requests_for("model.safetensors").empty());
}

TEST_CASE("offline mode resolves from the cache only, with a clear error for a missing file") {
    Mirror m;
    fs::path snap;
    {
        hub::Client online(m.options());
        snap = online.snapshot_download("org/public-model", {.allow_patterns = {"config.json"}});
    }
    m.settle_and_clear();
    auto o = m.options();
    o.offline = true;
    hub::Client offline(o);
    CHECK(offline.snapshot_download("org/public-model", {.allow_patterns = {"config.json"}}) == snap);
    // Without patterns the cached file list (trees/<commit>.json) shows the snapshot is incomplete:
    // like huggingface_hub, refuse rather than hand back half a model.
    auto inc = hubtest::expect_error([&] { offline.snapshot_download("org/public-model"); });
    CHECK(inc.code() == LLMH_ERR_NOT_FOUND);
    CHECK(offline.hf_hub_download("org/public-model", "config.json") == snap / "config.json");
    auto e = hubtest::expect_error([&] { offline.hf_hub_download("org/public-model", "tokenizer.json"); });
    CHECK(e.code() == LLMH_ERR_NOT_FOUND);
    CHECK(std::string(e.what()).find("offline") != std::string::npos);
    CHECK(std::string(e.what()).find("tokenizer.json") != std::string::npos);
    CHECK(e.hint().find("HF_HUB_OFFLINE") != std::string::npos);
    auto e2 = hubtest::expect_error([&] { offline.snapshot_download("org/big-model"); });
    CHECK(e2.code() == LLMH_ERR_NOT_FOUND);
    CHECK(m.requests().empty()); // not one request in offline mode
}

TEST_CASE("hf_hub_download: one file, refs, .no_exist on a missing file, 404s told apart") {
    Mirror m;
    hub::Client client(m.options(hubtest::kAlice));
    fs::path p = client.hf_hub_download("org/public-model", "sub/dir/notes.txt");
    CHECK(read_file(p) == m.notes);
    fs::path repo = m.cache.path / "models--org--public-model";
    std::string commit = read_file(repo / "refs/main");
    CHECK(p == repo / "snapshots" / commit / "sub/dir/notes.txt");

    auto missing = hubtest::expect_error([&] { client.hf_hub_download("org/public-model", "nope.bin"); });
    CHECK(missing.code() == LLMH_ERR_NOT_FOUND);
    CHECK(std::string(missing.what()).find("file 'nope.bin'") != std::string::npos);
    CHECK(fs::exists(repo / ".no_exist" / commit / "nope.bin"));
    CHECK(fs::file_size(repo / ".no_exist" / commit / "nope.bin") == 0);

    auto rev = hubtest::expect_error([&] { client.hf_hub_download("org/public-model", "config.json", "no-such-branch"); });
    CHECK(rev.code() == LLMH_ERR_NOT_FOUND);
    CHECK(std::string(rev.what()).find("revision 'no-such-branch'") != std::string::npos);
    auto rev2 = hubtest::expect_error([&] { client.snapshot_download("org/public-model", {.revision = "v9"}); });
    CHECK(std::string(rev2.what()).find("revision 'v9'") != std::string::npos);

    auto repo404 = hubtest::expect_error([&] { client.snapshot_download("org/does-not-exist"); });
    CHECK(repo404.code() == LLMH_ERR_NOT_FOUND);
    CHECK(std::string(repo404.what()).find("repository 'org/does-not-exist'") != std::string::npos);
}

TEST_CASE("local_dir mode writes files and huggingface_hub's metadata") {
    Mirror m;
    hubtest::TempDir out("hubtest-local");
    hub::Client client(m.options());
    fs::path dir = client.snapshot_download("org/public-model", {.local_dir = out.path / "model"});
    CHECK(dir == fs::canonical(out.path / "model"));
    CHECK(read_file(dir / "model.safetensors") == m.weights);
    CHECK(fs::is_regular_file(fs::symlink_status(dir / "config.json")));
    std::string meta = read_file(dir / ".cache/huggingface/download/model.safetensors.metadata");
    std::string commit = meta.substr(0, 40);
    CHECK(meta.substr(40, 1) == "\n");
    CHECK(meta.substr(41, 65) == hub::detail::sha256_hex(m.weights) + "\n");
    CHECK(read_file(dir / ".cache/huggingface/.gitignore") == "*\n");
    // Second run: up to date, no content request.
    m.settle_and_clear();
    client.snapshot_download("org/public-model", {.local_dir = out.path / "model"});
    CHECK(m.requests_for("/resolve/").empty());
}

TEST_CASE("progress reaches the total - cache ls and rm") {
    Mirror m;
    std::vector<hub::Progress> seen;
    hub::Client client(m.options(), {}, [&](const hub::Progress &p) { seen.push_back(p); });
    client.snapshot_download("org/big-model");
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back().bytes_done == seen.back().bytes_total);
    CHECK(seen.back().bytes_total == m.big.size() + m.config.size());
    CHECK(seen.back().files_done == 2);
    CHECK(seen.back().task == "download org/big-model");

    auto info = hub::scan_cache(m.cache.path);
    REQUIRE(info.repos.size() == 1);
    CHECK(info.repos[0].repo_id == "org/big-model");
    CHECK(info.repos[0].files == 2);
    CHECK(info.repos[0].size_on_disk >= m.big.size());
    REQUIRE(info.repos[0].revisions.size() == 1);
    CHECK(info.repos[0].revisions[0].refs == std::vector<std::string>{"main"});
    CHECK(info.repos[0].revisions[0].files == 2);
    auto freed = hub::delete_repo_from_cache(m.cache.path, "org/big-model");
    CHECK(freed >= m.big.size());
    CHECK_FALSE(fs::exists(m.cache.path / "models--org--big-model"));
    CHECK(hub::scan_cache(m.cache.path).repos.empty());
    CHECK(hubtest::expect_error([&] { hub::delete_repo_from_cache(m.cache.path, "org/big-model"); }).code() ==
          LLMH_ERR_NOT_FOUND);
    CHECK(hub::format_size(1234567) == "1.2 MB");
}
