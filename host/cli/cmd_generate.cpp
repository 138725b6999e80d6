// `llmhost generate [PROMPT]`: one completion, streamed to stdout as tokens arrive. The prompt is
// the argument, or all of stdin when there is none. With -v, usage and timings go to stderr.
#include "cli_common.hpp"
#include "console.hpp"
#include "signals.hpp"

#include <llmhost/host.hpp>

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace llmhost::cli {

namespace {

struct GenerateOptions {
    std::vector<std::string> prompt_words; // unquoted words are joined with spaces
    std::string system;
    SamplingOptions sampling;
};

std::string read_all_stdin() {
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n > 0) {
            text.append(buf, static_cast<size_t>(n));
        } else if (n == 0) {
            break;
        } else if (errno == EINTR) {
            if (signals::take_interrupt()) throw HostError(LLMH_ERR_CANCELLED, "interrupted while reading the prompt");
        } else {
            throw std::runtime_error(std::string("cannot read the prompt from stdin: ") + std::strerror(errno));
        }
    }
    // A shell pipe adds a trailing newline the user did not mean as part of the prompt.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

void run_generate(Context &ctx, GenerateOptions &opt) {
    std::string prompt;
    for (const auto &w : opt.prompt_words) prompt += (prompt.empty() ? "" : " ") + w;
    if (prompt.empty()) {
        if (stdin_is_terminal())
            Console::get().err_line("reading the prompt from stdin; end it with Ctrl-D");
        prompt = read_all_stdin();
        if (prompt.empty())
            throw UsageError("no prompt: stdin was empty",
                             "give the prompt as an argument (llmhost generate \"...\") or pipe it in");
    }
    Host &host = ctx.host();

    GenerateRequest request;
    if (opt.system.empty()) {
        request.prompt = prompt;
    } else {
        request.messages = {{"system", opt.system}, {"user", prompt}};
    }
    opt.sampling.apply_to(request);
    request.should_cancel = [] { return signals::interrupt_pending(); };

    Console &console = Console::get();
    RedactingStream stream(console);
    bool ends_with_newline = true;
    auto result = host.generate(ctx.provider_override, request, [&](std::string_view piece, uint32_t) {
        stream.write(piece);
        if (!piece.empty()) ends_with_newline = piece.back() == '\n';
        return !signals::interrupt_pending();
    });
    stream.flush();
    if (!ends_with_newline) console.out("\n");

    if (ctx.verbose) console.err_line(describe_result(result));
    if (result.finish_reason == LLMH_FINISH_CANCELLED) {
        console.err_line("cancelled");
        ctx.exit_code = kExitCancelled;
    }
}

void register_generate(CLI::App &app, Context &ctx) {
    auto opt = std::make_shared<GenerateOptions>();
    auto *cmd = app.add_subcommand("generate", "Generate text from a prompt, streamed to stdout");
    add_provider_options(cmd, ctx);
    cmd->add_option("--system", opt->system, "Send a system message and the prompt as a chat")
        ->option_text("TEXT");
    opt->sampling.add_to(cmd);
    cmd->add_option("prompt", opt->prompt_words, "The prompt (default: read stdin)")->option_text("PROMPT");
    cmd->footer("Examples:\n"
                "  llmhost generate \"Once upon a time\"\n"
                "  llmhost generate -p openai -m gpt-4o-mini --max-tokens 100 \"Explain RAII\"\n"
                "  git diff | llmhost generate --system \"Write a commit message for this diff\"");
    cmd->callback([&ctx, opt] { run_generate(ctx, *opt); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(generate, llmhost::cli::register_generate)
