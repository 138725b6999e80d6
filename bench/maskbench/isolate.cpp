#include "isolate.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace llmhost::maskbench {

namespace {

// The child's result crosses the pipe as a flat byte record; both ends are this program.
void put(std::string &b, const void *p, std::size_t n) {
    b.append(static_cast<const char *>(p), n);
}
template <typename T>
void put_v(std::string &b, T v) {
    put(b, &v, sizeof v);
}
void put_s(std::string &b, const std::string &s) {
    put_v<uint64_t>(b, s.size());
    b += s;
}

struct Reader {
    const std::string &b;
    std::size_t at = 0;
    void get(void *p, std::size_t n) {
        if (at + n > b.size()) throw std::runtime_error("truncated result from the child");
        std::memcpy(p, b.data() + at, n);
        at += n;
    }
    template <typename T>
    T v() {
        T x;
        get(&x, sizeof x);
        return x;
    }
    std::string s() {
        auto n = v<uint64_t>();
        if (n > b.size() - at) throw std::runtime_error("truncated result from the child");
        std::string out = b.substr(at, n);
        at += n;
        return out;
    }
};

std::string encode(const SchemaResult &r) {
    std::string b;
    put_v<int32_t>(b, static_cast<int32_t>(r.outcome));
    put_s(b, r.message);
    put_v<uint8_t>(b, r.clear_compile_error);
    put_v<int64_t>(b, r.ttfm_ns);
    for (std::size_t v :
         {r.tokens, r.valid_accepted, r.valid_refused, r.invalid_refused, r.invalid_refused_at_end,
          r.invalid_accepted, r.inconsistencies, r.exceptions})
        put_v<uint64_t>(b, v);
    put_v<uint64_t>(b, r.mask_ns.size());
    put(b, r.mask_ns.data(), r.mask_ns.size() * sizeof(int64_t));
    return b;
}

void decode(const std::string &b, SchemaResult &r) {
    Reader in{b};
    int32_t o = in.v<int32_t>();
    if (o < 0 || o > static_cast<int32_t>(Outcome::timeout))
        throw std::runtime_error("bad outcome");
    r.outcome = static_cast<Outcome>(o);
    r.message = in.s();
    r.clear_compile_error = in.v<uint8_t>() != 0;
    r.ttfm_ns = in.v<int64_t>();
    for (std::size_t *v :
         {&r.tokens, &r.valid_accepted, &r.valid_refused, &r.invalid_refused,
          &r.invalid_refused_at_end, &r.invalid_accepted, &r.inconsistencies, &r.exceptions})
        *v = in.v<uint64_t>();
    auto n = in.v<uint64_t>();
    if (n > (b.size() - in.at) / sizeof(int64_t))
        throw std::runtime_error("truncated result from the child");
    r.mask_ns.resize(n);
    in.get(r.mask_ns.data(), n * sizeof(int64_t));
}

} // namespace

IsolatedResult run_isolated(const Runner &runner, const SchemaCase &schema, double timeout_s) {
    IsolatedResult out;
    out.result.id = schema.id;
    out.result.split = schema.split;
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        std::string b = encode(runner.run(schema));
        std::size_t off = 0;
        while (off < b.size()) {
            ssize_t n = write(fds[1], b.data() + off, b.size() - off);
            if (n <= 0) _exit(3);
            off += static_cast<std::size_t>(n);
        }
        _exit(0);
    }
    close(fds[1]);
    std::string buf;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    char chunk[65536];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            kill(pid, SIGKILL);
            out.killed_at_limit = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int k = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) continue;
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n > 0)
            buf.append(chunk, static_cast<std::size_t>(n));
        else
            break; // EOF: the child exited (or died)
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (out.killed_at_limit) {
        out.result.outcome = Outcome::timeout;
        out.result.message = "killed at the time limit";
    } else if (WIFSIGNALED(status)) {
        out.signal = WTERMSIG(status);
        out.result.message = std::string("child died: ") + strsignal(out.signal);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        out.signal = -1;
        out.result.message = "child exited with status " + std::to_string(WEXITSTATUS(status));
    } else {
        decode(buf, out.result);
    }
    return out;
}

} // namespace llmhost::maskbench
