// `llmhost chat`: an interactive conversation. The history is kept as messages (system, user,
// assistant, ...) and sent whole on every turn. Lines come from stdin, so a pipe works as well as
// a terminal. Ctrl-C stops the answer being generated, not the program; SIGHUP re-reads the
// configuration between turns (a live provider swap), and says so on stderr.
#include "cli_common.hpp"
#include "console.hpp"
#include "signals.hpp"

#include <llmhost/host.hpp>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <unistd.h>

namespace llmhost::cli {

namespace {

struct ChatOptions {
    std::string system;
    SamplingOptions sampling;
};

// Reads stdin line by line, but returns early when a signal arrives, so the chat can reload
// its configuration while it waits for the user.
class LineReader {
public:
    enum class Event { line, end_of_input, signal };

    Event next(std::string &line) {
        for (;;) {
            if (auto nl = buf_.find('\n'); nl != std::string::npos) {
                line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                return Event::line;
            }
            if (eof_) {
                if (buf_.empty()) return Event::end_of_input;
                line.swap(buf_);
                buf_.clear();
                return Event::line;
            }
            pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signals::wakeup_fd(), POLLIN, 0}};
            int n = ::poll(fds, fds[1].fd >= 0 ? 2 : 1, -1);
            if (n < 0) {
                if (errno == EINTR) return Event::signal;
                throw std::runtime_error(std::string("cannot wait for input: ") + std::strerror(errno));
            }
            if (fds[1].fd >= 0 && (fds[1].revents & POLLIN)) {
                signals::drain_wakeups();
                return Event::signal;
            }
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                char chunk[4096];
                ssize_t got = ::read(STDIN_FILENO, chunk, sizeof chunk);
                if (got > 0) buf_.append(chunk, static_cast<size_t>(got));
                else if (got == 0) eof_ = true;
                else if (errno != EINTR && errno != EAGAIN)
                    throw std::runtime_error(std::string("cannot read stdin: ") + std::strerror(errno));
            }
        }
    }

private:
    std::string buf_;
    bool eof_ = false;
};

class ChatSession {
public:
    ChatSession(Context &ctx, const ChatOptions &opt)
        : ctx_(ctx), opt_(opt), console_(Console::get()), interactive_(stdin_is_terminal()) {
        reset();
    }

    int run() {
        Host &host = ctx_.host();
        if (interactive_) {
            std::string provider = ctx_.provider_override.empty() ? host.default_provider()
                                                                  : ctx_.provider_override;
            console_.err_line("llmhost chat with provider '" + provider +
                              "'. /reset clears the history, /exit quits; Ctrl-C stops an answer.");
        }
        bool interrupted_at_prompt = false;
        LineReader reader;
        for (;;) {
            if (signals::take_reload()) reload();
            if (interactive_) console_.out("> ");
            std::string line;
            auto ev = reader.next(line);
            if (ev == LineReader::Event::signal) {
                if (signals::take_interrupt()) {
                    if (interrupted_at_prompt) return kExitCancelled; // twice in a row: leave
                    interrupted_at_prompt = true;
                    console_.err_line("\n(Ctrl-C again, /exit or Ctrl-D to quit)");
                }
                if (interactive_ && !signals::interrupt_pending()) console_.out("\n");
                continue;
            }
            interrupted_at_prompt = false;
            if (ev == LineReader::Event::end_of_input) {
                if (interactive_) console_.out("\n");
                return kExitOk;
            }
            std::string text = trim(line);
            if (text.empty()) continue;
            if (text == "/exit" || text == "/quit") return kExitOk;
            if (text == "/reset") {
                reset();
                console_.err_line("(history cleared)");
                continue;
            }
            if (text == "/help") {
                console_.err_line("/reset  clear the history\n/exit   quit (also /quit, Ctrl-D)\n"
                                  "Ctrl-C  stop the answer being generated\n"
                                  "kill -HUP <pid>  re-read the configuration between turns");
                continue;
            }
            turn(host, text);
        }
    }

private:
    static std::string trim(const std::string &s) {
        size_t b = s.find_first_not_of(" \t");
        if (b == std::string::npos) return {};
        size_t e = s.find_last_not_of(" \t");
        return s.substr(b, e - b + 1);
    }

    void reset() {
        history_.clear();
        if (!opt_.system.empty()) history_.push_back({"system", opt_.system});
    }

    void reload() {
        Host &host = ctx_.host();
        try {
            host.reload();
            std::string path = host.config_path();
            console_.err_line("llmhost: configuration reloaded" +
                              (path.empty() ? std::string(" (environment only)") : " from " + path));
        } catch (const HostError &e) {
            console_.error(std::string("configuration reload failed: ") + e.what(),
                           e.hint().empty() ? "the previous providers keep serving" : e.hint());
        }
    }

    void turn(Host &host, const std::string &text) {
        history_.push_back({"user", text});
        GenerateRequest request;
        request.messages = history_;
        opt_.sampling.apply_to(request);
        request.should_cancel = [] { return signals::interrupt_pending(); };
        RedactingStream stream(console_);
        bool ends_with_newline = true;
        try {
            auto result = host.generate(ctx_.provider_override, request, [&](std::string_view piece, uint32_t) {
                stream.write(piece);
                if (!piece.empty()) ends_with_newline = piece.back() == '\n';
                return !signals::interrupt_pending();
            });
            stream.flush();
            if (!ends_with_newline) console_.out("\n");
            if (ctx_.verbose) console_.err_line(describe_result(result));
            if (result.finish_reason == LLMH_FINISH_CANCELLED) {
                signals::take_interrupt();
                console_.err_line("(answer cancelled; it is not kept in the history)");
                history_.pop_back();
                return;
            }
            history_.push_back({"assistant", result.text});
        } catch (const HostError &e) {
            stream.flush();
            if (!ends_with_newline) console_.out("\n");
            signals::take_interrupt();
            console_.error(e.what(), e.hint());
            history_.pop_back(); // the failed question is not part of the conversation
        }
    }

    Context &ctx_;
    const ChatOptions &opt_;
    Console &console_;
    bool interactive_;
    std::vector<Message> history_;
};

void register_chat(CLI::App &app, Context &ctx) {
    auto opt = std::make_shared<ChatOptions>();
    auto *cmd = app.add_subcommand("chat", "Chat interactively; the history is kept as messages");
    add_provider_options(cmd, ctx);
    cmd->add_option("--system", opt->system, "System message that starts the conversation")
        ->option_text("TEXT");
    opt->sampling.add_to(cmd);
    cmd->footer("One message per line on stdin (a terminal or a pipe). Commands: /reset, /exit.\n"
                "Ctrl-C stops the current answer; SIGHUP re-reads the configuration between turns.");
    cmd->callback([&ctx, opt] { ctx.exit_code = ChatSession(ctx, *opt).run(); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(chat, llmhost::cli::register_chat)
