// Route fuzz: thousands of request targets built from every route the mirror serves, with repo ids
// that name folders inside other repos (models--corp--x/snapshots, datasets/corp, hub/...),
// percent-encoded and dotted segments, double and trailing slashes, case variants and long ids.
// Without a token, or with a token granted only a public repo, no response may carry the private
// repos' contents, file names, hashes or commits, nor the gated repo's contents, and every request
// aimed at them must be refused (401/403/404). Requests are sent over raw sockets, so that the
// targets reach the server exactly as generated (curl would normalise "..").
#include <doctest/doctest.h>

#include "fixture.hpp"
#include "repo_id.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <vector>

using namespace mirror_test;

namespace {

const std::string kPublicOnlyToken = "hf_fuzz_public_only_token_0000";
const std::string kAllToken = "hf_fuzz_all_access_token_1111";
const std::string kCommitX = "1111111111111111111111111111111111111111";
const std::string kCommitY = "2222222222222222222222222222222222222222";
const std::string kCommitZ = "3333333333333333333333333333333333333333";

struct RawReply {
    int status = 0;
    std::string head; // status line and headers
    std::string body;
};

// One request on its own connection, the target sent byte for byte.
RawReply raw_request(std::uint16_t port, const std::string &method, const std::string &target,
                     const std::string &token) {
    RawReply reply;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req =
        method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    req += "\r\n";
    for (std::size_t sent = 0; sent < req.size();) {
        ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    std::string all;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        all.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    auto end = all.find("\r\n\r\n");
    reply.head = all.substr(0, end);
    reply.body = end == std::string::npos ? "" : all.substr(end + 4);
    if (all.rfind("HTTP/1.1 ", 0) == 0) reply.status = std::atoi(all.c_str() + 9);
    return reply;
}

struct Canaries {
    std::vector<std::string> secret;      // must never appear in any response
    std::vector<std::string> gated_bytes; // the gated repo's contents: never without a grant
};

// A cache repo folder <parent>/<folder> with one snapshot `commit` holding `files` (name ->
// content), linked to blobs named by their etags, refs/main, and a .mirror.json.
void make_cache_repo(const fs::path &folder, const std::string &commit,
                     const std::vector<std::pair<std::string, std::string>> &files,
                     const std::string &access, Canaries &canaries) {
    for (auto &[name, content] : files) {
        bool lfs = name.size() > 12 && name.substr(name.size() - 12) == ".safetensors";
        std::string etag = lfs ? sha256_hex(content) : git_blob_sha1(content);
        write_file(folder / "blobs" / etag, content);
        fs::create_directories((folder / "snapshots" / commit / name).parent_path());
        std::string up = "../../";
        for (char c : name) up += c == '/' ? "../" : "";
        fs::create_symlink(up + "blobs/" + etag, folder / "snapshots" / commit / name);
        canaries.secret.push_back(etag);
        canaries.secret.push_back(sha256_hex(content));
        canaries.secret.push_back(git_blob_sha1(content));
    }
    write_file(folder / "refs/main", commit);
    // The commit is not a canary: the fuzzer sends it itself, and "Invalid rev id: <rev>" echoes
    // it.
    write_file(folder / ".mirror.json", R"({"access": ")" + access + R"("})");
}

struct FuzzMirror {
    TempDir dir;
    Canaries canaries;
    std::unique_ptr<llmhost::mirror::Server> server;
    std::uint16_t port = 0;

    FuzzMirror() {
        fs::path root = dir.path / "root";
        write_file(root / "corp/public/config.json", R"({"public": true})");
        write_file(root / "corp/public/README.md", "# public\n");
        // Private plain model, private plain dataset: names and contents are secret.
        write_file(root / "corp/private-plain/.mirror.json", R"({"access": "private"})");
        write_file(root / "corp/private-plain/canary-pm-name-a7f3.json", "CANARY-PM-CONTENT-9d1e");
        write_file(root / "corp/private-plain/weights-canary-pm-b2c4.safetensors",
                   "CANARY-PM-LFS-CONTENT-77aa");
        write_file(root / "datasets/corp/secret-data/.mirror.json", R"({"access": "private"})");
        write_file(root / "datasets/corp/secret-data/canary-pd-name-c5d6.csv",
                   "CANARY-PD-CONTENT-4e2f");
        // Gated: metadata is public (as on the Hub), contents are not.
        write_file(root / "corp/gated/.mirror.json", R"({"access": "gated"})");
        write_file(root / "corp/gated/gated-file.txt", "CANARY-GATED-CONTENT-6b8c");
        write_file(root / "corp/gated/gated-weights.safetensors", "CANARY-GATED-LFS-CONTENT-1f0d");
        canaries.gated_bytes = {"CANARY-GATED-CONTENT-6b8c", "CANARY-GATED-LFS-CONTENT-1f0d"};
        // Private caches: one in root (a cache root), one in root/hub (an HF_HOME root), a dataset.
        make_cache_repo(root / "models--corp--x", kCommitX,
                        {{"canary-cx-name-e1a2.json", "CANARY-CX-CONTENT-3c3c"},
                         {"sub/canary-cx-deep-f4b5.txt", "CANARY-CX-DEEP-CONTENT-8e8e"},
                         {"canary-cx-weights-0a9b.safetensors", "CANARY-CX-LFS-CONTENT-2d2d"}},
                        "private", canaries);
        make_cache_repo(root / "hub/models--corp--y", kCommitY,
                        {{"canary-cy-name-d7e8.json", "CANARY-CY-CONTENT-5a5a"}}, "private",
                        canaries);
        make_cache_repo(root / "hub/datasets--corp--z", kCommitZ,
                        {{"canary-cz-name-b9c0.csv", "CANARY-CZ-CONTENT-6f6f"}}, "private",
                        canaries);
        for (const char *s :
             {"canary-pm-name-a7f3", "CANARY-PM-CONTENT-9d1e", "weights-canary-pm-b2c4",
              "CANARY-PM-LFS-CONTENT-77aa", "canary-pd-name-c5d6", "CANARY-PD-CONTENT-4e2f",
              "canary-cx-name-e1a2", "canary-cx-deep-f4b5", "canary-cx-weights-0a9b",
              "CANARY-CX-CONTENT-3c3c", "CANARY-CX-DEEP-CONTENT-8e8e", "CANARY-CX-LFS-CONTENT-2d2d",
              "canary-cy-name-d7e8", "CANARY-CY-CONTENT-5a5a", "canary-cz-name-b9c0",
              "CANARY-CZ-CONTENT-6f6f"})
            canaries.secret.emplace_back(s);
        for (const char *c :
             {"CANARY-PM-CONTENT-9d1e", "CANARY-PM-LFS-CONTENT-77aa", "CANARY-PD-CONTENT-4e2f"}) {
            canaries.secret.push_back(sha256_hex(c));
            canaries.secret.push_back(git_blob_sha1(c));
        }
        fs::path tokens = dir.path / "tokens.json";
        write_file(tokens, R"({"tokens": [
            {"name": "public-only", "token": ")" +
                               kPublicOnlyToken + R"(", "repos": ["corp/public"]},
            {"name": "all", "token": ")" +
                               kAllToken + R"(", "repos": ["corp/*", "datasets/corp/*"]}]})");
        llmhost::mirror::ServerOptions options;
        options.root = root;
        options.tokens_file = tokens;
        options.max_recorded_requests = 16;
        server = std::make_unique<llmhost::mirror::Server>(options);
        port = server->start();
    }
};

// Which canary a response carries, or "" when none.
std::string leaked(const RawReply &r, const Canaries &c, bool gated_too) {
    for (auto &s : c.secret)
        if (r.head.find(s) != std::string::npos || r.body.find(s) != std::string::npos) return s;
    if (gated_too)
        for (auto &s : c.gated_bytes)
            if (r.head.find(s) != std::string::npos || r.body.find(s) != std::string::npos)
                return s;
    return "";
}

// Random spellings of one segment: percent-encoding, case changes, dots.
std::string mangle(const std::string &seg, std::mt19937 &rng) {
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    switch (rng() % 8) {
    case 0: // percent-encode some characters, '/' and '.' included
        for (unsigned char ch : seg) {
            if (rng() % 3 == 0) {
                out += '%';
                out += hex[ch >> 4];
                out += hex[ch & 15];
            } else {
                out += static_cast<char>(ch);
            }
        }
        return out;
    case 1: // case variants
        for (char ch : seg)
            out += static_cast<char>(rng() % 2 ? std::toupper(ch) : std::tolower(ch));
        return out;
    default: return seg;
    }
}

} // namespace

TEST_CASE(
    "route fuzz: private and gated repos never leak through odd repo ids, revisions or paths") {
    FuzzMirror m;
    auto started = std::chrono::steady_clock::now();

    // Positive control: the canaries are where the fuzzer looks, and a granted token reads them.
    RawReply control =
        raw_request(m.port, "GET", "/corp/x/resolve/main/canary-cx-name-e1a2.json", kAllToken);
    REQUIRE(control.status == 200);
    REQUIRE(control.body == "CANARY-CX-CONTENT-3c3c");
    REQUIRE(leaked(control, m.canaries, true) != "");
    REQUIRE(leaked(raw_request(m.port, "GET", "/api/datasets/corp/secret-data", kAllToken),
                   m.canaries, true) != "");
    REQUIRE(leaked(raw_request(m.port, "GET", "/api/datasets/corp/z/tree/main", kAllToken),
                   m.canaries, true) != "");
    REQUIRE(raw_request(m.port, "GET", "/corp/gated/resolve/main/gated-file.txt", kAllToken).body ==
            "CANARY-GATED-CONTENT-6b8c");

    const std::vector<std::string> ids = {"corp/x",
                                          "corp/y",
                                          "corp/z",
                                          "corp/private-plain",
                                          "corp/secret-data",
                                          "corp/gated",
                                          "corp/public",
                                          "models--corp--x/snapshots",
                                          "models--corp--x/blobs",
                                          "models--corp--x/refs",
                                          "models--corp--x/.mirror.json",
                                          "models--corp--x/snapshots/" + kCommitX,
                                          "hub/models--corp--y",
                                          "hub/datasets--corp--z",
                                          "hub/models--corp--y/snapshots",
                                          "datasets/corp",
                                          "datasets/corp/secret-data",
                                          "datasets--corp--z/snapshots",
                                          "corp/x/snapshots",
                                          "corp/private-plain/.",
                                          "corp/./private-plain",
                                          "corp/../corp/x",
                                          "corp/..",
                                          "../corp",
                                          "corp//x",
                                          "corp/x/",
                                          "corp%2Fx",
                                          "corp%2fprivate-plain",
                                          "corp/private-plain%2F..",
                                          "%2e%2e/corp",
                                          "corp/%2e%2e",
                                          "CORP/X",
                                          "corp/X",
                                          "Corp/Private-Plain",
                                          "corp/x.git",
                                          "corp/-x",
                                          "corp/x-",
                                          "_corp/x_",
                                          "corp/" + std::string(97, 'x'),
                                          std::string(200, 'c') + "/x",
                                          "corp",
                                          "x",
                                          "hub",
                                          "datasets",
                                          "snapshots",
                                          "blobs",
                                          "refs",
                                          ".",
                                          "..",
                                          "corp/x%00",
                                          "corp/x\\..\\y"};
    const std::vector<std::string> revisions = {
        "main",      "v1",        kCommitX,           kCommitY,          kCommitZ,  "refs%2Fpr%2F1",
        "refs/pr/1", "..",        "%2e%2e",           "main%2F..",       "main/..", ".",
        "",          "snapshots", kCommitX + "%2F..", "..%2F..%2Fblobs", "/main",   "%2Fetc"};
    const std::vector<std::string> files = {
        "canary-pm-name-a7f3.json",
        "weights-canary-pm-b2c4.safetensors",
        "canary-pd-name-c5d6.csv",
        "canary-cx-name-e1a2.json",
        "sub/canary-cx-deep-f4b5.txt",
        "canary-cx-weights-0a9b.safetensors",
        "canary-cy-name-d7e8.json",
        "canary-cz-name-b9c0.csv",
        "gated-file.txt",
        "gated-weights.safetensors",
        "config.json",
        "README.md",
        ".mirror.json",
        "snapshots/" + kCommitX + "/canary-cx-name-e1a2.json",
        kCommitX + "/canary-cx-name-e1a2.json",
        "../x/canary-cx-name-e1a2.json",
        "..%2F..%2Fmodels--corp--x%2Fsnapshots%2F" + kCommitX + "%2Fcanary-cx-name-e1a2.json",
        "%2e%2e/%2e%2e/corp/private-plain/canary-pm-name-a7f3.json",
        "blobs",
        "refs/main",
        "sub",
        "sub/",
        "../../../../etc/passwd",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "sub//canary-cx-deep-f4b5.txt",
        ""};
    const std::vector<std::string> types = {"models", "datasets", "spaces", "Models", "model"};

    std::mt19937 rng(20240611);
    auto pick = [&](const std::vector<std::string> &v) { return v[rng() % v.size()]; };
    auto id_of = [&](const std::string &id) {
        std::string out;
        std::size_t start = 0;
        while (true) {
            auto slash = id.find('/', start);
            out += mangle(
                id.substr(start, slash == std::string::npos ? std::string::npos : slash - start),
                rng);
            if (slash == std::string::npos) return out;
            out += '/';
            start = slash + 1;
        }
    };
    // Explicit attacks first, then random ones.
    std::vector<std::string> targets = {
        "/api/models/models--corp--x/snapshots",
        "/api/models/models--corp--x/snapshots/tree/main?recursive=true",
        "/api/models/datasets/corp",
        "/api/models/datasets/corp/tree/main?recursive=1",
        "/api/models/hub/models--corp--y",
        "/api/models/hub/datasets--corp--z/tree/main?recursive=true",
        "/models--corp--x/snapshots/resolve/main/" + kCommitX + "/canary-cx-name-e1a2.json",
        "/datasets/corp/resolve/main/secret-data/canary-pd-name-c5d6.csv",
        "/hub/models--corp--y/resolve/main/snapshots/" + kCommitY + "/canary-cy-name-d7e8.json",
        "/corp/public/resolve/main/..%2F..%2Fmodels--corp--x%2Fsnapshots%2F" + kCommitX +
            "%2Fcanary-cx-name-e1a2.json"};
    const int kRandom = 3000;
    for (int i = 0; i < kRandom; ++i) {
        std::string id = id_of(pick(ids)), rev = mangle(pick(revisions), rng), file = pick(files);
        std::string t;
        switch (rng() % 7) {
        case 0: t = "/api/" + pick(types) + "/" + id; break;
        case 1: t = "/api/" + pick(types) + "/" + id + "/revision/" + rev; break;
        case 2:
            t = "/api/" + pick(types) + "/" + id + "/tree/" + rev + (rng() % 2 ? "/" + file : "");
            break;
        case 3: t = "/" + id + "/resolve/" + rev + "/" + file; break;
        case 4: t = "/datasets/" + id + "/resolve/" + rev + "/" + file; break;
        case 5:
            t = "/_lfs/" + pick(types) + "/" + id + "/" + sha256_hex(file) + "/" + file +
                "?exp=9999999999&sig=00";
            break;
        default:
            t = "/" + id + "/" + pick({"resolve", "tree", "blob", "raw"}) + "/" + rev + "/" + file;
            break;
        }
        if (rng() % 10 == 0) t += "/";
        if (rng() % 10 == 0)
            t.insert(t.find('/', 1) == std::string::npos ? 0 : t.find('/', 1), "/");
        if (rng() % 5 == 0) t += pick({"?recursive=true", "?recursive=1&cursor=0", "?expand=true"});
        targets.push_back(t);
    }

    int requests = 0, refused = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const std::string &t = targets[i];
        std::string method = i % 3 == 2 ? "HEAD" : "GET";
        std::string token = i % 2 ? kPublicOnlyToken : "";
        RawReply r = raw_request(m.port, method, t, token);
        ++requests;
        std::string who = token.empty() ? "no token" : "public-only token";
        INFO(method << " " << t << " (" << who << ") -> " << r.status);
        CHECK(r.status != 0);
        CHECK(leaked(r, m.canaries, true) == "");
        // Anything that names a private or gated repo, one way or another, is refused.
        bool aims_private = false;
        for (const char *s : {"corp/x", "corp/y", "corp/z", "private-plain", "secret-data",
                              "models--", "datasets--", "datasets/corp/", "canary"})
            aims_private = aims_private || t.find(s) != std::string::npos;
        bool gated_file = t.find("corp/gated/resolve") != std::string::npos;
        if ((aims_private && t.find("corp/public") == std::string::npos) || gated_file) {
            CHECK((r.status == 401 || r.status == 403 || r.status == 404));
            refused += r.status == 401 || r.status == 403 || r.status == 404;
        }
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    MESSAGE(requests << " requests, " << refused << " refused, " << seconds << " s");
    CHECK(seconds < 20);
}

TEST_CASE("repo ids follow huggingface_hub validate_repo_id, revisions and paths cannot climb") {
    using llmhost::mirror::valid_repo_id, llmhost::mirror::valid_revision,
        llmhost::mirror::valid_repo_path;
    for (const char *ok :
         {"foo/bar", "123/456", "Foo-BAR_foo/bar123", "org/Foo-BAR_foo.bar123", "_a/_b_", "a/b.c"})
        CHECK_MESSAGE(valid_repo_id(ok), std::string(ok));
    std::string long_name = "org/" + std::string(96, 'x');
    CHECK(valid_repo_id(long_name));
    CHECK_FALSE(valid_repo_id(long_name + "x"));
    for (const char *bad :
         {"foo", "datasets/foo/bar", ".repo/x", "org/.repo_id", "org/foo--bar", "org/foo.git",
          "org/a..b", "-org/x", "org/x-", "org/x.", "org/", "/x", "org//x", "org/x y", "org/x%2F",
          "models--org--x/snapshots", "org/caf\xc3\xa9", ""})
        CHECK_FALSE_MESSAGE(valid_repo_id(bad), std::string(bad));
    for (const char *ok :
         {"main", "v1.0", "refs/pr/1", "0123456789abcdef0123456789abcdef01234567", "feature/x-y"})
        CHECK_MESSAGE(valid_revision(ok), std::string(ok));
    for (const char *bad :
         {"", "..", "main/..", "/main", "main/", "a//b", ".hidden", "a/.b", "a\\b", "a\nb"})
        CHECK_FALSE_MESSAGE(valid_revision(bad), std::string(bad));
    for (const char *ok : {"config.json", "sub/dir/notes.txt", ".gitattributes", "a b/c"})
        CHECK_MESSAGE(valid_repo_path(ok), std::string(ok));
    for (const char *bad : {"", "/etc/passwd", "../x", "a/../b", "a/./b", "a//b", "a/", "a\tb"})
        CHECK_FALSE_MESSAGE(valid_repo_path(bad), std::string(bad));
}

TEST_CASE("a file linked out of its repo's folder is not served: the repo's ACL covers only its "
          "own files") {
    TempDir dir;
    fs::path root = dir.path / "root";
    write_file(root / "corp/private/.mirror.json", R"({"access": "private"})");
    write_file(root / "corp/private/secret.json", "CANARY-LINKED-SECRET-0001");
    write_file(root / "corp/public/config.json", "{}");
    fs::create_symlink("../private/secret.json", root / "corp/public/leak.json");
    fs::create_symlink(root / "corp/private",
                       root / "corp/public/leakdir"); // a folder link: never followed
    write_file(dir.path / "outside.txt", "CANARY-OUTSIDE-ROOT-0002");
    fs::create_symlink(dir.path / "outside.txt", root / "corp/public/outside.txt");
    // A cache repo whose snapshot links into another cache repo's blobs.
    Canaries canaries;
    make_cache_repo(root / "models--corp--x", kCommitX,
                    {{"secret.json", "CANARY-CACHE-SECRET-0003"}}, "private", canaries);
    fs::create_directories(root / "models--corp--pub/snapshots" / kCommitY);
    write_file(root / "models--corp--pub/refs/main", kCommitY);
    write_file(root / "models--corp--pub/blobs" / git_blob_sha1("{}"), "{}");
    fs::create_symlink("../../blobs/" + git_blob_sha1("{}"),
                       root / "models--corp--pub/snapshots" / kCommitY / "config.json");
    fs::create_symlink("../../../models--corp--x/blobs/" +
                           git_blob_sha1("CANARY-CACHE-SECRET-0003"),
                       root / "models--corp--pub/snapshots" / kCommitY / "stolen.json");
    // A repo that is itself a link to a folder elsewhere is served (its files are inside it).
    write_file(dir.path / "elsewhere/linked/config.json", R"({"linked": true})");
    fs::create_symlink(dir.path / "elsewhere/linked", root / "corp/linked");

    llmhost::mirror::Server server({.root = root});
    std::uint16_t port = server.start();
    for (const char *t :
         {"/corp/public/resolve/main/leak.json", "/corp/public/resolve/main/outside.txt",
          "/corp/public/resolve/main/leakdir/secret.json", "/corp/pub/resolve/main/stolen.json"}) {
        RawReply r = raw_request(port, "GET", t, "");
        CHECK_MESSAGE(r.status == 404, std::string(t));
        CHECK(r.body.find("CANARY") == std::string::npos);
    }
    for (const char *t :
         {"/api/models/corp/public/tree/main?recursive=true", "/api/models/corp/pub/tree/main"}) {
        RawReply r = raw_request(port, "GET", t, "");
        CHECK(r.status == 200);
        CHECK_MESSAGE(r.body.find("leak") == std::string::npos, r.body);
        CHECK_MESSAGE(r.body.find("outside") == std::string::npos, r.body);
        CHECK_MESSAGE(r.body.find("stolen") == std::string::npos, r.body);
    }
    CHECK(raw_request(port, "GET", "/corp/pub/resolve/main/config.json", "").body == "{}");
    CHECK(raw_request(port, "GET", "/corp/linked/resolve/main/config.json", "").body ==
          R"({"linked": true})");
    server.stop();
}
