// `llmhost generate [PROMPT]`: one completion, streamed to stdout as tokens arrive. The prompt is
// the argument, or all of stdin when there is none. With -v, usage and timings go to stderr.
// --json / --json-schema ask for structured output and print the parsed JSON; --grammar / --regex
// constrain the output (printed as text); --reasoning shows the model's reasoning on stderr.
#include "agent_options.hpp"
#include "cli_common.hpp"
#include "console.hpp"
#include "signals.hpp"

#include <llmhost/host.hpp>

#include <cerrno>
#include <cstring>
#include <optional>

namespace llmhost::cli {

namespace {

struct GenerateOptions {
    std::vector<std::string> prompt_words; // unquoted words are joined with spaces
    std::string system;
    SamplingOptions sampling;
    bool json = false;
    std::string json_schema_file;
    std::string grammar_file;
    std::string regex;
    std::string reasoning;
};

std::string read_all_stdin() {
    std::string text;
    for (;;) {
        signals::Input got;
        try {
            got = signals::read_input(text);
        } catch (const std::exception &e) {
            throw std::runtime_error(std::string("cannot read the prompt: ") + e.what());
        }
        if (got == signals::Input::end) break;
        if (got == signals::Input::signal && signals::take_interrupt())
            throw HostError(LLMH_ERR_CANCELLED, "interrupted while reading the prompt");
    }
    // A shell pipe adds a trailing newline the user did not mean as part of the prompt.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

void run_generate(Context &ctx, GenerateOptions &opt) {
    // A bad schema file is reported before the prompt is read from stdin.
    std::optional<ResponseFormat> schema;
    if (!opt.json_schema_file.empty()) schema = load_json_schema_file(opt.json_schema_file);
    std::string grammar;
    if (!opt.grammar_file.empty()) grammar = load_grammar_file(opt.grammar_file);
    std::string prompt;
    for (const auto &w : opt.prompt_words) prompt += (prompt.empty() ? "" : " ") + w;
    if (prompt.empty()) {
        if (stdin_is_terminal())
            Console::get().err_line("reading the prompt from stdin; end it with Ctrl-D");
        prompt = read_all_stdin();
        if (prompt.empty())
            throw UsageError(
                "no prompt: stdin was empty",
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
    apply_reasoning(opt.reasoning, request);
    const bool structured = opt.json || !opt.json_schema_file.empty();
    if (schema)
        request.response_format = *schema;
    else if (opt.json)
        request.response_format.type = LLMH_RESPONSE_JSON_OBJECT;
    request.grammar = grammar; // streamed as text: a grammar's output need not be JSON
    request.regex = opt.regex;
    request.should_cancel = [] { return signals::interrupt_pending(); };

    Console &console = Console::get();
    ReasoningPrinter thinking(console);
    request.on_event = [&](const Event &e) {
        if (e.type == LLMH_EVENT_REASONING)
            thinking.write(e.text);
        else
            thinking.finish(); // the answer starts: the reasoning's last line first
        return true;
    };
    RedactingStream stream(console);
    bool ends_with_newline = true;
    // Structured output is printed whole once it parses, never half a JSON text.
    auto result =
        host.generate(ctx.provider_override, request, [&](std::string_view piece, uint32_t) {
            if (!structured) stream.write(piece);
            if (!piece.empty()) ends_with_newline = piece.back() == '\n';
            return !signals::interrupt_pending();
        });
    thinking.finish();
    stream.flush();
    if (!structured && !ends_with_newline) console.out("\n");

    if (ctx.verbose) console.err_line(describe_result(result));
    if (result.finish_reason == LLMH_FINISH_CANCELLED) {
        console.err_line("cancelled");
        ctx.exit_code = kExitCancelled;
        return;
    }
    if (structured) {
        // Ordered: printed in the model's (the schema's) member order.
        const auto parsed = nlohmann::ordered_json::parse(result.text, nullptr, false);
        if (parsed.is_discarded()) {
            console.out_line(result.text);
            console.error("the answer is not valid JSON",
                          result.finish_reason == LLMH_FINISH_LENGTH
                              ? "it was cut at --max-tokens: raise it"
                              : "the provider did not keep to the response format");
            ctx.exit_code = kExitFailure;
            return;
        }
        console.out_line(
            parsed.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    }
}

void register_generate(CLI::App &app, Context &ctx) {
    auto opt = std::make_shared<GenerateOptions>();
    auto *cmd = app.add_subcommand("generate", "Generate text from a prompt, streamed to stdout");
    add_provider_options(cmd, ctx);
    cmd->add_option("--system", opt->system, "Send a system message and the prompt as a chat")
        ->option_text("TEXT");
    opt->sampling.add_to(cmd);
    auto *json =
        cmd->add_flag("--json", opt->json,
                      "Ask for a JSON object (response_format json_object) and print it parsed");
    auto *json_schema =
        cmd->add_option(
               "--json-schema", opt->json_schema_file,
               "Ask for JSON matching the JSON Schema in FILE (response_format json_schema)")
            ->option_text("FILE")
            ->excludes(json);
    auto *grammar = cmd->add_option("--grammar", opt->grammar_file,
                                    "Constrain the output to the llama.cpp GBNF grammar in FILE "
                                    "(root rule \"root\")")
                        ->option_text("FILE")
                        ->excludes(json)
                        ->excludes(json_schema);
    cmd->add_option("--regex", opt->regex, "Constrain the whole output to match PATTERN")
        ->option_text("PATTERN")
        ->excludes(json)
        ->excludes(json_schema)
        ->excludes(grammar)
        ->check([](const std::string &v) { return v.empty() ? "--regex needs a pattern" : ""; });
    add_reasoning_option(cmd, opt->reasoning);
    cmd->add_option("prompt", opt->prompt_words, "The prompt (default: read stdin)")
        ->option_text("PROMPT");
    cmd->footer(
        "Examples:\n"
        "  llmhost generate \"Once upon a time\"\n"
        "  llmhost generate -p openai -m gpt-4o-mini --max-tokens 100 \"Explain RAII\"\n"
        "  git diff | llmhost generate --system \"Write a commit message for this diff\"\n"
        "  llmhost generate --json \"List three colours as a JSON object\"\n"
        "  llmhost generate --json-schema person.json --reasoning high \"Invent a person\"\n"
        "  llmhost generate --regex '[0-9]{3}-[0-9]{4}' \"A phone number:\"\n"
        "  llmhost generate --grammar yesno.gbnf \"Is C++ fun?\"\n"
        "A provider whose plugin cannot honour --json, --json-schema, --grammar, --regex or\n"
        "--reasoning refuses the request (exit 1) instead of answering without it.");
    cmd->callback([&ctx, opt] { run_generate(ctx, *opt); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(generate, llmhost::cli::register_generate)
