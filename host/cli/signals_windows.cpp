// signals.hpp on Windows: Ctrl-C and Ctrl-Break arrive through SetConsoleCtrlHandler, on a thread
// the system creates; stdin is read by a thread of ours (console handles and pipes cannot be waited
// on alike), and the caller waits for either with WaitForMultipleObjects.
#include "signals.hpp"

#include <windows.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace llmhost::cli::signals {

namespace {
std::atomic<int> g_interrupts{0};
std::atomic<int> g_reloads{0}; // no reload event on Windows: `/reload` in chat instead
std::atomic<bool> g_installed{false};
HANDLE g_signal_event = nullptr; // auto-reset: set once per console event
HANDLE g_data_event = nullptr;   // auto-reset: set when the reader has something new

std::once_flag g_reader_started;
std::mutex g_mu;
std::string g_pending; // read, not yet handed out
bool g_end = false;
std::string g_error;

BOOL WINAPI on_console_event(DWORD type) {
    if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT) return FALSE; // close/logoff: default
    g_interrupts.fetch_add(1);
    if (g_signal_event) SetEvent(g_signal_event);
    return TRUE; // handled: the process keeps running
}

std::string narrow(const wchar_t *wide, DWORD n) {
    if (n == 0) return {};
    int len =
        WideCharToMultiByte(CP_UTF8, 0, wide, static_cast<int>(n), nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<size_t>(len > 0 ? len : 0), '\0');
    if (len > 0)
        WideCharToMultiByte(CP_UTF8, 0, wide, static_cast<int>(n), out.data(), len, nullptr,
                            nullptr);
    return out;
}

void deliver(std::string data, bool end, std::string error = {}) {
    {
        std::lock_guard lock(g_mu);
        g_pending += data;
        g_end = g_end || end;
        if (!error.empty()) g_error = std::move(error);
    }
    SetEvent(g_data_event);
}

// A console is read as UTF-16 (ReadConsoleW), anything else (pipe, file) as bytes.
void reader() {
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode = 0;
    if (GetConsoleMode(in, &mode)) {
        for (;;) {
            wchar_t buf[4096];
            DWORD got = 0;
            if (!ReadConsoleW(in, buf, 4096, &got, nullptr)) {
                if (GetLastError() == ERROR_OPERATION_ABORTED) continue; // Ctrl-C mid-read
                return deliver({}, true,
                               "cannot read the console (Windows error " +
                                   std::to_string(GetLastError()) + ")");
            }
            if (got == 0) continue; // a Ctrl-C interrupted the read: the handler reports it
            if (buf[0] == 0x1A) return deliver({}, true); // Ctrl-Z at a line start: end of input
            deliver(narrow(buf, got), false);
        }
    }
    for (;;) {
        char buf[65536];
        DWORD got = 0;
        if (!ReadFile(in, buf, sizeof buf, &got, nullptr)) {
            DWORD err = GetLastError();
            if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF) return deliver({}, true);
            return deliver({}, true,
                           "cannot read stdin (Windows error " + std::to_string(err) + ")");
        }
        if (got == 0) return deliver({}, true);
        deliver(std::string(buf, got), false);
    }
}
} // namespace

void install() {
    if (g_installed.exchange(true)) return;
    g_signal_event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    g_data_event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    SetConsoleCtrlHandler(on_console_event, TRUE);
}

bool take_interrupt() { return g_interrupts.exchange(0) > 0; }

bool interrupt_pending() { return g_interrupts.load() > 0; }

bool take_reload() { return g_reloads.exchange(0) > 0; }

Input read_input(std::string &out) {
    install();
    // Detached: it may stay blocked in a read until the process exits, which ends it.
    std::call_once(g_reader_started, [] { std::thread(reader).detach(); });
    for (;;) {
        {
            std::lock_guard lock(g_mu);
            if (!g_pending.empty()) {
                out += g_pending;
                g_pending.clear();
                return Input::data;
            }
            if (!g_error.empty()) throw std::runtime_error(g_error);
            if (g_end) return Input::end;
        }
        HANDLE events[2] = {g_signal_event, g_data_event};
        DWORD w = WaitForMultipleObjects(2, events, FALSE, INFINITE);
        if (w == WAIT_OBJECT_0) return Input::signal;
        if (w != WAIT_OBJECT_0 + 1)
            throw std::runtime_error("cannot wait for input (Windows error " +
                                     std::to_string(GetLastError()) + ")");
    }
}

} // namespace llmhost::cli::signals
