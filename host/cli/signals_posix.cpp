#include "signals.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace llmhost::cli::signals {

namespace {
std::atomic<int> g_interrupts{0};
std::atomic<int> g_reloads{0};
int g_pipe[2] = {-1, -1};
std::atomic<bool> g_installed{false};

void on_signal(int sig) {
    int saved = errno; // a handler must not clobber errno of the interrupted code
    if (sig == SIGINT) g_interrupts.fetch_add(1);
    if (sig == SIGHUP) g_reloads.fetch_add(1);
    if (g_pipe[1] >= 0) {
        char c = 1;
        [[maybe_unused]] auto n = ::write(g_pipe[1], &c, 1); // full pipe: a wakeup is pending anyway
    }
    errno = saved;
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

int wakeup_fd() { return g_pipe[0]; }

void drain_wakeups() {
    if (g_pipe[0] < 0) return;
    char buf[64];
    while (::read(g_pipe[0], buf, sizeof buf) > 0) {
    }
}

} // namespace llmhost::cli::signals
