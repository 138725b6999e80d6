// The chat-only parts of the OpenAI request mapping (request_parser_detail.hpp): the messages,
// with assistant tool calls and tool results, and the tools the model may call. Every malformed
// shape is a 400 naming the exact param ("messages[2].tool_calls[0].function.arguments"):
// hostile input never reaches a provider half-understood.
#include "request_parser_detail.hpp"

#include <algorithm>
#include <set>

namespace llmhost::server::parser_detail {
namespace {

using nlohmann::json;

bool is_string(const json &o, const char *key) { return o.contains(key) && o[key].is_string(); }

// Text of a message's content: a string, null, or an array of text parts.
bool content_text(const json &c, std::string &out, const std::string &param, ApiError &err) {
    if (c.is_null()) return true;
    if (c.is_string()) return out = c.get<std::string>(), true;
    if (!c.is_array())
        return fail(err, "'" + param + "' must be a string or an array of parts", param);
    for (std::size_t k = 0; k < c.size(); ++k) {
        const json &part = c[k];
        const std::string where = param + "[" + std::to_string(k) + "]";
        std::string type =
            part.is_object() && is_string(part, "type") ? part["type"].get<std::string>() : "";
        if (type == "text") {
            if (!is_string(part, "text"))
                return fail(err, where + ".text must be a string", where + ".text");
            out += part["text"].get<std::string>();
        } else if (type == "image_url" || type == "input_audio" || type == "file" ||
                   type == "refusal") {
            return fail(err,
                        "content parts of type '" + type + "' (" + where +
                            ") are not supported by llmhost serve: only text parts",
                        where, "unsupported");
        } else {
            return fail(err, where + " must be a content part {\"type\": \"text\", \"text\": ...}",
                        where);
        }
    }
    return true;
}

// An assistant message's tool_calls: [{id, type: "function", function: {name, arguments}}].
bool read_tool_calls(const json &calls, const std::string &where, Message &msg, ApiError &err) {
    if (!calls.is_array()) return fail(err, where + " must be an array of tool calls", where);
    if (calls.size() > kMaxTools)
        return fail(err, where + " has more than " + std::to_string(kMaxTools) + " tool calls",
                    where);
    for (std::size_t k = 0; k < calls.size(); ++k) {
        const json &c = calls[k];
        const std::string at = where + "[" + std::to_string(k) + "]";
        if (!c.is_object()) return fail(err, at + " must be an object {id, type, function}", at);
        if (!is_string(c, "id") || c["id"].get<std::string>().empty())
            return fail(err, at + ".id must be a non-empty string (the call's id)", at + ".id");
        if (c.contains("type") && !c["type"].is_null() && c["type"] != "function")
            return fail(err, at + ".type must be \"function\"", at + ".type");
        if (!c.contains("function") || !c["function"].is_object())
            return fail(err, at + ".function must be an object {name, arguments}",
                        at + ".function");
        const json &f = c["function"];
        if (!is_string(f, "name") || f["name"].get<std::string>().empty())
            return fail(err, at + ".function.name must be a non-empty string",
                        at + ".function.name");
        if (!is_string(f, "arguments"))
            return fail(err, at + ".function.arguments must be a string (the arguments' JSON text)",
                        at + ".function.arguments");
        msg.tool_calls.push_back({c["id"].get<std::string>(), f["name"].get<std::string>(),
                                  f["arguments"].get<std::string>()});
    }
    return true;
}

bool read_message(const json &m, std::size_t i, GenerateRequest &g, ApiError &err) {
    static const std::vector<std::string> roles = {"system", "developer", "user", "assistant",
                                                   "tool"};
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return fail(err, where + " must be an object", where);
    std::string role = is_string(m, "role") ? m["role"].get<std::string>() : "";
    if (std::find(roles.begin(), roles.end(), role) == roles.end())
        return fail(err, where + ".role must be one of system, developer, user, assistant, tool",
                    where + ".role");
    Message msg;
    msg.role = role == "developer" ? "system" : role;
    for (const auto &[key, value] : m.items()) {
        const std::string at = where + "." + key;
        if (key == "role" || key == "content" || value.is_null()) continue;
        if (key == "name") {
            if (!value.is_string()) return fail(err, at + " must be a string", at);
            msg.name = value.get<std::string>();
        } else if (key == "tool_calls") {
            if (role != "assistant")
                return fail(err, at + ": only assistant messages carry tool_calls", at);
            if (!read_tool_calls(value, at, msg, err)) return false;
        } else if (key == "tool_call_id") {
            if (role != "tool")
                return fail(err, at + ": only tool messages carry tool_call_id", at);
            if (!value.is_string() || value.get<std::string>().empty())
                return fail(err, at + " must be a non-empty string", at);
            msg.tool_call_id = value.get<std::string>();
        } else if (key == "reasoning_content" && role == "assistant") { // vLLM's, sent back
            if (!value.is_string()) return fail(err, at + " must be a string", at);
            msg.reasoning = value.get<std::string>();
        } else if (key == "function_call") {
            return fail(err,
                        at + " (deprecated function calling) is not supported: send tool_calls", at,
                        "unsupported");
        } else if (key == "audio" || key == "refusal") {
            return fail(err,
                        at + " is not supported by llmhost serve (it would be dropped from "
                             "the conversation)",
                        at, "unsupported");
        } else {
            return fail(err, where + " has an unrecognized field '" + key + "'", at,
                        "unknown_parameter");
        }
    }
    if (role == "tool" && msg.tool_call_id.empty())
        return fail(err,
                    where + ".tool_call_id is required on a tool message (the id of the call "
                            "it answers)",
                    where + ".tool_call_id");
    if (auto c = m.find("content"); c != m.end()) {
        if (!content_text(*c, msg.content, where + ".content", err)) return false;
        if (c->is_null() && role != "assistant")
            return fail(err, where + ".content is required", where + ".content");
    } else if (role != "assistant") {
        return fail(err, where + ".content is required", where + ".content");
    }
    g.messages.push_back(std::move(msg));
    return true;
}

// tool_choice: "none" | "auto" | "required" | {"type": "function", "function": {"name"}}.
bool read_tool_choice(const json &tc, const std::set<std::string> &names, GenerateRequest &g,
                      ApiError &err) {
    if (tc.is_string()) {
        const std::string s = tc.get<std::string>();
        if (s == "none")
            g.tool_choice = LLMH_TOOL_CHOICE_NONE;
        else if (s == "auto")
            g.tool_choice = LLMH_TOOL_CHOICE_AUTO;
        else if (s == "required")
            g.tool_choice = LLMH_TOOL_CHOICE_REQUIRED;
        else
            return fail(err,
                        "'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": "
                        "\"function\", \"function\": {\"name\"}}",
                        "tool_choice");
    } else if (tc.is_object() && tc.value("type", json()) == "function" &&
               tc.contains("function") && tc["function"].is_object() &&
               is_string(tc["function"], "name")) {
        g.tool_choice = LLMH_TOOL_CHOICE_FUNCTION;
        g.tool_choice_name = tc["function"]["name"].get<std::string>();
        if (!names.count(g.tool_choice_name))
            return fail(err,
                        "'tool_choice' names the function '" + g.tool_choice_name.substr(0, 64) +
                            "', which is not among the request's tools",
                        "tool_choice.function.name");
    } else {
        return fail(err,
                    "'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": "
                    "\"function\", \"function\": {\"name\"}}",
                    "tool_choice");
    }
    if ((g.tool_choice == LLMH_TOOL_CHOICE_REQUIRED) && names.empty())
        return fail(err, "'tool_choice' \"required\" needs 'tools'", "tool_choice");
    return true;
}

} // namespace

bool read_messages(const json &body, GenerateRequest &g, ApiError &err) {
    auto msgs = body.find("messages");
    if (msgs == body.end() || !msgs->is_array() || msgs->empty())
        return fail(err, "'messages' must be a non-empty array of {\"role\", \"content\"}",
                    "messages");
    for (std::size_t i = 0; i < msgs->size(); ++i)
        if (!read_message((*msgs)[i], i, g, err)) return false;
    return true;
}

bool read_tools(const json &body, GenerateRequest &g, ApiError &err) {
    std::set<std::string> names;
    if (auto t = body.find("tools"); t != body.end() && !t->is_null()) {
        if (!t->is_array())
            return fail(err, "'tools' must be an array of {\"type\": \"function\", ...}", "tools");
        if (t->size() > kMaxTools)
            return fail(err,
                        "'tools' has " + std::to_string(t->size()) + " entries; at most " +
                            std::to_string(kMaxTools) + " are accepted",
                        "tools");
        for (std::size_t i = 0; i < t->size(); ++i) {
            const json &e = (*t)[i];
            const std::string at = "tools[" + std::to_string(i) + "]";
            if (!e.is_object() || e.value("type", json()) != "function")
                return fail(err, at + " must be {\"type\": \"function\", \"function\": {...}}",
                            at + ".type");
            if (!e.contains("function") || !e["function"].is_object())
                return fail(err, at + ".function must be an object {name, description, parameters}",
                            at + ".function");
            const json &f = e["function"];
            Tool tool;
            if (!is_string(f, "name") || !is_valid_openai_name(f["name"].get<std::string>()))
                return fail(
                    err,
                    at + ".function.name must be 1-64 characters of a-z, A-Z, 0-9, '_' and '-'",
                    at + ".function.name");
            tool.name = f["name"].get<std::string>();
            if (!names.insert(tool.name).second)
                return fail(err,
                            at + ".function.name: the function '" + tool.name + "' is given twice",
                            at + ".function.name");
            for (const auto &[key, value] : f.items()) {
                const std::string fat = at + ".function." + key;
                if (key == "name" || value.is_null()) continue;
                if (key == "description" && value.is_string())
                    tool.description = value.get<std::string>();
                else if (key == "parameters" && value.is_object())
                    tool.parameters_json = value.dump();
                else if (key == "strict" && value.is_boolean())
                    tool.strict = value.get<bool>();
                else if (key == "description" || key == "parameters" || key == "strict")
                    return fail(err,
                                fat + (key == "parameters" ? " must be a JSON Schema object"
                                       : key == "strict"   ? " must be true or false"
                                                           : " must be a string"),
                                fat);
                else
                    return fail(err, at + ".function has an unrecognized field '" + key + "'", fat,
                                "unknown_parameter");
            }
            g.tools.push_back(std::move(tool));
        }
    }
    if (auto tc = body.find("tool_choice"); tc != body.end() && !tc->is_null())
        if (!read_tool_choice(*tc, names, g, err)) return false;
    if (auto p = body.find("parallel_tool_calls"); p != body.end() && !p->is_null()) {
        if (!p->is_boolean())
            return fail(err, "'parallel_tool_calls' must be true or false", "parallel_tool_calls");
        g.parallel_tool_calls = p->get<bool>();
    }
    return true;
}

} // namespace llmhost::server::parser_detail
