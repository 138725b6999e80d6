// Signals the CLI reacts to, turned into flags the commands poll (nothing but async-signal-safe
// work happens in the handlers themselves):
//   SIGINT  -> interrupt: cancels the running generation (chat keeps going, generate exits 130)
//   SIGHUP  -> reload: `llmhost chat` re-reads its config between turns
// A self-pipe lets a command that waits for input with poll() wake up on either signal.
#pragma once

namespace llmhost::cli::signals {

// Installs the handlers (idempotent). Without SA_RESTART, so a blocking read returns EINTR.
void install();

// Returns true once per SIGINT received since the last call (test-and-clear).
bool take_interrupt();
// True while a SIGINT is pending, without clearing it (for cancel callbacks).
bool interrupt_pending();
// Returns true once per SIGHUP received since the last call (test-and-clear).
bool take_reload();

// Read end of the self-pipe: readable after any handled signal. drain_wakeups() empties it.
int wakeup_fd();
void drain_wakeups();

} // namespace llmhost::cli::signals
