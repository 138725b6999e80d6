#include "child_process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace cli_test {

namespace {
double now_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

void check(bool ok, const char *what) {
    if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}
} // namespace

Child::Child(const std::vector<std::string> &argv, const EnvChanges &env, const std::string &cwd) {
    // Build everything the child needs before fork(): only async-signal-safe calls after it.
    std::map<std::string, std::string> vars;
    for (char **e = environ; *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto &[k, v] : env) {
        if (v) vars[k] = *v;
        else vars.erase(k);
    }
    std::vector<std::string> env_strings;
    for (const auto &[k, v] : vars) env_strings.push_back(k + "=" + v);
    std::vector<char *> envp, args;
    for (auto &s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto &s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);

    int in[2], out[2], err[2];
    check(::pipe2(in, O_CLOEXEC) == 0 && ::pipe2(out, O_CLOEXEC) == 0 && ::pipe2(err, O_CLOEXEC) == 0, "pipe");
    started_ = now_s();
    pid_ = ::fork();
    check(pid_ >= 0, "fork");
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        // Start from default dispositions, whatever the test runner did.
        ::signal(SIGINT, SIG_DFL);
        ::signal(SIGHUP, SIG_DFL);
        ::signal(SIGPIPE, SIG_DFL);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    outfd_ = out[0];
    errfd_ = err[0];
}

Child::~Child() {
    if (!exited_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
    }
    for (int fd : {in_, outfd_, errfd_})
        if (fd >= 0) ::close(fd);
}

double Child::elapsed_s() const { return now_s() - started_; }

void Child::write_stdin(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(in_, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        check(n >= 0, "write to the child's stdin");
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void Child::close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
}

void Child::signal(int sig) { ::kill(pid_, sig); }

bool Child::pump(double timeout_s) {
    pollfd fds[2];
    int n = 0;
    if (outfd_ >= 0) fds[n++] = {outfd_, POLLIN, 0};
    if (errfd_ >= 0) fds[n++] = {errfd_, POLLIN, 0};
    if (n == 0) return false;
    int r = ::poll(fds, n, static_cast<int>(timeout_s * 1000));
    if (r <= 0) return true;
    for (int i = 0; i < n; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[8192];
        ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        bool is_out = fds[i].fd == outfd_;
        if (got > 0) {
            if (is_out && first_stdout_s_ < 0) first_stdout_s_ = now_s() - started_;
            (is_out ? out_ : err_).append(buf, static_cast<size_t>(got));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
            ::close(fds[i].fd);
            (is_out ? outfd_ : errfd_) = -1;
        }
    }
    return true;
}

bool Child::wait_for(const std::string &stream, std::string_view needle, double timeout_s) {
    double deadline = now_s() + timeout_s;
    while (stream.find(needle) == std::string::npos) {
        double left = deadline - now_s();
        if (left <= 0 || !pump(std::min(left, 0.2))) return stream.find(needle) != std::string::npos;
    }
    return true;
}

bool Child::wait_for_stdout(std::string_view needle, double timeout_s) { return wait_for(out_, needle, timeout_s); }
bool Child::wait_for_stderr(std::string_view needle, double timeout_s) { return wait_for(err_, needle, timeout_s); }

int Child::wait(double timeout_s) {
    double deadline = now_s() + timeout_s;
    while ((outfd_ >= 0 || errfd_ >= 0) && now_s() < deadline) pump(0.2);
    if (!exited_) {
        for (;;) {
            pid_t r = ::waitpid(pid_, &status_, WNOHANG);
            if (r == pid_) break;
            if (now_s() >= deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status_, 0);
                exited_ = true;
                return -1;
            }
            ::usleep(10000);
        }
        exited_ = true;
    }
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return -1;
}

Result run(const std::vector<std::string> &argv, const EnvChanges &env, const std::string &cwd,
           std::string_view stdin_data, double timeout_s) {
    Child c(argv, env, cwd);
    ::signal(SIGPIPE, SIG_IGN); // a child that exits early must not kill the test with EPIPE
    if (!stdin_data.empty()) {
        try {
            c.write_stdin(stdin_data);
        } catch (const std::exception &) {
        }
    }
    c.close_stdin();
    Result r;
    r.exit_code = c.wait(timeout_s);
    r.out = c.out();
    r.err = c.err();
    return r;
}

} // namespace cli_test
