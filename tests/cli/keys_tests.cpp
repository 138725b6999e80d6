// `llmhost keys add/list` and `llmhost serve --keys-file` as a user runs them: the key printed
// once and stored hashed, hostile input refused, and a real serve process that picks up a new
// key on SIGHUP (and keeps its keys when the new file is bad), never printing a key.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "sandbox.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <regex>

using namespace cli_test;

namespace {

bool contains(const std::string &s, const std::string &what) {
    return s.find(what) != std::string::npos;
}

std::string read_file(const fs::path &p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// POST /v1/chat/completions with `key`; the HTTP status (0: no answer).
int chat_status(int port, const std::string &key) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        ::close(fd);
        return 0;
    }
    const std::string body = R"({"model":"echo","messages":[{"role":"user","content":"hi"}]})";
    std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: application/json\r\nConnection: close\r\n"
                      "Authorization: Bearer " +
                      key + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                      body;
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
        ::close(fd);
        return 0;
    }
    std::string res;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        res.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    std::smatch m;
    if (!std::regex_search(res, m, std::regex("^HTTP/1\\.1 (\\d{3})"))) return 0;
    return std::stoi(m[1]);
}

void check_no_key(const std::string &what, const std::string &text, const std::string &key) {
    INFO(what << ":\n" << text);
    CHECK_FALSE(contains(text, key));
    CHECK_FALSE(contains(text, key.substr(5, 16)));
}

} // namespace

TEST_CASE("keys add: a random key printed once on stdout, only its hash in the file (0600)") {
    Sandbox sb;
    const auto file = sb.dir / "keys.txt";
    auto r = sb.llmhost({"keys", "add", "--name", "alice", "--providers", "echo,cloud", "--rpm",
                         "60", "--tpm", "5000", "--file", file.string()});
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.out.size() == 5 + 43 + 1);
    const std::string key = r.out.substr(0, 48);
    CHECK(key.rfind("llmh-", 0) == 0);
    CHECK(contains(r.err, "added 'alice'"));
    const std::string text = read_file(file);
    check_no_key("keys file", text, key);
    CHECK(std::regex_search(
        text,
        std::regex(
            R"(^alice sha256\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+ providers=echo,cloud rpm=60 tpm=5000\n$)")));
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // Same name again: refused, nothing added.
    auto dup = sb.llmhost({"keys", "add", "--name", "alice", "--providers", "echo", "--rpm", "1",
                           "--file", file.string()});
    CHECK(dup.exit_code == 2);
    CHECK(contains(dup.err, "'alice' is already in"));
    CHECK(read_file(file) == text);

    // --stdin: too short refused; a long one stored and never printed.
    auto short_key = sb.llmhost({"keys", "add", "--stdin", "--name", "bob", "--providers", "*",
                                 "--rpm", "5", "--file", file.string()},
                                "tooshort\n");
    CHECK(short_key.exit_code == 2);
    CHECK(contains(short_key.err, "must be 32 to 512 characters"));
    const std::string mine = "my-own-key-0123456789-abcdefghijklmnopqrstuv";
    auto own = sb.llmhost({"keys", "add", "--stdin", "--name", "bob", "--providers", "*", "--rpm",
                           "5", "--file", file.string()},
                          mine + "\n");
    REQUIRE(own.exit_code == 0);
    check_no_key("stdout", own.out, mine);
    check_no_key("stderr", own.err, mine);
    check_no_key("keys file", read_file(file), mine);

    // Bad values are refused by the file's own parser.
    auto bad = sb.llmhost({"keys", "add", "--name", "key_1", "--providers", "echo", "--rpm", "5",
                           "--file", file.string()});
    CHECK(bad.exit_code == 2);
    CHECK(contains(bad.err, "not a valid key name"));
    auto zero = sb.llmhost({"keys", "add", "--name", "zed", "--providers", "echo", "--rpm", "0"});
    CHECK(zero.exit_code == 2);
    CHECK(contains(zero.err, "rpm=0 is not a number from 1"));

    // Without --file: the line on stdout (for >>), the key on stderr.
    auto loose =
        sb.llmhost({"keys", "add", "--name", "carol", "--providers", "echo", "--rpm", "5"});
    REQUIRE(loose.exit_code == 0);
    CHECK(loose.out.rfind("carol sha256$", 0) == 0);
    CHECK(contains(loose.err, "shown only this once): llmh-"));

    // list: names and scopes, never the hashes.
    auto list = sb.llmhost({"keys", "list", file.string()});
    REQUIRE(list.exit_code == 0);
    CHECK(contains(list.out, "alice"));
    CHECK(contains(list.out, "echo,cloud"));
    CHECK(contains(list.out, "5000"));
    CHECK(contains(list.out, "bob"));
    CHECK_FALSE(contains(list.out, "sha256$"));
}

TEST_CASE("keys list: a hostile file is refused naming file:line, permissions checked") {
    Sandbox sb;
    const auto file = sb.dir / "keys.txt";
    sb.write_file(file,
                  "# keys\nalice llmh-a-plain-key-that-should-be-a-hash providers=echo rpm=5\n");
    ::chmod(file.c_str(), 0600);
    auto r = sb.llmhost({"keys", "list", file.string()});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, file.string() + ":2: "));
    CHECK(contains(r.err, "looks like a plain key"));
    CHECK_FALSE(contains(r.err, "llmh-a-plain-key"));
    ::chmod(file.c_str(), 0666);
    auto w = sb.llmhost({"keys", "list", file.string()});
    CHECK(w.exit_code == 2);
    CHECK(contains(w.err, "writable by every user"));
}

TEST_CASE(
    "serve --keys-file: SIGHUP picks up a new key without a restart, a bad file keeps the keys") {
    Sandbox sb;
    sb.write_echo_config();
    const auto file = sb.dir / "keys.txt";
    auto add = [&](const std::string &name) {
        auto r = sb.llmhost({"keys", "add", "--name", name, "--providers", "echo", "--rpm", "100",
                             "--file", file.string()});
        REQUIRE(r.exit_code == 0);
        return r.out.substr(0, 48);
    };
    const std::string alice = add("alice");
    Child serve(sb.argv({"serve", "--port", "0", "--keys-file", file.string()}), sb.env,
                sb.dir.string());
    REQUIRE(serve.wait_for_stderr("listening on http://127.0.0.1:"));
    std::smatch m;
    REQUIRE(std::regex_search(serve.err(), m, std::regex(R"(127\.0\.0\.1:(\d+)/v1)")));
    const int port = std::stoi(m[1]);
    CHECK(chat_status(port, alice) == 200);
    CHECK(chat_status(port, "llmh-wrong-key") == 401);

    const std::string bob = add("bob");
    CHECK(chat_status(port, bob) == 401); // not before the reload
    serve.signal(SIGHUP);
    REQUIRE(serve.wait_for_stderr("keys file reloaded (2 keys)"));
    CHECK(chat_status(port, bob) == 200);
    CHECK(chat_status(port, alice) == 200);

    // A bad file: refused, logged with file:line, and both keys keep working.
    sb.write_file(file, read_file(file) + "mallory " + bob + " providers=* rpm=1\n");
    serve.signal(SIGHUP);
    REQUIRE(serve.wait_for_stderr("keys file refused, the previous keys stay"));
    CHECK(contains(serve.err(), file.string() + ":3: "));
    CHECK(chat_status(port, bob) == 200);

    serve.signal(SIGTERM);
    CHECK(serve.wait(20) == 0);
    check_no_key("serve stderr", serve.err(), alice);
    check_no_key("serve stderr", serve.err(), bob);
    check_no_key("serve stdout", serve.out(), bob);
}

TEST_CASE("serve --keys-file: a bad file at start is refused whole") {
    Sandbox sb;
    sb.write_echo_config();
    const auto file = sb.dir / "keys.txt";
    sb.write_file(file, "alice sha512$abc$def providers=echo rpm=5\n");
    ::chmod(file.c_str(), 0600);
    auto r = sb.llmhost({"serve", "--port", "0", "--keys-file", file.string()});
    CHECK(r.exit_code != 0);
    CHECK(contains(r.err, file.string() + ":1: unknown hash scheme 'sha512'"));
}
