// Unit tests of the Hub client's pieces: no network.
#include "cache_layout.hpp"
#include "endpoint.hpp"
#include "errors.hpp"
#include "hashing.hpp"
#include "metadata.hpp"
#include "patterns.hpp"
#include "repo_api.hpp"

#include <cstdlib>
#include <optional>

#include <llmhost/net/http_client.hpp>

#include <doctest/doctest.h>

#include "mirror_fixture.hpp"

using namespace llmhost;
using namespace llmhost::hub::detail;

TEST_CASE("patterns: fnmatchcase where * crosses /") {
    CHECK(fnmatch_case("*.json", "config.json"));
    CHECK(fnmatch_case("*.json", "sub/dir/x.json"));       // '*' crosses '/'
    CHECK_FALSE(fnmatch_case("*.json", "config.JSON"));    // case-sensitive
    CHECK(fnmatch_case("model-\?\?\?\?\?-of-*.safetensors", "model-00001-of-00002.safetensors"));
    CHECK(fnmatch_case("[!a]*", "b.txt"));
    CHECK_FALSE(fnmatch_case("[!a]*", "a.txt"));
    CHECK(fnmatch_case("[a-c]x", "bx"));
    CHECK(fnmatch_case("[x", "[x"));                       // unterminated bracket is literal
    CHECK_FALSE(fnmatch_case("*.bin", "model.safetensors"));
    CHECK(normalize_pattern("onnx/") == "onnx/*");
    CHECK(normalize_pattern("a\\b") == "a/b");
    CHECK(keep_path("onnx/model.onnx", {"onnx/"}, {}));
    CHECK_FALSE(keep_path("model.onnx", {"onnx/"}, {}));
    CHECK(keep_path("config.json", {}, {"*.bin"}));
    CHECK_FALSE(keep_path("pytorch_model.bin", {}, {"*.bin"}));
    CHECK_FALSE(keep_path("a.json", {"*.json"}, {"a.*"}));  // ignore wins
}

TEST_CASE("URLs: resolve, repo info, tree, encoding") {
    Endpoint ep("https://hub.example/");
    CHECK(ep.base() == "https://hub.example");
    CHECK(ep.resolve_url(hub::RepoType::model, "org/m", "refs/pr/1", "dir/a b+c.json") ==
          "https://hub.example/org/m/resolve/refs%2Fpr%2F1/dir/a%20b%2Bc.json");
    CHECK(ep.resolve_url(hub::RepoType::dataset, "o/d", "main", "x") == "https://hub.example/datasets/o/d/resolve/main/x");
    CHECK(ep.repo_info_url(hub::RepoType::model, "org/m", "v1.0") == "https://hub.example/api/models/org/m/revision/v1.0");
    CHECK(ep.tree_url(hub::RepoType::space, "o/s", "main") ==
          "https://hub.example/api/spaces/o/s/tree/main?recursive=true&expand=false");
    CHECK(net::percent_encode("a/b~c", "/") == "a/b~c");
    CHECK(net::url_origin("https://Hub.Example/x") == "https://hub.example:443");
    CHECK(net::url_origin("http://127.0.0.1:8080/a") == "http://127.0.0.1:8080");
    CHECK(net::url_origin("http://localhost:8080/a") != net::url_origin("http://127.0.0.1:8080/b"));
    CHECK(net::resolve_url("http://h:1/a/b?q", "/c") == "http://h:1/c");
    CHECK(net::resolve_url("http://h:1/a/b", "c") == "http://h:1/a/c");
    CHECK(net::resolve_url("http://h:1/a/b", "https://cdn/x") == "https://cdn/x");
    CHECK(net::resolve_url("https://h/a", "//cdn/x") == "https://cdn/x");
}

TEST_CASE("repo ids and file paths are validated") {
    CHECK_NOTHROW(validate_repo_id("meta-llama/Llama-3.2-1B"));
    CHECK_NOTHROW(validate_repo_id("gpt2"));
    auto e = hubtest::expect_error([] { validate_repo_id("a/b/c"); });
    CHECK(e.code() == LLMH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(e.what()).find("a/b/c") != std::string::npos);
    CHECK_THROWS_AS(validate_repo_id("org/../x"), llmh::Error);
    CHECK_THROWS_AS(validate_repo_id("org--x/y"), llmh::Error);
    CHECK_THROWS_AS(validate_repo_path("../etc/passwd"), llmh::Error);
    CHECK_THROWS_AS(validate_repo_path("/abs"), llmh::Error);
    CHECK_THROWS_AS(validate_repo_path("a/./b"), llmh::Error);
    CHECK_NOTHROW(validate_repo_path("a/b.json"));
}

TEST_CASE("cache layout: folder names and relative symlinks") {
    CHECK(repo_folder_name(hub::RepoType::model, "org/name") == "models--org--name");
    CHECK(repo_folder_name(hub::RepoType::dataset, "o/n") == "datasets--o--n");
    CHECK(repo_folder_name(hub::RepoType::model, "gpt2") == "models--gpt2");
    auto p = parse_repo_folder("models--org--name");
    REQUIRE(p);
    CHECK(p->second == "org/name");
    CHECK_FALSE(parse_repo_folder("foo--bar"));

    hubtest::TempDir dir("hub-layout");
    RepoCache c(dir.path, hub::RepoType::model, "org/name");
    c.prepare();
    CHECK(fs::exists(dir.path / "CACHEDIR.TAG"));
    CHECK(hubtest::read_file(dir.path / "CACHEDIR.TAG").rfind("Signature: 8a477f597d28d172789f06886806bc55\n", 0) == 0);
    std::string commit(40, 'a');
    const std::string e1(40, '1'), e2(64, '2'); // blob names are hex: git sha1 or sha256
    c.link_snapshot(commit, "a/b/c.bin", e1);
    CHECK(fs::read_symlink(c.snapshot_file(commit, "a/b/c.bin")) == "../../../../blobs/" + e1);
    c.link_snapshot(commit, "top.json", e2);
    CHECK(fs::read_symlink(c.snapshot_file(commit, "top.json")) == "../../blobs/" + e2);
    CHECK_THROWS_AS(c.link_snapshot(commit, "x", "../../etc"), llmh::Error);
    CHECK_THROWS_AS(c.snapshot_dir("../victim"), llmh::Error);
    CHECK_THROWS_AS(c.ref("../../x"), llmh::Error);
    c.write_ref("main", commit);
    CHECK(hubtest::read_file(c.ref("main")) == commit); // no newline
    c.write_ref("refs/pr/1", commit);
    CHECK(fs::exists(c.repo_dir() / "refs" / "refs" / "pr" / "1"));
    CHECK(c.read_ref("refs/pr/1") == commit);
    c.write_ref(commit, commit); // a commit revision writes no ref
    CHECK_FALSE(fs::exists(c.ref(commit)));
    CHECK(c.lock(e1) == dir.path / ".locks" / "models--org--name" / (e1 + ".lock"));
}

TEST_CASE("sha256 and git blob sha1 streaming") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // git hash-object of "hello\n" is ce013625030ba8dba906f756967f9e9ca394464a
    ContentHasher g(ContentHasher::Kind::git_sha1, 6);
    g.update("hel");
    g.update("lo\n");
    CHECK(g.hex_digest() == "ce013625030ba8dba906f756967f9e9ca394464a");
    ContentHasher s(ContentHasher::Kind::sha256, 3);
    s.update("xyz");
    s.reset();
    s.update("a");
    s.update("bc");
    CHECK(s.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(ContentHasher::kind_for_etag(std::string(64, 'f')) == ContentHasher::Kind::sha256);
    CHECK(ContentHasher::kind_for_etag(std::string(40, '0')) == ContentHasher::Kind::git_sha1);
    CHECK(ContentHasher::kind_for_etag("abc-1") == ContentHasher::Kind::none);
}

TEST_CASE("Retry-After, retry-after-ms, RateLimit and backoff") {
    net::Headers h;
    h.add("Retry-After", "7");
    CHECK(net::parse_retry_after(h) == net::Millis(7000));
    net::Headers ms;
    ms.add("retry-after-ms", "250");
    ms.add("Retry-After", "9");
    CHECK(net::parse_retry_after(ms) == net::Millis(250));
    net::Headers rl;
    rl.add("RateLimit", "\"api\";r=0;t=55");
    CHECK(net::parse_retry_after(rl) == net::Millis(55000));
    net::Headers date;
    date.add("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT");
    auto now = std::chrono::system_clock::from_time_t(784111777 - 30);
    CHECK(net::parse_retry_after(date, now) == net::Millis(30000));
    net::Headers junk;
    junk.add("Retry-After", "soon");
    CHECK_FALSE(net::parse_retry_after(junk));

    net::RetryPolicy p;
    p.initial_delay = net::Millis(1000);
    p.max_delay = net::Millis(8000);
    p.jitter = 0.25;
    std::mt19937_64 rng(1);
    for (int attempt = 1; attempt <= 6; ++attempt) {
        double base = std::min(1000.0 * (1 << (attempt - 1)), 8000.0);
        auto d = net::backoff_delay(p, attempt, rng).count();
        CHECK(d >= base * 0.75 - 1);
        CHECK(d <= base * 1.25 + 1);
    }
    CHECK(net::is_retryable_status(429));
    CHECK(net::is_retryable_status(503));
    CHECK_FALSE(net::is_retryable_status(404));
}

TEST_CASE("Link rel=next and metadata parsing") {
    net::Headers h;
    h.add("Link", "<https://h/api/x?cursor=2>; rel=\"next\", <https://h/api/x?cursor=9>; rel=\"last\"");
    CHECK(net::link_next(h) == std::optional<std::string>("https://h/api/x?cursor=2"));
    CHECK_FALSE(net::link_next(net::Headers{}));

    CHECK(normalize_etag("W/\"abc\"") == "abc");
    net::Response r;
    r.status = 302;
    r.headers.add("X-Repo-Commit", std::string(40, 'c'));
    r.headers.add("X-Linked-Etag", "\"" + std::string(64, 'e') + "\"");
    r.headers.add("X-Linked-Size", "12345");
    r.headers.add("Content-Length", "0");
    r.headers.add("Location", "https://cdn.example/blob?sig=1");
    auto m = parse_file_metadata(r, "https://hub/org/m/resolve/main/w.bin");
    REQUIRE(m);
    CHECK(m->size == 12345);
    CHECK(m->etag == std::string(64, 'e'));
    CHECK(m->location == "https://cdn.example/blob?sig=1");
    net::Response missing;
    missing.status = 200;
    missing.headers.add("ETag", "\"x\"");
    CHECK_FALSE(parse_file_metadata(missing, "u"));
}

TEST_CASE("tree and whoami JSON parsing") {
    auto files = parse_tree_page(R"([{"type":"directory","path":"d","oid":"1"},
        {"type":"file","path":"d/a.json","oid":")" + std::string(40, '1') + R"(","size":5},
        {"type":"file","path":"w.bin","oid":")" + std::string(40, '2') + R"(","size":130,
         "lfs":{"oid":")" + std::string(64, '3') + R"(","size":999,"pointerSize":130}}])");
    REQUIRE(files.size() == 2);
    CHECK(files[0].etag() == std::string(40, '1'));
    CHECK(files[1].etag() == std::string(64, '3'));
    CHECK(files[1].size == 999);
    auto w = parse_whoami(R"({"name":"alice","type":"user","auth":{"accessToken":{"displayName":"t","role":"read"}},
                              "orgs":[{"name":"acme"}]})");
    CHECK(w.name == "alice");
    CHECK(w.token_role == "read");
    CHECK(w.orgs == std::vector<std::string>{"acme"});
}

TEST_CASE("HTTP errors map to ABI codes with the user's next step") {
    Endpoint ep("https://huggingface.co");
    ErrorContext ctx{&ep, hub::RepoType::model, "org/m", "main", "", false};
    auto resp = [](int status, std::string code = {}, std::string msg = {}) {
        net::Response r;
        r.status = status;
        if (!code.empty()) r.headers.add("X-Error-Code", code);
        if (!msg.empty()) r.headers.add("X-Error-Message", msg);
        return r;
    };
    auto e = http_error(resp(401, "RepoNotFound"), "", ctx);
    CHECK(e.code() == LLMH_ERR_AUTH_REQUIRED);
    CHECK(e.hint().find("HF_TOKEN") != std::string::npos);
    CHECK(e.hint().find("https://huggingface.co/settings/tokens") != std::string::npos);

    ErrorContext with_token = ctx;
    with_token.has_token = true;
    e = http_error(resp(401, "", "Invalid credentials in Authorization header"), "", with_token);
    CHECK(e.code() == LLMH_ERR_AUTH_INVALID);
    e = http_error(resp(403, "GatedRepo", "Access to model org/m is restricted."), "", with_token);
    CHECK(e.code() == LLMH_ERR_GATED);
    CHECK(e.hint().find("accept the license at https://huggingface.co/org/m") != std::string::npos);
    CHECK(e.hint().find("granted") != std::string::npos);
    e = http_error(resp(404, "RepoNotFound"), "", with_token);
    CHECK(e.code() == LLMH_ERR_NOT_FOUND);
    CHECK(std::string(e.what()).find("repository 'org/m'") != std::string::npos);
    e = http_error(resp(404, "RevisionNotFound"), "", with_token);
    CHECK(std::string(e.what()).find("revision 'main'") != std::string::npos);
    ErrorContext file = with_token;
    file.filename = "x.bin";
    e = http_error(resp(404, "EntryNotFound"), "", file);
    CHECK(std::string(e.what()).find("file 'x.bin'") != std::string::npos);

    net::Response limited = resp(429);
    limited.headers.add("Retry-After", "12");
    e = http_error(limited, "", ctx);
    CHECK(e.code() == LLMH_ERR_RATE_LIMITED);
    CHECK(e.retry_after_s() == 12);
    CHECK(std::string(e.what()).find("12 s") != std::string::npos);
    CHECK(e.hint().find("token") != std::string::npos);
    CHECK(http_error(resp(503), R"({"error":"overloaded"})", ctx).code() == LLMH_ERR_NETWORK);

    net::Response t;
    t.error = net::Error::timeout;
    CHECK(transport_error(t, ctx).code() == LLMH_ERR_TIMEOUT);
    t.error = net::Error::cancelled;
    CHECK(transport_error(t, ctx).code() == LLMH_ERR_CANCELLED);
}

namespace {
// Sets (or unsets, value nullptr) an environment variable for one scope.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> old;
    ScopedEnv(const char *n, const char *value) : name(n) {
        if (const char *o = std::getenv(n)) old = o;
        if (value) setenv(n, value, 1);
        else unsetenv(n);
    }
    ~ScopedEnv() {
        if (old) setenv(name.c_str(), old->c_str(), 1);
        else unsetenv(name.c_str());
    }
};
} // namespace

TEST_CASE("options_from_env: offline switches read as huggingface_hub reads them") {
    // huggingface_hub: _is_true(os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE"))
    struct Case {
        const char *hf, *transformers;
        bool offline;
    } cases[] = {{nullptr, nullptr, false}, {"1", nullptr, true},   {"TRUE", nullptr, true},
                 {"yes", nullptr, true},    {"0", "1", false},      {nullptr, "1", true},
                 {nullptr, "on", true},     {"garbage", "1", false}, {"off", nullptr, false}};
    for (const auto &c : cases) {
        ScopedEnv a("HF_HUB_OFFLINE", c.hf), b("TRANSFORMERS_OFFLINE", c.transformers);
        INFO("HF_HUB_OFFLINE=" << (c.hf ? c.hf : "(unset)")
                               << " TRANSFORMERS_OFFLINE=" << (c.transformers ? c.transformers : "(unset)"));
        CHECK(hub::options_from_env().offline == c.offline);
    }
}

TEST_CASE("options_from_env: HF_HUB_CACHE beats HUGGINGFACE_HUB_CACHE beats HF_HOME") {
    ScopedEnv home("HF_HOME", "/tmp/hfhome");
    {
        ScopedEnv a("HF_HUB_CACHE", nullptr), b("HUGGINGFACE_HUB_CACHE", nullptr);
        CHECK(hub::options_from_env().cache_dir == std::filesystem::path("/tmp/hfhome/hub"));
    }
    {
        ScopedEnv a("HF_HUB_CACHE", nullptr), b("HUGGINGFACE_HUB_CACHE", "/tmp/legacy");
        CHECK(hub::options_from_env().cache_dir == std::filesystem::path("/tmp/legacy"));
    }
    {
        ScopedEnv a("HF_HUB_CACHE", "/tmp/new"), b("HUGGINGFACE_HUB_CACHE", "/tmp/legacy");
        CHECK(hub::options_from_env().cache_dir == std::filesystem::path("/tmp/new"));
    }
}
