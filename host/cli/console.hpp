// Everything the CLI prints goes through the Console: each line is passed through the open host's
// redactor (so no secret reaches the terminal, even inside a plugin's error message), and the
// progress bar is erased before a line is written to stderr and redrawn after it.
#pragma once

#include "progress_bar.hpp"

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace llmhost::cli {

class Console {
public:
    using Redactor = std::function<std::string(std::string_view)>;

    static Console &get();

    // Installed by Context::host() once a host is open; empty = print as is.
    void set_redactor(Redactor r);
    std::string redact(std::string_view text) const;

    ProgressBar &progress() { return bar_; }

    void out(std::string_view text);      // stdout, no newline added, flushed
    void out_line(std::string_view line); // stdout + '\n'
    void err_line(std::string_view line); // stderr + '\n' (the bar is kept intact)
    // "error: <message>" and, when given, "hint: <hint>" on stderr.
    void error(std::string_view message, std::string_view hint = {});

private:
    Console();
    mutable std::mutex mu_;
    Redactor redactor_;
    ProgressBar bar_;
};

// Generated text arrives in pieces; a secret could straddle two of them. Secrets never contain
// whitespace, so text is released up to its last whitespace character and redacted in chunks
// that cannot cut a secret in half. The tail after the last whitespace waits for the next piece
// (or flush()). In practice this holds back at most one word.
class RedactingStream {
public:
    explicit RedactingStream(Console &console) : console_(console) {}
    void write(std::string_view piece);
    void flush(); // releases the held-back tail
    ~RedactingStream() { flush(); }

private:
    Console &console_;
    std::string pending_;
};

} // namespace llmhost::cli
