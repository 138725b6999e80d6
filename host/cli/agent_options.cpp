#include "agent_options.hpp"

#include "cli_common.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace llmhost::cli {

namespace {

// Files given on the command line are small; a huge one is a mistake, not a tools list.
constexpr std::uintmax_t kMaxFileBytes = 16u << 20;

UsageError bad_file(const std::string &flag, const std::string &path, const std::string &what,
                    std::string hint) {
    return UsageError(flag + " " + path + ": " + what, std::move(hint));
}

std::string read_text_file(const std::string &flag, const std::string &path,
                           const std::string &hint) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw bad_file(flag, path, "cannot read it: " + ec.message(), hint);
    if (size > kMaxFileBytes) throw bad_file(flag, path, "is larger than 16 MiB", hint);
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw bad_file(flag, path, std::string("cannot open it: ") + std::strerror(errno), hint);
    std::stringstream text;
    text << f.rdbuf();
    return text.str();
}

// Ordered: a schema's member order is the order guided decoding writes properties in.
nlohmann::ordered_json read_json_file(const std::string &flag, const std::string &path,
                                      const std::string &hint) {
    const std::string text = read_text_file(flag, path, hint);
    try {
        return nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::parse_error &e) {
        // The position only: the file's text may hold anything.
        throw bad_file(flag, path, "is not valid JSON (at byte " + std::to_string(e.byte) + ")",
                       hint);
    }
}

const char *kToolsHint =
    "the file holds an OpenAI-style tools array: [{\"type\": \"function\", \"function\": "
    "{\"name\": \"get_weather\", \"description\": \"...\", \"parameters\": {\"type\": \"object\", "
    "\"properties\": {...}}}}]";

} // namespace

void add_reasoning_option(CLI::App *cmd, std::string &mode) {
    cmd->add_option(
           "--reasoning", mode,
           "Reasoning (thinking) before the answer: on, off, low, medium or high; shown on "
           "stderr as [thinking] lines (default: the model's own)")
        ->option_text("MODE")
        ->check(CLI::IsMember({"default", "on", "off", "low", "medium", "high"}));
}

void apply_reasoning(const std::string &mode, GenerateRequest &request) {
    if (mode == "on")
        request.reasoning = LLMH_REASONING_ON;
    else if (mode == "off")
        request.reasoning = LLMH_REASONING_OFF;
    else if (mode == "low" || mode == "medium" || mode == "high") {
        request.reasoning = LLMH_REASONING_ON;
        request.reasoning_effort = mode;
    }
}

std::vector<Tool> load_tools_file(const std::string &path) {
    const auto j = read_json_file("--tools", path, kToolsHint);
    if (!j.is_array()) throw bad_file("--tools", path, "is not a JSON array of tools", kToolsHint);
    std::vector<Tool> tools;
    for (size_t i = 0; i < j.size(); ++i) {
        const auto &t = j[i];
        const std::string where = "tools[" + std::to_string(i) + "]";
        if (!t.is_object() || !t.contains("function") || !t["function"].is_object() ||
            (t.contains("type") && t["type"] != "function"))
            throw bad_file("--tools", path,
                           where + " is not {\"type\": \"function\", \"function\": {...}}",
                           kToolsHint);
        const auto &f = t["function"];
        if (!f.contains("name") || !f["name"].is_string())
            throw bad_file("--tools", path, where + ".function.name is missing or not a string",
                           kToolsHint);
        Tool out;
        out.name = f["name"].get<std::string>();
        if (f.contains("description")) {
            if (!f["description"].is_string())
                throw bad_file("--tools", path, where + ".function.description is not a string",
                               kToolsHint);
            out.description = f["description"].get<std::string>();
        }
        if (f.contains("parameters") && !f["parameters"].is_null()) {
            if (!f["parameters"].is_object())
                throw bad_file("--tools", path,
                               where + ".function.parameters is not a JSON Schema object",
                               kToolsHint);
            out.parameters_json = f["parameters"].dump();
        }
        if (f.contains("strict") && !f["strict"].is_null()) {
            if (!f["strict"].is_boolean())
                throw bad_file("--tools", path, where + ".function.strict is not a boolean",
                               kToolsHint);
            out.strict = f["strict"].get<bool>();
        }
        tools.push_back(std::move(out));
    }
    if (tools.empty()) throw bad_file("--tools", path, "holds no tool", kToolsHint);
    return tools; // names, duplicates and schemas are checked by the host, as for every caller
}

std::map<std::string, std::string> load_tool_results_file(const std::string &path) {
    const char *hint =
        "the file maps function names to results: {\"get_weather\": \"sunny, 21 C\"}";
    const auto j = read_json_file("--tool-results", path, hint);
    if (!j.is_object()) throw bad_file("--tool-results", path, "is not a JSON object", hint);
    std::map<std::string, std::string> out;
    for (const auto &[name, value] : j.items())
        out[name] =
            value.is_string()
                ? value.get<std::string>()
                : value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    return out;
}

ResponseFormat load_json_schema_file(const std::string &path) {
    const char *hint = "the file holds a JSON Schema object, or {\"name\": ..., \"schema\": {...}}";
    const auto j = read_json_file("--json-schema", path, hint);
    if (!j.is_object()) throw bad_file("--json-schema", path, "is not a JSON object", hint);
    nlohmann::ordered_json spec;
    if (j.contains("schema") && j.contains("name")) {
        spec = j; // OpenAI's json_schema object
    } else {
        std::string name = std::filesystem::path(path).stem().string();
        for (char &c : name)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
        if (name.empty()) name = "schema";
        spec = {{"name", name.substr(0, 64)}, {"schema", j}};
    }
    try {
        ResponseFormat f = response_format_from_openai(
            nlohmann::json{{"type", "json_schema"}, {"json_schema", nlohmann::json(spec)}});
        // The host's mapping read sorted members; the schema keeps the file's order.
        if (spec["schema"].is_object()) f.schema_json = spec["schema"].dump();
        return f;
    } catch (const HostError &e) {
        throw bad_file("--json-schema", path, e.what(), hint);
    }
}

std::string load_text_file(const std::string &flag, const std::string &path,
                           const std::string &hint) {
    return read_text_file(flag, path, hint);
}

std::string load_grammar_file(const std::string &path) {
    const char *hint = "the file holds a llama.cpp GBNF grammar, e.g. root ::= \"yes\" | \"no\"";
    std::string text = read_text_file("--grammar", path, hint);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw bad_file("--grammar", path, "is empty", hint);
    if (text.find('\0') != std::string::npos)
        throw bad_file("--grammar", path, "contains a NUL byte: not a text file", hint);
    // The grammar travels as JSON text in serve and as UTF-8 everywhere: refuse other bytes here.
    try {
        (void)nlohmann::json(text).dump();
    } catch (const nlohmann::json::type_error &) {
        throw bad_file("--grammar", path, "is not valid UTF-8", hint);
    }
    return text;
}

std::string describe_call(const ToolCall &call) { return call.name + "(" + call.arguments + ")"; }

void ReasoningPrinter::write(std::string_view piece) {
    line_.append(piece);
    for (size_t nl; (nl = line_.find('\n')) != std::string::npos;) {
        console_.err_line("[thinking] " + line_.substr(0, nl));
        line_.erase(0, nl + 1);
    }
}

void ReasoningPrinter::finish() {
    if (!line_.empty()) console_.err_line("[thinking] " + line_);
    line_.clear();
}

} // namespace llmhost::cli
