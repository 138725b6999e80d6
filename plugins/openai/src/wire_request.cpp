// Request bodies for POST /chat/completions and the legacy POST /completions, built from an
// llmh::Request (shared/reference/openai-wire.md §1 and §6). Every field the request sets either
// reaches the body or is refused with an error naming it: nothing is dropped silently.
#include "wire.hpp"

#include <nlohmann/json.hpp>

namespace llmhost::openai {
namespace {

using nlohmann::json;

[[noreturn]] void unsupported_on_legacy(const std::string &field) {
    throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                      "openai: " + field +
                          " is a chat completions field; the legacy completions "
                          "endpoint has none",
                      "send messages (chat) instead of a raw prompt");
}

// A JSON Schema given as text, parsed: it must be an object, since that is what OpenAI accepts.
json schema_object(const std::string &text, const std::string &what) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw llmh::Error(
            LLMH_ERR_INVALID_ARGUMENT, "openai: " + what + " is not a JSON object",
            "give a JSON Schema object such as {\"type\":\"object\",\"properties\":{...}}");
    return j;
}

json message_json(const llmh::Message &m) {
    json out = {{"role", m.role}};
    // content is null for an assistant turn that only calls tools (OpenAI's shape; some servers
    // reject "" next to tool_calls) and for a message the caller gave without content.
    if (!m.has_content || (m.content.empty() && !m.tool_calls.empty()))
        out["content"] = nullptr;
    else
        out["content"] = m.content;
    if (m.name) out["name"] = *m.name;
    if (m.tool_call_id) out["tool_call_id"] = *m.tool_call_id;
    if (!m.tool_calls.empty()) {
        json calls = json::array();
        for (const auto &c : m.tool_calls)
            calls.push_back({{"id", c.id},
                             {"type", "function"},
                             {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
        out["tool_calls"] = std::move(calls);
    }
    // An assistant turn's earlier reasoning is not sent back: chat completions has no input field
    // for it (OpenAI answers 400 on unknown fields, DeepSeek documents a 400 for
    // reasoning_content in input messages), and chat templates drop earlier reasoning anyway.
    return out;
}

void add_tools(const llmh::Request &r, json &body) {
    if (r.tools.empty()) return; // tool_choice/parallel_tool_calls without tools: OpenAI says 400
    json tools = json::array();
    for (const auto &t : r.tools) {
        json fn = {{"name", t.name}};
        if (!t.description.empty()) fn["description"] = t.description;
        if (!t.parameters_json.empty())
            fn["parameters"] =
                schema_object(t.parameters_json, "the parameters of tool '" + t.name + "'");
        if (t.strict) fn["strict"] = true;
        tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    body["tools"] = std::move(tools);
    switch (r.tool_choice) {
    case llmh::ToolChoice::automatic: break; // OpenAI's default when tools are given
    case llmh::ToolChoice::none: body["tool_choice"] = "none"; break;
    case llmh::ToolChoice::required: body["tool_choice"] = "required"; break;
    case llmh::ToolChoice::function:
        body["tool_choice"] = {{"type", "function"}, {"function", {{"name", r.tool_choice_name}}}};
        break;
    }
    if (r.parallel_tool_calls) body["parallel_tool_calls"] = *r.parallel_tool_calls;
}

void add_response_format(const llmh::ResponseFormat &f, json &body) {
    if (f.type == LLMH_RESPONSE_JSON_OBJECT) {
        body["response_format"] = {{"type", "json_object"}};
    } else if (f.type == LLMH_RESPONSE_JSON_SCHEMA) {
        // OpenAI requires a name; "response" stands in when the caller gave none.
        json js = {{"name", f.name.empty() ? std::string("response") : f.name},
                   {"schema", schema_object(f.schema_json, "the response_format json_schema")}};
        if (f.strict) js["strict"] = true;
        body["response_format"] = {{"type", "json_schema"}, {"json_schema", std::move(js)}};
    }
}

// OpenAI's reasoning_effort (none|minimal|low|medium|high|xhigh, per model). OFF sends "none"
// (gpt-5.1 and later honour it; a model that cannot turn reasoning off answers 400 naming the
// value, which beats reasoning anyway). ON without an effort sends "medium", the documented
// default of the reasoning models, because gpt-5.1 defaults to "none" and omitting it there
// would silently not reason. DEFAULT sends nothing.
void add_reasoning(const llmh::Request &r, json &body) {
    if (!r.reasoning_effort.empty())
        body["reasoning_effort"] = r.reasoning_effort;
    else if (r.reasoning == LLMH_REASONING_ON)
        body["reasoning_effort"] = "medium";
    else if (r.reasoning == LLMH_REASONING_OFF)
        body["reasoning_effort"] = "none";
}

void refuse_chat_only_fields(const llmh::Request &r) {
    if (!r.tools.empty()) unsupported_on_legacy("tools");
    if (r.tool_choice != llmh::ToolChoice::automatic && r.tool_choice != llmh::ToolChoice::none)
        unsupported_on_legacy("tool_choice");
    if (!r.response_format.is_text()) unsupported_on_legacy("response_format");
    if (r.reasoning != LLMH_REASONING_DEFAULT || !r.reasoning_effort.empty())
        unsupported_on_legacy("reasoning_effort");
}

} // namespace

std::string build_request_body(const llmh::Request &r, const std::string &model, bool chat,
                               bool stream) {
    json body;
    body["model"] = model;
    if (chat) {
        json messages = json::array();
        for (const auto &m : r.messages) messages.push_back(message_json(m));
        body["messages"] = std::move(messages);
        if (r.max_tokens > 0) body["max_tokens"] = r.max_tokens; // widest support (vLLM, Ollama)
        add_tools(r, body);
        add_response_format(r.response_format, body);
        add_reasoning(r, body);
    } else {
        refuse_chat_only_fields(r);
        body["prompt"] = r.prompt;
        if (r.max_tokens > 0) body["max_tokens"] = r.max_tokens;
    }
    if (r.temperature >= 0) body["temperature"] = r.temperature;
    if (r.top_p > 0 && r.top_p < 1) body["top_p"] = r.top_p;
    if (r.presence_penalty != 0) body["presence_penalty"] = r.presence_penalty;
    if (r.frequency_penalty != 0) body["frequency_penalty"] = r.frequency_penalty;
    if (r.seed) body["seed"] = static_cast<int64_t>(*r.seed);
    // Not OpenAI fields, but the same-named extensions of vLLM, SGLang and llama.cpp's server. Sent
    // rather than dropped: a server that honours them does, api.openai.com answers 400 naming the
    // field, and either beats a silently different sampling.
    if (r.top_k > 0) body["top_k"] = r.top_k;
    if (r.min_p > 0) body["min_p"] = r.min_p;
    if (r.repetition_penalty > 0 && r.repetition_penalty != 1)
        body["repetition_penalty"] = r.repetition_penalty;
    if (!r.stop.empty()) body["stop"] = r.stop;
    if (r.logprobs) {
        if (chat) {
            body["logprobs"] = true;
            body["top_logprobs"] = r.top_logprobs;
        } else {
            body["logprobs"] = r.top_logprobs; // the legacy field counts the alternatives
        }
    }
    if (stream) {
        body["stream"] = true;
        body["stream_options"] = {{"include_usage", true}};
    }
    return body.dump();
}

} // namespace llmhost::openai
