// The keys file of llmhost serve (issue 14 item 2), without a server: the hash scheme, the
// validation of hostile files (each refusal names file:line and the fix) and the per-key
// minute windows. The server side is in test_keys_serve.cpp.
#include <doctest/doctest.h>

#include "key_limits.hpp"
#include "key_registry.hpp"

#include <llmhost/server/keys_file.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

using namespace llmhost::server;
namespace fs = std::filesystem;

namespace {

std::string entry(const std::string &name, const std::string &key, const std::string &rest) {
    return name + " " + hash_key(key) + " " + rest + "\n";
}

// The error parse_keys_file throws for `text` ("" when it accepts it).
std::string refusal(const std::string &text) {
    try {
        parse_keys_file(text, "keys.txt");
    } catch (const KeysFileError &e) {
        return e.what();
    }
    return "";
}

// The error load_keys_file throws for `path` ("" when it loads).
std::string load_refusal(const std::string &path) {
    try {
        load_keys_file(path);
    } catch (const KeysFileError &e) {
        return e.what();
    }
    return "";
}

struct TempDir {
    fs::path dir;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "llmhost-keys-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string write(const std::string &name, const std::string &text, mode_t mode = 0600) {
        auto p = dir / name;
        std::ofstream(p) << text;
        ::chmod(p.c_str(), mode);
        return p.string();
    }
};

const std::string kKeyA = "llmh-test-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kKeyB = "llmh-test-key-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

} // namespace

TEST_CASE("hash_key / verify_key: salted, verifies only its key, never contains it") {
    std::string h1 = hash_key(kKeyA), h2 = hash_key(kKeyA);
    CHECK(h1.rfind("sha256$", 0) == 0);
    CHECK(h1 != h2); // a fresh salt each time
    CHECK(verify_key(kKeyA, h1));
    CHECK(verify_key(kKeyA, h2));
    CHECK_FALSE(verify_key(kKeyB, h1));
    CHECK_FALSE(verify_key(kKeyA.substr(0, kKeyA.size() - 1), h1));
    CHECK_FALSE(verify_key(kKeyA, "plain$" + h1.substr(7)));
    CHECK(h1.find(kKeyA) == std::string::npos);
    CHECK(h1.find(kKeyA.substr(14, 12)) == std::string::npos);
}

TEST_CASE("generate_key: 256 random bits, header-safe, never twice the same") {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        std::string k = generate_key();
        REQUIRE(k.size() == 5 + 43);
        CHECK(k.rfind("llmh-", 0) == 0);
        for (char c : k.substr(5))
            CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'));
        seen.insert(k);
    }
    CHECK(seen.size() == 100);
}

TEST_CASE("a valid file: fields, comments, blank lines, tpm optional, * scope") {
    std::string text = "# llmhost keys\n\n" +
                       entry("alice", kKeyA, "providers=local,cloud rpm=60 tpm=1000") + "   \t\n" +
                       entry("ci.bot-2", kKeyB, "rpm=600 providers=*");
    KeysFile kf = parse_keys_file(text, "keys.txt");
    REQUIRE(kf.entries.size() == 2);
    const auto &a = kf.entries[0];
    CHECK(a.name == "alice");
    CHECK(a.line == 3);
    CHECK(a.rpm == 60);
    CHECK(a.tpm == 1000);
    CHECK(a.allows("local"));
    CHECK(a.allows("cloud"));
    CHECK_FALSE(a.allows("other"));
    CHECK_FALSE(a.allows("loc"));
    const auto &b = kf.entries[1];
    CHECK(b.tpm == 0);
    CHECK(b.allows("anything"));
    // The line written by `keys add` parses back to the same entry.
    auto again = parse_keys_file(format_key_entry(a), "x");
    CHECK(again.entries[0].hash == a.hash);
    CHECK(again.entries[0].providers == a.providers);
    CHECK(again.entries[0].tpm == 1000);
}

TEST_CASE("hostile lines are refused with file:line and the fix") {
    const std::string ok = entry("alice", kKeyA, "providers=a rpm=60");
    const std::string h = hash_key(kKeyB);
    struct Case {
        std::string line, expect;
    };
    const Case cases[] = {
        {"bob " + kKeyB + " providers=a rpm=60", "looks like a plain key"},
        {"bob md5$abc$def providers=a rpm=60", "unknown hash scheme 'md5'"},
        {"bob sha256$!!!$def providers=a rpm=60", "the salt is not base64"},
        {"bob sha256$c2FsdHNhbHQ=$c2hvcnQ= providers=a rpm=60", "the digest is not base64 of 32"},
        {"alice " + h + " providers=a rpm=60", "duplicate name 'alice' (first on line 1)"},
        {"bob " + h + " providers=a tpm=5", "no rpm= field"},
        {"bob " + h + " rpm=5 tpm=5", "no providers= field"},
        {"bob " + h + " providers=a rpm=0", "rpm=0 is not a number from 1 to"},
        {"bob " + h + " providers=a rpm=99999999999", "is not a number from 1 to"},
        {"bob " + h + " providers=a rpm=-3", "is not a number from 1 to"},
        {"bob " + h + " providers=a rpm=6x", "is not a number from 1 to"},
        {"bob " + h + " providers=a rpm=5 tpm=0", "tpm=0 is not a number"},
        {"bob " + h + " providers=a rpm=5 rpm=6", "rpm= given twice"},
        {"bob " + h + " providers=a rpm=5 burst=3", "unknown field 'burst'"},
        {"bob " + h + " providers=a,,b rpm=5", "bad provider name"},
        {"bob " + h + " providers=a rpm=5 stray", "field 5 is not NAME=VALUE"},
        {"bob " + h, "at least four fields"},
        {"key_3 " + h + " providers=a rpm=5", "not a valid key name"},
        {"invalid " + h + " providers=a rpm=5", "not a valid key name"},
        {"b$b " + h + " providers=a rpm=5", "not a valid key name"},
        {"bob " + h + " providers=a rpm=5\x01", "control character"},
    };
    for (const auto &c : cases) {
        INFO(c.line);
        std::string why = refusal(ok + c.line + "\n");
        CHECK(why.rfind("keys.txt:2: ", 0) == 0);
        CHECK(why.find(c.expect) != std::string::npos);
        CHECK(why.find("; fix: ") != std::string::npos);
        // A key pasted where a hash or a name belongs is not echoed back.
        CHECK(why.find(kKeyB) == std::string::npos);
    }
    // The same key line twice (copy and paste): the same hash.
    CHECK(refusal(ok + "bob " + ok.substr(6)).find("the same hash as line 1") != std::string::npos);
    CHECK(refusal("").find("no keys in the file") != std::string::npos);
    CHECK(refusal("# only a comment\n").find("no keys in the file") != std::string::npos);
    CHECK(parse_keys_file("", "x", true).entries.empty());
}

TEST_CASE("load_keys_file: permissions, file type, size") {
    TempDir t;
    const std::string text = entry("alice", kKeyA, "providers=a rpm=60");
    auto p600 = t.write("k600", text, 0600);
    CHECK(load_keys_file(p600).warnings.empty());
    auto p644 = t.write("k644", text, 0644);
    auto kf = load_keys_file(p644);
    REQUIRE(kf.warnings.size() == 1);
    CHECK(kf.warnings[0].find("readable by every user") != std::string::npos);
    CHECK(kf.warnings[0].find("chmod 600") != std::string::npos);
    auto p666 = t.write("k666", text, 0666);
    CHECK(load_refusal(p666).find("writable by every user") != std::string::npos);
    CHECK(load_refusal(t.dir.string()).find("not a regular file") != std::string::npos);
    CHECK(load_refusal((t.dir / "missing").string()).find("cannot read") != std::string::npos);
    auto big = t.write("big", std::string(kMaxKeysFileBytes + 1, '#'), 0600);
    CHECK(load_refusal(big).find("larger than") != std::string::npos);
}

TEST_CASE(
    "KeyRegistry: finds by bearer, keeps the previous set on a bad reload, redacts seen keys") {
    TempDir t;
    auto path = t.write("keys", entry("alice", kKeyA, "providers=a rpm=60"));
    KeyRegistry reg(path);
    reg.load();
    auto a = reg.find("Bearer " + kKeyA);
    REQUIRE(a);
    CHECK(a->name == "alice");
    CHECK(reg.find("bearer " + kKeyA)); // the scheme is case-insensitive
    CHECK(reg.find("Bearer " + kKeyA)); // the cached path
    CHECK_FALSE(reg.find("Bearer " + kKeyB));
    CHECK_FALSE(reg.find(kKeyA));
    CHECK_FALSE(reg.find("Bearer "));
    // A bad file: refused, the previous keys stay.
    t.write("keys", "alice " + kKeyA + " providers=a rpm=60\n");
    CHECK_THROWS_AS(reg.load(), KeysFileError);
    CHECK(reg.find("Bearer " + kKeyA));
    // A good one replaces the set; the entry a request holds stays valid.
    t.write("keys", entry("bob", kKeyB, "providers=b rpm=1"));
    reg.load();
    CHECK(a->name == "alice");
    CHECK_FALSE(reg.find("Bearer " + kKeyA));
    CHECK(reg.find("Bearer " + kKeyB)->name == "bob");
    CHECK(reg.redact("x " + kKeyA + " y " + kKeyB) == "x [redacted] y [redacted]");
}

TEST_CASE("KeyLimits: rpm in a sliding minute, Retry-After to the second a slot frees, tpm") {
    KeyLimits lim;
    using namespace std::chrono;
    const auto t0 = KeyLimits::Clock::time_point(seconds(1000));
    CHECK(lim.admit("a", 2, 0, t0) == 0);
    CHECK(lim.admit("a", 2, 0, t0 + seconds(10)) == 0);
    double wait = lim.admit("a", 2, 0, t0 + seconds(20));
    CHECK(wait == doctest::Approx(40.0));
    CHECK(lim.admit("b", 2, 0, t0 + seconds(20)) == 0); // another key has its own window
    CHECK(lim.admit("a", 2, 0, t0 + seconds(60)) == 0); // the first request has left
    CHECK(lim.admit("a", 2, 0, t0 + seconds(61)) == doctest::Approx(9.0));
    // tpm: tokens are counted after the answer; over the limit, the next request waits.
    CHECK(lim.admit("c", 100, 50, t0) == 0);
    lim.add_tokens("c", 30, t0);
    CHECK(lim.admit("c", 100, 50, t0 + seconds(5)) == 0);
    lim.add_tokens("c", 30, t0 + seconds(5));
    CHECK(lim.admit("c", 100, 50, t0 + seconds(6)) == doctest::Approx(54.0));
    CHECK(lim.admit("c", 100, 50, t0 + seconds(60)) == 0); // the first 30 have left: 30 < 50
    // Tokens of a name never admitted are not counted; a reload drops removed names.
    lim.add_tokens("ghost", 10, t0);
    lim.retain({"a"});
    CHECK(lim.admit("b", 1, 0, t0 + seconds(21)) == 0); // b's window was dropped
    CHECK(lim.admit("a", 2, 0, t0 + seconds(61)) > 0);  // a's was kept
}
