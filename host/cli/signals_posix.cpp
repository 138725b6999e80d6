#include "signals.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <unistd.h>

namespace llmhost::cli::signals {

namespace {
std::atomic<int> g_interrupts{0};
std::atomic<int> g_reloads{0};
// Self-pipe: readable after any handled signal, so poll() wakes up on input or signal alike.
int g_pipe[2] = {-1, -1};
std::atomic<bool> g_installed{false};

void on_signal(int sig) {
    int saved = errno; // a handler must not clobber errno of the interrupted code
    if (sig == SIGINT) g_interrupts.fetch_add(1);
    if (sig == SIGHUP) g_reloads.fetch_add(1);
    if (g_pipe[1] >= 0) {
        char c = 1;
        [[maybe_unused]] auto n =
            ::write(g_pipe[1], &c, 1); // full pipe: a wakeup is pending anyway
    }
    errno = saved;
}

void drain_wakeups() {
    if (g_pipe[0] < 0) return;
    char buf[64];
    while (::read(g_pipe[0], buf, sizeof buf) > 0) {}
}
} // namespace

void install() {
    if (g_installed.exchange(true)) return;
    if (::pipe(g_pipe) == 0) {
        for (int fd : g_pipe) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: poll()/read() return EINTR so the caller can react
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
}

bool take_interrupt() { return g_interrupts.exchange(0) > 0; }

bool interrupt_pending() { return g_interrupts.load() > 0; }

bool take_reload() { return g_reloads.exchange(0) > 0; }

Input read_input(std::string &out) {
    for (;;) {
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {g_pipe[0], POLLIN, 0}};
        int n = ::poll(fds, fds[1].fd >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR) return Input::signal;
            throw std::runtime_error(std::string("cannot wait for input: ") + std::strerror(errno));
        }
        if (fds[1].fd >= 0 && (fds[1].revents & POLLIN)) {
            drain_wakeups();
            return Input::signal;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[65536];
            ssize_t got = ::read(STDIN_FILENO, chunk, sizeof chunk);
            if (got > 0) {
                out.append(chunk, static_cast<size_t>(got));
                return Input::data;
            }
            if (got == 0) return Input::end;
            if (errno == EINTR) return Input::signal;
            if (errno != EAGAIN)
                throw std::runtime_error(std::string("cannot read stdin: ") + std::strerror(errno));
        }
    }
}

} // namespace llmhost::cli::signals
