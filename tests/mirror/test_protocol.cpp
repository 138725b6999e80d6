// The mirror answers the Hub protocol as hf-hub-protocol.md's checklist says: resolve HEAD/GET
// (regular and LFS), Range, repo info, tree paging, whoami, access rules and error headers.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "fixture.hpp"

#include <nlohmann/json.hpp>

#include <regex>
#include <set>

using namespace mirror_test;
using json = nlohmann::json;

namespace {
bool is_hex(const std::string &s, std::size_t n) { return std::regex_match(s, std::regex("[0-9a-f]{" + std::to_string(n) + "}")); }
std::string unquote(std::string s) { return s.size() >= 2 && s.front() == '"' ? s.substr(1, s.size() - 2) : s; }
} // namespace

TEST_CASE("HEAD on a regular file: ETag is the git blob sha1 / X-Repo-Commit / Content-Length / Accept-Ranges") {
    Mirror m;
    std::string content = read_file(m.dir.path / "repos/org/tiny/config.json");
    Reply r = head(m.ep + "/org/tiny/resolve/main/config.json");
    CHECK(r.status == 200);
    CHECK(unquote(r.header("etag")) == git_blob_sha1(content));
    CHECK(is_hex(r.header("x-repo-commit"), 40));
    CHECK(r.header("content-length") == std::to_string(content.size()));
    CHECK(r.header("accept-ranges") == "bytes");
    CHECK_FALSE(r.has("x-xet-hash"));
    Reply g = get(m.ep + "/org/tiny/resolve/main/config.json");
    CHECK(g.status == 200);
    CHECK(g.body == content);
    Reply nested = get(m.ep + "/org/tiny/resolve/main/sub/dir/notes.txt");
    CHECK(nested.body == "nested file\n");
}

TEST_CASE("HEAD on an LFS file: 302 with X-Linked-Etag (sha256) / X-Linked-Size / X-Repo-Commit / the blob URL serves it") {
    Mirror m;
    std::string content = read_file(m.dir.path / "repos/org/tiny/model.safetensors");
    Reply r = head(m.ep + "/org/tiny/resolve/main/model.safetensors");
    CHECK(r.status == 302);
    CHECK(unquote(r.header("x-linked-etag")) == sha256_hex(content));
    CHECK(r.header("x-linked-size") == std::to_string(content.size()));
    CHECK(is_hex(r.header("x-repo-commit"), 40));
    std::string location = r.header("location");
    REQUIRE(location.rfind(m.ep + "/_lfs/models/org/tiny/", 0) == 0);  // absolute, same host
    Reply blob = get(location);
    CHECK(blob.status == 200);
    CHECK(sha256_hex(blob.body) == sha256_hex(content));
    CHECK(unquote(blob.header("etag")) == sha256_hex(content));
    // A GET on /resolve/ redirects the same way.
    CHECK(get(m.ep + "/org/tiny/resolve/main/model.safetensors").status == 302);
    // A forged or missing signature is refused.
    std::string forged = location.substr(0, location.find("sig=") + 4) + std::string(32, '0');
    CHECK(get(forged).status == 403);
    CHECK(get(location.substr(0, location.find('?'))).status == 403);
}

TEST_CASE("lfs_redirect_host sends the LFS redirect to another host name of the same server") {
    llmhost::mirror::ServerOptions options;
    options.lfs_redirect_host = "localhost";
    Mirror m(options);
    Reply r = head(m.ep + "/org/private/resolve/main/config.json", {auth(kAliceToken)});
    CHECK(r.status == 200);  // a regular file: no redirect
    Reply lfs = head(m.ep + "/org/tiny/resolve/main/model.safetensors");
    std::string port = m.ep.substr(m.ep.rfind(':') + 1);
    CHECK(lfs.header("location").rfind("http://localhost:" + port + "/_lfs/", 0) == 0);
    // The signed URL needs no token (clients drop Authorization across hosts).
    Reply blob = get(lfs.header("location"));
    CHECK(blob.status == 200);
    CHECK(blob.body.size() == 300000);
    auto records = m.server->requests();
    REQUIRE(!records.empty());
    CHECK(records.back().target.rfind("/_lfs/", 0) == 0);
    CHECK_FALSE(records.back().had_authorization);
}

TEST_CASE("Range: bytes=N- and bytes=N-M give 206 with Content-Range / out of range gives 416") {
    Mirror m;
    std::string content = read_file(m.dir.path / "repos/org/tiny/config.json");
    std::string url = m.ep + "/org/tiny/resolve/main/config.json";
    Reply tail = get(url, {"Range: bytes=10-"});
    CHECK(tail.status == 206);
    CHECK(tail.body == content.substr(10));
    CHECK(tail.header("content-range") == "bytes 10-" + std::to_string(content.size() - 1) + "/" + std::to_string(content.size()));
    Reply mid = get(url, {"Range: bytes=2-5"});
    CHECK(mid.status == 206);
    CHECK(mid.body == content.substr(2, 4));
    CHECK(mid.header("content-length") == "4");
    Reply beyond = get(url, {"Range: bytes=" + std::to_string(content.size()) + "-"});
    CHECK(beyond.status == 416);
    CHECK(beyond.header("content-range") == "bytes */" + std::to_string(content.size()));
    // LFS blob URLs honour Range too (resume of a large download).
    std::string location = head(m.ep + "/org/tiny/resolve/main/model.safetensors").header("location");
    Reply blob = get(location, {"Range: bytes=299990-"});
    CHECK(blob.status == 206);
    CHECK(blob.body == read_file(m.dir.path / "repos/org/tiny/model.safetensors").substr(299990));
}

TEST_CASE("repo info and revision info: id / sha / siblings / unknown revision is RevisionNotFound") {
    Mirror m;
    std::string commit = head(m.ep + "/org/tiny/resolve/main/config.json").header("x-repo-commit");
    for (std::string url : {m.ep + "/api/models/org/tiny", m.ep + "/api/models/org/tiny/revision/main",
                            m.ep + "/api/models/org/tiny/revision/" + commit}) {
        Reply r = get(url);
        REQUIRE(r.status == 200);
        json info = json::parse(r.body);
        CHECK(info["id"] == "org/tiny");
        CHECK(info["sha"] == commit);
        CHECK(info["private"] == false);
        std::set<std::string> names;
        for (auto &s : info["siblings"]) names.insert(s["rfilename"].get<std::string>());
        CHECK(names == std::set<std::string>{"README.md", "config.json", "model.safetensors", "sub/dir/notes.txt"});
        for (auto &s : info["siblings"])
            if (s["rfilename"] == "model.safetensors") {
                CHECK(s["lfs"]["size"] == 300000);
                CHECK(s["lfs"]["sha256"].get<std::string>().size() == 64);
            }
    }
    Reply bad = get(m.ep + "/api/models/org/tiny/revision/nope");
    CHECK(bad.status == 404);
    CHECK(bad.header("x-error-code") == "RevisionNotFound");
    Reply bad_resolve = head(m.ep + "/org/tiny/resolve/nope/config.json");
    CHECK(bad_resolve.status == 404);
    CHECK(bad_resolve.header("x-error-code") == "RevisionNotFound");
    // An alias from .mirror.json "revisions" resolves to the same commit (gated repo: metadata is public).
    Reply gated_main = get(m.ep + "/api/models/org/gated/revision/main");
    Reply gated_alias = get(m.ep + "/api/models/org/gated/revision/v1.0");
    CHECK(gated_alias.status == 200);
    CHECK(json::parse(gated_alias.body)["sha"] == json::parse(gated_main.body)["sha"]);
    CHECK(json::parse(gated_main.body)["gated"] == "manual");
    // Datasets have their own routes.
    CHECK(get(m.ep + "/api/datasets/org/data").status == 200);
    CHECK(get(m.ep + "/datasets/org/data/resolve/main/train.csv").body == "a,b\n1,2\n");
    CHECK(get(m.ep + "/api/models/org/data").status == 401);  // not a model
}

TEST_CASE("the commit is stable across restarts and changes with the content") {
    TempDir dir;
    fs::path root = dir.path / "repos";
    make_plain_repos(root);
    auto commit_of = [&] {
        llmhost::mirror::Server server({.root = root});
        server.start();
        return json::parse(get(server.endpoint() + "/api/models/org/tiny").body)["sha"].get<std::string>();
    };
    std::string first = commit_of();
    CHECK(first == commit_of());
    write_file(root / "org/tiny/config.json", R"({"model_type": "llama", "hidden_size": 128})");
    CHECK(first != commit_of());
}

TEST_CASE("tree API: recursive listing paged with Link rel=next") {
    llmhost::mirror::ServerOptions options;
    options.page_size = 2;
    Mirror m(options);
    std::string url = m.ep + "/api/models/org/tiny/tree/main?recursive=true&expand=false";
    std::set<std::string> files, folders;
    int pages = 0;
    while (!url.empty() && pages < 20) {
        Reply r = get(url);
        REQUIRE(r.status == 200);
        json page = json::parse(r.body);
        CHECK(page.size() <= 2);
        for (auto &e : page) {
            CHECK(e.contains("oid"));
            (e["type"] == "file" ? files : folders).insert(e["path"].get<std::string>());
            if (e["path"] == "model.safetensors") CHECK(e["lfs"]["oid"].get<std::string>().size() == 64);
        }
        ++pages;
        std::smatch match;
        std::string link = r.header("link");
        url = std::regex_search(link, match, std::regex("<([^>]+)>; rel=\"next\"")) ? match[1].str() : "";
    }
    CHECK(pages == 3);  // 4 files + 2 folders
    CHECK(files == std::set<std::string>{"README.md", "config.json", "model.safetensors", "sub/dir/notes.txt"});
    CHECK(folders == std::set<std::string>{"sub", "sub/dir"});
    // Non-recursive listing of a folder.
    json sub = json::parse(get(m.ep + "/api/models/org/tiny/tree/main/sub/dir").body);
    REQUIRE(sub.size() == 1);
    CHECK(sub[0]["path"] == "sub/dir/notes.txt");
}

TEST_CASE("whoami-v2: 401 without a token or with an invalid one / user and role with a valid one") {
    Mirror m;
    CHECK(get(m.ep + "/api/whoami-v2").status == 401);
    Reply invalid = get(m.ep + "/api/whoami-v2", {auth("hf_not_a_real_token")});
    CHECK(invalid.status == 401);
    CHECK(invalid.header("x-error-message") == "Invalid credentials in Authorization header");
    Reply bob = get(m.ep + "/api/whoami-v2", {auth(kBobToken)});
    REQUIRE(bob.status == 200);
    json who = json::parse(bob.body);
    CHECK(who["name"] == "bobby");
    CHECK(who["type"] == "user");
    CHECK(who["auth"]["accessToken"]["role"] == "read");
    CHECK(bob.body.find(kBobToken) == std::string::npos);
    CHECK(json::parse(get(m.ep + "/api/whoami-v2", {auth(kCarolToken)}).body)["auth"]["accessToken"]["role"] == "write");
}

TEST_CASE("private repo: 401 RepoNotFound without a token / 404 for a token not listed / 200 for a listed one") {
    Mirror m;
    std::string url = m.ep + "/org/private/resolve/main/config.json";
    Reply anonymous = head(url);
    CHECK(anonymous.status == 401);
    CHECK(anonymous.header("x-error-code") == "RepoNotFound");
    Reply other = head(url, {auth(kBobToken)});
    CHECK(other.status == 404);
    CHECK(other.header("x-error-code") == "RepoNotFound");
    CHECK(head(url, {auth(kAliceToken)}).status == 200);
    Reply info = get(m.ep + "/api/models/org/private", {auth(kAliceToken)});
    CHECK(info.status == 200);
    CHECK(json::parse(info.body)["private"] == true);
    CHECK(get(m.ep + "/api/models/org/private").status == 401);
    // A repo that does not exist answers the same way (existence does not leak).
    CHECK(head(m.ep + "/org/nope/resolve/main/config.json").header("x-error-code") == "RepoNotFound");
    CHECK(head(m.ep + "/org/nope/resolve/main/config.json", {auth(kAliceToken)}).status == 404);
}

TEST_CASE("gated repo: 401 GatedRepo without a token / 403 GatedRepo for a token not granted / 200 granted") {
    Mirror m;
    std::string url = m.ep + "/org/gated/resolve/main/config.json";
    Reply anonymous = head(url);
    CHECK(anonymous.status == 401);
    CHECK(anonymous.header("x-error-code") == "GatedRepo");
    Reply alice = get(url, {auth(kAliceToken)});
    CHECK(alice.status == 403);
    CHECK(alice.header("x-error-code") == "GatedRepo");
    CHECK(alice.header("x-error-message").find("not in the authorized list") != std::string::npos);
    CHECK(json::parse(alice.body)["error"].get<std::string>().find("org/gated") != std::string::npos);
    CHECK(get(url, {auth(kBobToken)}).status == 200);
    CHECK(head(m.ep + "/org/gated/resolve/main/weights.bin", {auth(kBobToken)}).status == 302);
}

TEST_CASE("EntryNotFound is a 404 carrying X-Repo-Commit") {
    Mirror m;
    Reply r = head(m.ep + "/org/tiny/resolve/main/missing.txt");
    CHECK(r.status == 404);
    CHECK(r.header("x-error-code") == "EntryNotFound");
    CHECK(is_hex(r.header("x-repo-commit"), 40));
    CHECK(head(m.ep + "/org/tiny/resolve/main/../tiny/config.json").status != 200);
}

TEST_CASE("a bad tokens file or .mirror.json is refused at start with the file named") {
    TempDir dir;
    fs::path root = dir.path / "repos";
    make_plain_repos(root);
    write_file(dir.path / "bad-tokens.json", R"({"tokens": [{"name": "x", "token": "hf_secret_in_bad_file", "role": "admin"}]})");
    llmhost::mirror::Server bad_tokens({.root = root, .tokens_file = dir.path / "bad-tokens.json"});
    try {
        bad_tokens.start();
        FAIL("start() accepted an invalid role");
    } catch (const std::runtime_error &e) {
        std::string what = e.what();
        CHECK(what.find("bad-tokens.json") != std::string::npos);
        CHECK(what.find("role") != std::string::npos);
        CHECK(what.find("hf_secret_in_bad_file") == std::string::npos);
    }
    write_file(root / "org/tiny/.mirror.json", R"({"acess": "private"})");
    llmhost::mirror::Server bad_repo({.root = root});
    CHECK_THROWS_WITH_AS(bad_repo.start(), doctest::Contains(".mirror.json"), std::runtime_error);
}
