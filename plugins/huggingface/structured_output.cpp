// Request -> constraint grammar (see structured_output.hpp).
#include "structured_output.hpp"

#include <nlohmann/json.hpp>

#include <list>
#include <mutex>

namespace llmhost::hf {

using ojson = nlohmann::ordered_json;

namespace {

const char *kSchemaHint = "docs/structured-output.md lists what is supported; `llmhost grammar "
                          "compile --schema FILE` checks a schema offline";

// A tool's parameters are a schema document of their own: its "#/..." references point into
// it. Embedded at `at` inside the call schema, they must point there instead.
void rebase_refs(ojson &j, const std::string &at) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (it.key() == "$ref" && it->is_string()) {
                const std::string ref = it->get<std::string>();
                if (ref == "#" || ref.rfind("#/", 0) == 0) *it = "#" + at + ref.substr(1);
            } else {
                rebase_refs(*it, at);
            }
        }
    } else if (j.is_array()) {
        for (auto &x : j) rebase_refs(x, at);
    }
}

const char *args_key(toolcall::ToolFormat f) {
    return f == toolcall::ToolFormat::llama3_json ? "parameters" : "arguments";
}

ojson one_call(const llmh::Tool &t, toolcall::ToolFormat f, const std::string &at) {
    ojson params = ojson::object();
    if (!t.parameters_json.empty()) {
        try {
            params = ojson::parse(t.parameters_json);
        } catch (const nlohmann::json::exception &) {
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              "huggingface: the parameters of tool \"" + t.name +
                                  "\" are not valid JSON",
                              "send a JSON Schema object as the function's parameters");
        }
    }
    const std::string key = args_key(f);
    rebase_refs(params, at + "/properties/" + key);
    ojson call = {{"type", "object"},
                  {"properties", {{"name", {{"const", t.name}}}, {key, params}}},
                  {"required", {"name", key}},
                  {"additionalProperties", false}};
    return call;
}

// Agents send the same schemas (tools, response formats) on every step of a loop: compiled
// grammars are kept, most recently used first, keyed by the exact text and options. A grammar
// is immutable and shared (constraint.hpp); only the key text is held twice.
class GrammarCache {
public:
    template <class Compile>
    std::shared_ptr<const constraint::Grammar> get(const std::string &key, Compile compile) {
        if (key.size() > kMaxKeyBytes) return compile(); // a huge one-off is not worth keeping
        {
            std::lock_guard lk(mu_);
            for (auto it = entries_.begin(); it != entries_.end(); ++it)
                if (it->first == key) {
                    entries_.splice(entries_.begin(), entries_, it);
                    return entries_.front().second;
                }
        }
        auto g = compile(); // outside the lock: a slow schema does not hold up the others
        std::lock_guard lk(mu_);
        entries_.emplace_front(key, g);
        if (entries_.size() > kEntries) entries_.pop_back();
        return g;
    }

private:
    static constexpr std::size_t kEntries = 64;
    static constexpr std::size_t kMaxKeyBytes = 256 * 1024;
    std::mutex mu_;
    std::list<std::pair<std::string, std::shared_ptr<const constraint::Grammar>>> entries_;
};

GrammarCache &grammar_cache() {
    static GrammarCache c;
    return c;
}

std::string options_key(const constraint::JsonSchemaOptions &o) {
    return std::string(o.compact ? "c" : "w") + std::to_string(o.max_whitespace) +
           (o.ordered_properties ? "o" : "u") + (o.generation ? "g" : "m") +
           std::to_string(o.prefix.size()) + ":" + o.prefix + std::to_string(o.suffix.size()) +
           ":" + o.suffix + "|";
}

std::shared_ptr<const constraint::Grammar> compile_schema(const std::string &schema,
                                                          const constraint::JsonSchemaOptions &o,
                                                          const std::string &what) {
    try {
        return grammar_cache().get("schema|" + options_key(o) + schema, [&] {
            return constraint::Grammar::from_json_schema(schema, o);
        });
    } catch (const constraint::CompileError &e) {
        throw llmh::Error(LLMH_ERR_UNSUPPORTED, "huggingface: " + what + ": " + e.what(),
                          kSchemaHint);
    }
}

// What a model writes: keys in schema order, never twice (a repeated key would be taken by one
// JSON parser and refused by another, and tool-call parsers refuse it); at most one whitespace
// byte between tokens, so `{"a": 1, "b": [2, 3]}` and the compact form both fit, but a model
// cannot spend its budget on runs of blanks (a weak model's favourite tokens: LLGuidance's
// default separators are fixed for the same reason).
constraint::JsonSchemaOptions generation_options() {
    constraint::JsonSchemaOptions o;
    o.ordered_properties = true;
    o.generation = true; // what every validator accepts (ajv as well as Python's jsonschema)
    o.max_whitespace = 1;
    return o;
}

} // namespace

std::string tool_call_schema(const llmh::Request &req, toolcall::ToolFormat format) {
    std::vector<const llmh::Tool *> tools;
    for (const auto &t : req.tools)
        if (req.tool_choice != llmh::ToolChoice::function || t.name == req.tool_choice_name)
            tools.push_back(&t);
    if (tools.size() == 1) return one_call(*tools[0], format, "").dump();
    ojson any = ojson::array();
    for (std::size_t i = 0; i < tools.size(); ++i)
        any.push_back(one_call(*tools[i], format, "/anyOf/" + std::to_string(i)));
    return ojson{{"anyOf", any}}.dump();
}

OutputConstraint output_constraint(const llmh::Request &req, toolcall::ToolFormat tools,
                                   const std::string &model) {
    OutputConstraint out;
    const bool forced_call = req.tool_choice == llmh::ToolChoice::required ||
                             req.tool_choice == llmh::ToolChoice::function;
    const bool callable = !req.tools.empty() && req.tool_choice != llmh::ToolChoice::none;
    if (!req.response_format.is_text()) {
        out.what = req.response_format.type == LLMH_RESPONSE_JSON_OBJECT
                       ? "response_format json_object"
                       : "response_format json_schema";
        if (callable)
            throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                              "huggingface: " + out.what +
                                  " together with callable tools is not supported: the constrained "
                                  "output could then never be a tool call",
                              "send tool_choice \"none\", or drop response_format for this turn");
        if (req.response_format.type == LLMH_RESPONSE_JSON_OBJECT)
            out.grammar = grammar_cache().get(
                "object|", [] { return constraint::Grammar::json_object(generation_options()); });
        else
            out.grammar =
                compile_schema(req.response_format.schema_json, generation_options(), out.what);
        return out;
    }
    // The llmhost extensions: a syntax error in them is the caller's (invalid_argument).
    auto text_grammar = [&](const char *field, const std::string &text, auto compile,
                            const std::string &hint) {
        out.what = field;
        try {
            out.grammar = grammar_cache().get(out.what + "|" + text, [&] { return compile(text); });
        } catch (const constraint::CompileError &e) {
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              "huggingface: " + out.what + ": " + e.what(), hint);
        }
        return out;
    };
    if (!req.grammar.empty())
        return text_grammar(
            "grammar", req.grammar,
            [](const std::string &t) { return constraint::Grammar::from_gbnf(t); },
            "send a llama.cpp GBNF grammar with a rule named root; " + std::string(kSchemaHint));
    if (!req.regex.empty())
        return text_grammar(
            "regex", req.regex,
            [](const std::string &t) { return constraint::Grammar::from_regex(t); },
            "docs/structured-output.md lists the regex syntax supported");
    if (forced_call && !req.tools.empty()) {
        out.what = req.tool_choice == llmh::ToolChoice::required
                       ? "tool_choice \"required\""
                       : "tool_choice function \"" + req.tool_choice_name + "\"";
        constraint::JsonSchemaOptions o = generation_options();
        switch (tools) {
        case toolcall::ToolFormat::hermes:
            o.prefix = "<tool_call>\n";
            o.suffix = "\n</tool_call>";
            break;
        case toolcall::ToolFormat::llama3_json: break; // the whole message is the call
        case toolcall::ToolFormat::mistral:
            o.prefix = "[TOOL_CALLS][";
            o.suffix = "]";
            break;
        case toolcall::ToolFormat::none:
            throw llmh::Error(
                LLMH_ERR_UNSUPPORTED,
                "huggingface: " + out.what + " is not supported by model " + model +
                    ": its chat template writes tool calls in no format llmhost reads",
                "use a model trained for tool calling (Qwen2.5/Qwen3, Hermes, Llama "
                "3.1+, Mistral)");
        }
        out.grammar = compile_schema(tool_call_schema(req, tools), o, out.what);
    }
    return out;
}

} // namespace llmhost::hf
