// `llmhost grammar compile|check`: for people who write JSON Schemas, GBNF grammars and regexes
// for structured output. It runs the huggingface engine's constraint library
// (plugins/huggingface/constraint) directly: no provider, no model, no network.
//   compile  says whether the constraint is supported; a refusal names the keyword and its JSON
//            pointer (exit 1), exactly as a request with that schema would be refused;
//   check    walks instances from stdin, one per line, token by token through the matcher with a
//            model's tokenizer, and prints one JSON line per instance, after a compile-time line.
// Exit codes: 0 supported / every instance accepted, 1 compile error / an instance rejected or
// unreadable, 2 usage (missing file, bad tokenizer).
#include "agent_options.hpp"
#include "cli_common.hpp"

#include "llmhost/constraint/constraint.hpp"
#include "llmhost/constraint/tokenizer_vocabulary.hpp"
#include "llmhost/tokenizer/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

namespace llmhost::cli {
namespace {

namespace cst = llmhost::constraint;
// Output keys in the documented order.
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// An instance longer than this is reported as an error line, never buffered whole: stdin is
// whatever the user pipes in.
constexpr std::size_t kMaxLineBytes = 16u << 20;

struct GrammarOptions {
    std::string schema_file;
    std::string grammar_file;
    std::string regex;
    bool compact = false;
    bool json_output = false; // compile --json
    std::string tokenizer;    // check
};

// What to compile, read from the command line once.
struct Source {
    std::string kind; // "schema", "grammar", "regex"
    std::string text;
};

Source load_source(const GrammarOptions &o) {
    const int given = !o.schema_file.empty() + !o.grammar_file.empty() + !o.regex.empty();
    if (given != 1)
        throw UsageError("give exactly one of --schema FILE, --grammar FILE, --regex PATTERN");
    if (!o.schema_file.empty())
        // The text as written: property order is part of what a schema generates.
        return {"schema", load_text_file("--schema", o.schema_file,
                                         "the file holds a JSON Schema (draft-04 to 2020-12)")};
    if (!o.grammar_file.empty()) return {"grammar", load_grammar_file(o.grammar_file)};
    return {"regex", o.regex};
}

std::shared_ptr<const cst::Grammar> compile(const Source &s, bool compact) {
    if (s.kind == "schema") {
        cst::JsonSchemaOptions opt;
        opt.compact = compact;
        return cst::Grammar::from_json_schema(s.text, opt);
    }
    if (s.kind == "grammar") return cst::Grammar::from_gbnf(s.text);
    return cst::Grammar::from_regex(s.text);
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double round1(double v) { return std::round(v * 10.0) / 10.0; }
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

std::string dump(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json compile_error_json(const cst::CompileError &e) {
    return {{"supported", false},
            {"keyword", e.keyword()},
            {"pointer", e.pointer()},
            {"message", e.what()}};
}

int run_compile(const GrammarOptions &o) {
    const Source src = load_source(o);
    const auto t0 = Clock::now();
    try {
        auto g = compile(src, o.compact);
        const double ms = ms_since(t0);
        if (o.json_output)
            std::cout << dump({{"supported", true},
                               {"compile_ms", round3(ms)},
                               {"min_output_bytes", g->min_output_bytes()}})
                      << "\n";
        else
            std::cout << "supported: the " << src.kind << " compiles (" << round3(ms)
                      << " ms; the shortest output is " << g->min_output_bytes() << " bytes)\n";
        return kExitOk;
    } catch (const cst::CompileError &e) {
        if (o.json_output) std::cout << dump(compile_error_json(e)) << "\n";
        std::cerr << "error: not supported: " << e.what() << "\n"
                  << "hint: keyword '" << e.keyword() << "' at "
                  << (src.kind == "schema" ? "JSON pointer '" + e.pointer() + "'"
                                           : "'" + e.pointer() + "'")
                  << "; docs/structured-output.md lists what is supported\n";
        return kExitFailure;
    }
}

// The ids that end generation: generation_config.json's eos_token_id when DIR has one, else
// the end tokens of the common chat families found in the vocabulary. They only decide whether
// EOS is in the final mask; acceptance is the matcher's own is_accepting().
std::vector<int32_t> eos_ids(const tok::Tokenizer &tok, const std::string &path) {
    std::vector<int32_t> ids;
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path gen = fs::path(path) / "generation_config.json";
    if (fs::is_directory(path, ec) && fs::file_size(gen, ec) < (1u << 20) && !ec) {
        std::ifstream f(gen);
        std::stringstream text;
        text << f.rdbuf();
        const auto j = nlohmann::json::parse(text.str(), nullptr, false);
        const auto e = j.is_object() ? j.value("eos_token_id", nlohmann::json()) : nlohmann::json();
        for (const auto &v : e.is_array() ? e : nlohmann::json::array({e}))
            if (v.is_number_integer() && v.get<int64_t>() >= 0 &&
                v.get<int64_t>() < static_cast<int64_t>(tok.vocab_size()))
                ids.push_back(v.get<int32_t>());
    }
    if (ids.empty())
        for (const char *name : {"<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|im_end|>",
                                 "<|endoftext|>", "</s>", "<eos>", "<end_of_turn>"})
            if (auto id = tok.token_to_id(name)) ids.push_back(*id);
    return ids;
}

tok::Tokenizer load_tokenizer(const std::string &path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw UsageError("--tokenizer " + path + ": does not exist",
                         "give a model directory with a tokenizer.json, or the file itself");
    try {
        return tok::Tokenizer::from_file(path);
    } catch (const std::exception &e) {
        throw UsageError("--tokenizer " + path + ": " + e.what(),
                         "give a model directory with a tokenizer.json, or the file itself");
    }
}

// Reads one line (without '\n'; a trailing '\r' is dropped). False at the end of input. A line
// longer than kMaxLineBytes is consumed and returned empty with `too_long` set.
bool read_line(std::istream &in, std::string &line, bool &too_long) {
    line.clear();
    too_long = false;
    bool any = false;
    for (int c; (c = in.get()) != EOF;) {
        any = true;
        if (c == '\n') break;
        if (line.size() >= kMaxLineBytes) {
            too_long = true;
            line.clear();
            in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
            return true;
        }
        line.push_back(static_cast<char>(c));
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return any;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

// Walks one instance: per token, the mask (timed) and the advance. Returns the report line.
json walk(cst::Matcher &m, const tok::Tokenizer &tok, const cst::TokenVocabulary &vocab,
          const std::string &text) {
    const std::vector<int32_t> ids = tok.encode(text, false);
    std::vector<uint32_t> mask(cst::mask_words(vocab.size()));
    std::vector<double> us;
    us.reserve(ids.size() + 1);
    m.reset();
    json rejected_at = nullptr;
    for (std::size_t k = 0; k < ids.size(); ++k) {
        const auto t0 = Clock::now();
        m.fill_mask(mask);
        const bool ok = cst::mask_test(mask, ids[k]) && m.advance(ids[k]);
        us.push_back(ms_since(t0) * 1000.0);
        if (!ok) {
            rejected_at = k;
            break;
        }
    }
    if (rejected_at.is_null()) {
        // The end: EOS must be allowed here, which is the last mask the engine computes.
        const auto t0 = Clock::now();
        m.fill_mask(mask);
        us.push_back(ms_since(t0) * 1000.0);
        if (!m.is_accepting())
            rejected_at = ids.size(); // every token fitted; the output is unfinished
    }
    return {{"accepted", rejected_at.is_null()},
            {"rejected_at_token", rejected_at},
            {"tokens", ids.size()},
            {"mask_us_p50", round1(percentile(us, 0.5))},
            {"mask_us_max", round1(us.empty() ? 0 : *std::max_element(us.begin(), us.end()))}};
}

int run_check(const GrammarOptions &o) {
    const Source src = load_source(o);
    auto t0 = Clock::now();
    tok::Tokenizer tok = load_tokenizer(o.tokenizer);
    const auto vocab = cst::vocabulary_from_tokenizer(tok, eos_ids(tok, o.tokenizer));
    const double tokenizer_ms = ms_since(t0);

    t0 = Clock::now();
    std::shared_ptr<const cst::Constraint> constraint;
    try {
        // Compile and bind to the vocabulary: everything before the first mask (MaskBench's TTFM).
        constraint = cst::Constraint::create(compile(src, o.compact), vocab);
    } catch (const cst::CompileError &e) {
        std::cout << dump(compile_error_json(e)) << "\n";
        std::cerr << "error: not supported: " << e.what() << "\n";
        return kExitFailure;
    }
    std::cout << dump({{"compile_ms", round3(ms_since(t0))},
                       {"tokenizer_ms", round3(tokenizer_ms)},
                       {"vocab_size", vocab->size()}})
              << std::endl;

    cst::Matcher matcher(constraint);
    int exit_code = kExitOk;
    std::string line;
    bool too_long = false;
    for (std::size_t n = 1; read_line(std::cin, line, too_long); ++n) {
        json out;
        if (too_long) {
            out = {{"line", n}, {"error", "longer than 16 MiB; not checked"}};
        } else if (src.kind == "schema" && !nlohmann::json::accept(line)) {
            out = {{"line", n}, {"error", "not a JSON text; not checked"}};
        } else {
            // Walked as written (not re-serialized): the bytes a model would have to produce.
            try {
                out = walk(matcher, tok, *vocab, line);
            } catch (const std::exception &e) { // e.g. bytes the tokenizer cannot encode
                out = {{"line", n}, {"error", std::string("not checked: ") + e.what()}};
            }
        }
        if (!out.contains("accepted") || !out["accepted"].get<bool>()) exit_code = kExitFailure;
        std::cout << dump(out) << std::endl; // a line per instance as it is done, for pipes
    }
    return exit_code;
}

void add_source_options(CLI::App *cmd, GrammarOptions &o) {
    auto *schema =
        cmd->add_option("--schema", o.schema_file, "A JSON Schema file")->option_text("FILE");
    auto *grammar = cmd->add_option("--grammar", o.grammar_file,
                                    "A llama.cpp GBNF grammar file (root rule \"root\")")
                        ->option_text("FILE")
                        ->excludes(schema);
    cmd->add_option("--regex", o.regex, "A regular expression the whole output must match")
        ->option_text("PATTERN")
        ->excludes(schema)
        ->excludes(grammar);
    cmd->add_flag("--compact", o.compact,
                  "JSON Schema: no whitespace between JSON tokens (default: as JSON allows)");
}

void register_grammar_commands(CLI::App &app, Context &ctx) {
    auto opts = std::make_shared<GrammarOptions>();
    auto *grp = app.add_subcommand(
        "grammar", "Check JSON Schemas, GBNF grammars and regexes for structured output");
    grp->require_subcommand(1);

    auto *comp = grp->add_subcommand(
        "compile", "Say whether a schema, grammar or regex is supported (exit 1 if not)");
    add_source_options(comp, *opts);
    comp->add_flag("--json", opts->json_output,
                   "Print {\"supported\", \"keyword\", \"pointer\", \"message\"} as JSON");
    comp->footer("Examples:\n"
                 "  llmhost grammar compile --schema person.json\n"
                 "  llmhost grammar compile --regex '[0-9]{3}-[0-9]{4}'\n"
                 "An unsupported keyword is named with its JSON pointer, e.g.\n"
                 "  error: not supported: /properties/tags/uniqueItems: uniqueItems: keyword not "
                 "supported");
    comp->callback([opts, &ctx] { ctx.exit_code = run_compile(*opts); });

    auto *chk = grp->add_subcommand(
        "check", "Walk instances (stdin, one per line) through the matcher with a tokenizer");
    add_source_options(chk, *opts);
    chk->add_option("--tokenizer", opts->tokenizer, "A model directory or its tokenizer.json")
        ->option_text("DIR_OR_JSON")
        ->required();
    chk->footer(
        "With --schema each line is a JSON instance; with --grammar or --regex each line is the\n"
        "text itself. Each is walked as written, token by token. Output: a compile-time line,\n"
        "then per instance {\"accepted\", \"rejected_at_token\", \"tokens\", \"mask_us_p50\",\n"
        "\"mask_us_max\"} (rejected_at_token = tokens: every token fitted but the output is\n"
        "unfinished); a line that cannot be checked gives {\"line\", \"error\"}.\n"
        "Example:\n"
        "  llmhost grammar check --schema person.json --tokenizer ~/models/Llama-3.2-1B < "
        "people.jsonl");
    chk->callback([opts, &ctx] { ctx.exit_code = run_check(*opts); });
}

} // namespace
} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(grammar, llmhost::cli::register_grammar_commands)
