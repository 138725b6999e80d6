// `llmhost chat`: an interactive conversation. The history is kept as messages (system, user,
// assistant, ...) and sent whole on every turn. Lines come from stdin, so a pipe works as well as
// a terminal. Ctrl-C stops the answer being generated, not the program; SIGHUP re-reads the
// configuration between turns (a live provider swap), and says so on stderr.
// --tools FILE lets the model call functions: the CLI cannot run them, so it shows each call
// ("→ get_weather({...})") and takes the result from --tool-results FILE or, failing that, from
// the next input line, sends it back as a tool message and lets the model continue.
#include "agent_options.hpp"
#include "cli_common.hpp"
#include "console.hpp"
#include "signals.hpp"

#include <llmhost/host.hpp>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

namespace llmhost::cli {

namespace {

struct ChatOptions {
    std::string system;
    SamplingOptions sampling;
    std::string tools_file;
    std::string tool_results_file;
    std::string reasoning;
};

// A model that keeps calling tools without answering is stopped after this many rounds.
constexpr int kMaxToolRounds = 8;

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
            switch (signals::read_input(buf_)) {
            case signals::Input::data: break;
            case signals::Input::end: eof_ = true; break;
            case signals::Input::signal: return Event::signal;
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
        // Bad files are usage errors, reported before anything else happens.
        if (!opt.tools_file.empty()) tools_ = load_tools_file(opt.tools_file);
        if (!opt.tool_results_file.empty()) {
            if (tools_.empty())
                throw UsageError("--tool-results needs --tools",
                                 "give the tools the model may call");
            tool_results_ = load_tool_results_file(opt.tool_results_file);
        }
        reset();
    }

    int run() {
        Host &host = ctx_.host();
        if (interactive_) {
            std::string provider =
                ctx_.provider_override.empty() ? host.default_provider() : ctx_.provider_override;
            console_.err_line("llmhost chat with provider '" + provider +
                              "'. /reset clears the history, /exit quits; Ctrl-C stops an answer.");
        }
        bool interrupted_at_prompt = false;
        LineReader &reader = reader_;
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
            if (text == "/reload") { // what SIGHUP does, also where there is no SIGHUP (Windows)
                reload();
                continue;
            }
            if (text == "/help") {
                console_.err_line("/reset  clear the history\n/exit   quit (also /quit, Ctrl-D)\n"
                                  "/reload re-read the configuration (also: kill -HUP <pid>)\n"
                                  "Ctrl-C  stop the answer being generated\n"
                                  "With --tools: after a call (→ name(args)) type its result");
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
        if (!opt_.system.empty()) history_.push_back({"system", opt_.system, "", "", {}, ""});
    }

    void reload() {
        Host &host = ctx_.host();
        try {
            host.reload();
            std::string path = host.config_path();
            console_.err_line(
                "llmhost: configuration reloaded" +
                (path.empty() ? std::string(" (environment only)") : " from " + path));
        } catch (const HostError &e) {
            console_.error(std::string("configuration reload failed: ") + e.what(),
                           e.hint().empty() ? "the previous providers keep serving" : e.hint());
        }
    }

    // One user message, then as many model rounds as its tool calls need. On any failure the
    // history goes back to what it was before the message: a half-done turn is not kept.
    void turn(Host &host, const std::string &text) {
        const size_t mark = history_.size();
        history_.push_back({"user", text, "", "", {}, ""});
        for (int round = 0;; ++round) {
            if (round == kMaxToolRounds) {
                console_.error("the model called tools " + std::to_string(kMaxToolRounds) +
                                   " times in a row without answering; this turn stops here",
                               "ask again, or check what the tool results say");
                history_.resize(mark);
                return;
            }
            auto result = ask(host);
            if (!result) {
                history_.resize(mark);
                return;
            }
            history_.push_back({"assistant", result->text, "", "", result->tool_calls, ""});
            if (result->finish_reason != LLMH_FINISH_TOOL_CALLS || result->tool_calls.empty())
                return;
            for (const auto &call : result->tool_calls) {
                console_.out_line("→ " + describe_call(call));
                auto content = tool_result(call);
                if (!content) {
                    history_.resize(mark);
                    return;
                }
                history_.push_back({"tool", *content, call.name, call.id, {}, ""});
            }
        }
    }

    // The result of a call: from --tool-results, else the next input line. nullopt: none came.
    std::optional<std::string> tool_result(const ToolCall &call) {
        if (auto it = tool_results_.find(call.name); it != tool_results_.end()) {
            console_.out_line("← " + it->second);
            return it->second;
        }
        for (;;) {
            if (interactive_) console_.out("result of " + call.name + "> ");
            std::string line;
            auto ev = reader_.next(line);
            if (ev == LineReader::Event::line) return line;
            if (ev == LineReader::Event::end_of_input) {
                console_.error("no result for the call of " + call.name + ": the input ended",
                               "type the tool's result on the line after the call, or give "
                               "--tool-results FILE");
                return std::nullopt;
            }
            if (signals::take_interrupt()) {
                console_.err_line("\n(turn cancelled; it is not kept in the history)");
                return std::nullopt;
            }
        }
    }

    // One request with the whole history; the answer streams to stdout, reasoning to stderr.
    std::optional<GenerateResult> ask(Host &host) {
        GenerateRequest request;
        request.messages = history_;
        request.tools = tools_;
        opt_.sampling.apply_to(request);
        apply_reasoning(opt_.reasoning, request);
        request.should_cancel = [] { return signals::interrupt_pending(); };
        RedactingStream stream(console_);
        ReasoningPrinter thinking(console_);
        request.on_event = [&](const Event &e) {
            if (e.type == LLMH_EVENT_REASONING)
                thinking.write(e.text);
            else
                thinking.finish();
            return true;
        };
        bool ends_with_newline = true;
        try {
            auto result = host.generate(ctx_.provider_override, request,
                                        [&](std::string_view piece, uint32_t) {
                                            stream.write(piece);
                                            if (!piece.empty())
                                                ends_with_newline = piece.back() == '\n';
                                            return !signals::interrupt_pending();
                                        });
            thinking.finish();
            stream.flush();
            if (!ends_with_newline) console_.out("\n");
            if (ctx_.verbose) console_.err_line(describe_result(result));
            if (result.finish_reason == LLMH_FINISH_CANCELLED) {
                signals::take_interrupt();
                console_.err_line("(answer cancelled; it is not kept in the history)");
                return std::nullopt;
            }
            return result;
        } catch (const HostError &e) {
            thinking.finish();
            stream.flush();
            if (!ends_with_newline) console_.out("\n");
            signals::take_interrupt();
            console_.error(e.what(), e.hint());
            return std::nullopt; // the failed question is not part of the conversation
        }
    }

    Context &ctx_;
    const ChatOptions &opt_;
    Console &console_;
    bool interactive_;
    LineReader reader_;
    std::vector<Message> history_;
    std::vector<Tool> tools_;
    std::map<std::string, std::string> tool_results_;
};

void register_chat(CLI::App &app, Context &ctx) {
    auto opt = std::make_shared<ChatOptions>();
    auto *cmd = app.add_subcommand("chat", "Chat interactively; the history is kept as messages");
    add_provider_options(cmd, ctx);
    cmd->add_option("--system", opt->system, "System message that starts the conversation")
        ->option_text("TEXT");
    opt->sampling.add_to(cmd);
    cmd->add_option("--tools", opt->tools_file,
                    "Let the model call the functions in FILE (an OpenAI-style tools JSON array)")
        ->option_text("FILE");
    cmd->add_option(
           "--tool-results", opt->tool_results_file,
           "Answer tool calls from FILE ({\"function name\": result, ...}) instead of asking")
        ->option_text("FILE");
    add_reasoning_option(cmd, opt->reasoning);
    cmd->footer(
        "One message per line on stdin (a terminal or a pipe). Commands: /reset, /exit.\n"
        "Ctrl-C stops the current answer; SIGHUP re-reads the configuration between turns.\n"
        "Tools: llmhost cannot run your functions. Each call the model makes is shown as\n"
        "  → get_weather({\"city\": \"Paris\"})\n"
        "and its result is the next input line (or comes from --tool-results, shown as\n"
        "\"← result\"); it goes back as a tool message and the model continues. A provider\n"
        "whose plugin cannot call tools refuses every turn with an error on stderr.");
    cmd->callback([&ctx, opt] { ctx.exit_code = ChatSession(ctx, *opt).run(); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(chat, llmhost::cli::register_chat)
