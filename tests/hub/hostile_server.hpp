// A small, self-contained hostile Hub for tests: plain sockets on 127.0.0.1,
// one thread per connection, every response "Connection: close". Tests answer
// each request with whatever bytes they like (bad commits and ETags, lying or
// trickling bodies, Retry-After extremes, pagination loops); FakeHub serves a
// well-formed repo whose answers a test then bends.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace hubtest {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method, target;
    HeaderList headers;
    std::string header(const std::string &name) const; // case-insensitive; "" when absent
};

class Conn {
public:
    Conn(int fd, const std::atomic<bool> &stopping) : fd_(fd), stopping_(stopping) {}
    bool send(std::string_view bytes);       // false once the client left or the server stops
    bool pause(std::chrono::milliseconds d); // false when the server stops meanwhile
    void stall() {
        while (pause(std::chrono::milliseconds(50))) {
        }
    } // until the client gives up
    // Status line, headers, Content-Length (unless given) and Connection: close;
    // the body unless HEAD.
    bool reply(const HttpRequest &req, int status, const HeaderList &headers, std::string_view body = {});

private:
    int fd_;
    const std::atomic<bool> &stopping_;
};

class HostileServer {
public:
    using Handler = std::function<void(const HttpRequest &, Conn &)>;
    explicit HostileServer(Handler h);
    ~HostileServer();
    HostileServer(const HostileServer &) = delete;
    HostileServer &operator=(const HostileServer &) = delete;

    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
    // Requests received whose target contains `needle` (and method, when not
    // empty).
    std::size_t count(const std::string &needle, const std::string &method = "") const;
    std::size_t total() const;

private:
    void accept_loop();
    void serve(int fd);

    Handler handler_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::vector<HttpRequest> seen_;
    std::vector<int> open_fds_;
    std::vector<std::thread> threads_;
    std::thread acceptor_;
};

// A model repo "org/evil" at one commit with a few files, served like the Hub
// (API, tree, HEAD and ranged GET on /resolve). `on` runs first and may answer
// a request itself (return true).
struct FakeFile {
    std::string path, content;
    std::string etag;     // as sent in the HEAD's ETag (quoted); default: sha256 of content
    std::string tree_oid; // the tree listing's oid; default: git sha1 of content
};

struct FakeHub {
    std::string repo = "org/evil";
    std::string commit = "0123456789abcdef0123456789abcdef01234567";
    std::string commit_header; // X-Repo-Commit of HEAD answers; default: commit
    std::vector<FakeFile> files;
    std::function<bool(const HttpRequest &, Conn &)> on;

    HostileServer::Handler handler();
    const FakeFile *find(const std::string &path) const;
};

std::string sha256_of(const std::string &content);
std::string git_sha1_of(const std::string &content);
std::string upper(std::string s);

} // namespace hubtest
