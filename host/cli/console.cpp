#include "console.hpp"

#include <cstdio>

namespace llmhost::cli {

namespace {
// A word longer than this without whitespace is released anyway (redacted on its own), so a
// pathological stream cannot grow the buffer without bound.
constexpr size_t kMaxHeldBack = 8192;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
} // namespace

Console &Console::get() {
    static Console console;
    return console;
}

Console::Console() : bar_(stderr, ProgressBar::wanted(stderr)) {
    bar_.set_filter([this](std::string_view s) { return redact(s); });
}

void Console::set_redactor(Redactor r) {
    std::lock_guard lock(mu_);
    redactor_ = std::move(r);
}

std::string Console::redact(std::string_view text) const {
    Redactor r;
    {
        std::lock_guard lock(mu_);
        r = redactor_;
    }
    return r ? r(text) : std::string(text);
}

void Console::out(std::string_view text) {
    std::string s = redact(text);
    bar_.clear();
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    bar_.redraw();
}

void Console::out_line(std::string_view line) {
    std::string s = redact(line);
    s += '\n';
    bar_.clear();
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    bar_.redraw();
}

void Console::err_line(std::string_view line) {
    std::string s = redact(line);
    s += '\n';
    bar_.clear();
    std::fwrite(s.data(), 1, s.size(), stderr);
    std::fflush(stderr);
    bar_.redraw();
}

void Console::error(std::string_view message, std::string_view hint) {
    err_line("error: " + std::string(message));
    if (!hint.empty()) err_line("hint: " + std::string(hint));
}

void RedactingStream::write(std::string_view piece) {
    pending_.append(piece);
    size_t cut = pending_.size();
    while (cut > 0 && !is_space(pending_[cut - 1])) --cut;
    if (cut == 0 && pending_.size() > kMaxHeldBack) cut = pending_.size();
    if (cut == 0) return;
    console_.out(std::string_view(pending_).substr(0, cut));
    pending_.erase(0, cut);
}

void RedactingStream::flush() {
    if (pending_.empty()) return;
    console_.out(pending_);
    pending_.clear();
}

} // namespace llmhost::cli
