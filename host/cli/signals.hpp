// Interrupts the CLI reacts to, turned into flags the commands poll (nothing but async-signal-safe
// work happens in the handlers themselves):
//   Ctrl-C  -> interrupt: cancels the running generation (chat keeps going, generate exits 130).
//              SIGINT on Linux; CTRL_C_EVENT/CTRL_BREAK_EVENT (SetConsoleCtrlHandler) on Windows.
//   SIGHUP  -> reload: `llmhost chat` re-reads its config between turns (Linux; Windows has no
//              such signal: `/reload` in chat does the same on every platform).
// read_input() waits for stdin and for those events at once, so a command waiting for the user
// still reacts to them. signals_posix.cpp / signals_windows.cpp.
#pragma once

#include <string>

namespace llmhost::cli::signals {

// Installs the handlers (idempotent).
void install();

// Returns true once per interrupt received since the last call (test-and-clear).
bool take_interrupt();
// True while an interrupt is pending, without clearing it (for cancel callbacks).
bool interrupt_pending();
// Returns true once per reload request received since the last call (test-and-clear).
bool take_reload();

// Waits until stdin has data (appended to `out`: whatever one read returned), stdin is at its end,
// or an interrupt/reload arrives (install() first). Throws std::runtime_error when stdin cannot
// be read.
enum class Input { data, end, signal };
Input read_input(std::string &out);

} // namespace llmhost::cli::signals
