#include "hostile_server.hpp"

#include "hashing.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <cctype>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace hubtest {

namespace {
std::string lower(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

const char *reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 302: return "Found";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}
} // namespace

std::string HttpRequest::header(const std::string &name) const {
    for (auto &[k, v] : headers)
        if (lower(k) == lower(name)) return v;
    return {};
}

bool Conn::send(std::string_view bytes) {
    while (!bytes.empty()) {
        if (stopping_) return false;
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool Conn::pause(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
        if (stopping_) return false;
        pollfd p{fd_, POLLIN, 0}; // the client closing its end wakes us (POLLIN + EOF / POLLHUP)
        if (::poll(&p, 1, 20) > 0) {
            char c;
            if (::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) return false;
        }
    }
    return !stopping_;
}

bool Conn::reply(const HttpRequest &req, int status, const HeaderList &headers, std::string_view body) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
    bool has_length = false;
    for (auto &[k, v] : headers) {
        head += k + ": " + v + "\r\n";
        has_length = has_length || lower(k) == "content-length";
    }
    if (!has_length) head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    head += "Connection: close\r\n\r\n";
    if (!send(head)) return false;
    return req.method == "HEAD" || send(body);
}

HostileServer::HostileServer(Handler h) : handler_(std::move(h)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
        throw std::runtime_error("hostile server: cannot listen on 127.0.0.1");
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

HostileServer::~HostileServer() {
    stopping_ = true;
    acceptor_.join();
    {
        std::lock_guard<std::mutex> g(mutex_);
        for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto &t : threads_) t.join(); // threads_ is only touched by the (joined) acceptor
    ::close(listen_fd_);
}

std::size_t HostileServer::count(const std::string &needle, const std::string &method) const {
    std::lock_guard<std::mutex> g(mutex_);
    std::size_t n = 0;
    for (auto &r : seen_) n += r.target.find(needle) != std::string::npos && (method.empty() || r.method == method);
    return n;
}

std::size_t HostileServer::total() const {
    std::lock_guard<std::mutex> g(mutex_);
    return seen_.size();
}

void HostileServer::accept_loop() {
    while (!stopping_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::lock_guard<std::mutex> g(mutex_);
        open_fds_.push_back(fd);
        threads_.emplace_back([this, fd] { serve(fd); });
    }
}

void HostileServer::serve(int fd) {
    std::string buf;
    char chunk[4096];
    while (buf.find("\r\n\r\n") == std::string::npos && buf.size() < 65536 && !stopping_) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buf.append(chunk, static_cast<std::size_t>(n));
    }
    HttpRequest req;
    auto eol = buf.find("\r\n");
    if (eol != std::string::npos) {
        std::string line = buf.substr(0, eol);
        auto sp1 = line.find(' '), sp2 = line.rfind(' ');
        if (sp1 != std::string::npos && sp2 > sp1) {
            req.method = line.substr(0, sp1);
            req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        }
        std::size_t pos = eol + 2;
        while (true) {
            auto e = buf.find("\r\n", pos);
            if (e == std::string::npos || e == pos) break;
            std::string h = buf.substr(pos, e - pos);
            auto colon = h.find(':');
            if (colon != std::string::npos) {
                std::string v = h.substr(colon + 1);
                while (!v.empty() && v.front() == ' ') v.erase(v.begin());
                req.headers.emplace_back(h.substr(0, colon), v);
            }
            pos = e + 2;
        }
    }
    if (!req.method.empty()) {
        {
            std::lock_guard<std::mutex> g(mutex_);
            seen_.push_back(req);
        }
        Conn c(fd, stopping_);
        handler_(req, c);
    }
    ::shutdown(fd, SHUT_WR);
    std::lock_guard<std::mutex> g(mutex_);
    std::erase(open_fds_, fd);
    ::close(fd);
}

// ---- FakeHub
// --------------------------------------------------------------------------------

std::string sha256_of(const std::string &content) { return llmhost::hub::detail::sha256_hex(content); }

std::string git_sha1_of(const std::string &content) {
    using llmhost::hub::detail::ContentHasher;
    ContentHasher h(ContentHasher::Kind::git_sha1, content.size());
    h.update(content);
    return h.hex_digest();
}

std::string upper(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

namespace {
// Quoted like the Hub's; a test's value that is already quoted or weak (W/)
// goes out as written.
std::string etag_header(const FakeFile &f) {
    if (f.etag.empty()) return "\"" + sha256_of(f.content) + "\"";
    if (f.etag.front() == '"' || f.etag.rfind("W/", 0) == 0) return f.etag;
    return "\"" + f.etag + "\"";
}
} // namespace

const FakeFile *FakeHub::find(const std::string &path) const {
    for (auto &f : files)
        if (f.path == path) return &f;
    return nullptr;
}

HostileServer::Handler FakeHub::handler() {
    return [this](const HttpRequest &req, Conn &c) {
        if (on && on(req, c)) return;
        const std::string api = "/api/models/" + repo;
        if (req.target.rfind(api + "/revision/", 0) == 0) {
            c.reply(req, 200, {{"Content-Type", "application/json"}},
                    nlohmann::json{{"id", repo}, {"sha", commit}}.dump());
        } else if (req.target.rfind(api + "/tree/", 0) == 0) {
            nlohmann::json list = nlohmann::json::array();
            for (auto &f : files)
                list.push_back({{"type", "file"},
                                {"path", f.path},
                                {"size", f.content.size()},
                                {"oid", f.tree_oid.empty() ? git_sha1_of(f.content) : f.tree_oid}});
            c.reply(req, 200, {{"Content-Type", "application/json"}}, list.dump());
        } else if (auto pos = req.target.find("/resolve/"); pos != std::string::npos) {
            std::string rest = req.target.substr(pos + 9);
            std::string path = rest.substr(rest.find('/') + 1);
            const FakeFile *f = find(path);
            if (!f) {
                c.reply(req, 404, {{"X-Error-Code", "EntryNotFound"}});
                return;
            }
            HeaderList h{{"X-Repo-Commit", commit_header.empty() ? commit : commit_header}, {"ETag", etag_header(*f)}};
            std::size_t from = 0;
            if (auto r = req.header("Range"); r.rfind("bytes=", 0) == 0) from = std::stoull(r.substr(6));
            from = std::min(from, f->content.size());
            c.reply(req, from ? 206 : 200, h, std::string_view(f->content).substr(from));
        } else {
            c.reply(req, 404, {});
        }
    };
}

} // namespace hubtest
