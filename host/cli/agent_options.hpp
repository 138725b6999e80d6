// The agent options of `llmhost chat` and `llmhost generate`: tools from an OpenAI-style JSON
// file (--tools), scripted tool results (--tool-results), structured output (--json,
// --json-schema, --grammar) and reasoning (--reasoning). Files are user input: anything unexpected
// is a UsageError naming the file and what is wrong, never a crash or a silently dropped field.
#pragma once

#include "console.hpp"

#include <llmhost/host.hpp>

#include <CLI/CLI.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::cli {

// --reasoning on|off|low|medium|high (and "default", the same as not giving it).
void add_reasoning_option(CLI::App *cmd, std::string &mode);
void apply_reasoning(const std::string &mode, GenerateRequest &request);

// An OpenAI-style tools array: [{"type": "function", "function": {"name", "description",
// "parameters", "strict"}}, ...].
std::vector<Tool> load_tools_file(const std::string &path);

// Scripted tool results: {"<function name>": <result>, ...}; a string result is sent as is,
// any other JSON value as its JSON text.
std::map<std::string, std::string> load_tool_results_file(const std::string &path);

// --json-schema: a JSON Schema object (named after the file), or OpenAI's json_schema object
// {"name": ..., "schema": {...}, "strict": ...}.
ResponseFormat load_json_schema_file(const std::string &path);

// A text file named by `flag` (at most 16 MiB); a UsageError naming flag and path otherwise.
std::string load_text_file(const std::string &flag, const std::string &path,
                           const std::string &hint);

// --grammar: a llama.cpp GBNF grammar file (text, root rule "root"): its whole text, checked to
// be non-empty UTF-8 without NUL bytes. The grammar itself is compiled by the provider (or by
// `llmhost grammar compile`).
std::string load_grammar_file(const std::string &path);

// "get_weather({"city": "Paris"})" as the CLI shows a tool call.
std::string describe_call(const ToolCall &call);

// Prints reasoning events on stderr, "[thinking] " before each line, as they arrive (a line is
// released at its newline or at finish()), so that stdout carries only the answer.
class ReasoningPrinter {
public:
    explicit ReasoningPrinter(Console &console) : console_(console) {}
    void write(std::string_view piece);
    void finish();
    ~ReasoningPrinter() { finish(); }

private:
    Console &console_;
    std::string line_;
};

} // namespace llmhost::cli
