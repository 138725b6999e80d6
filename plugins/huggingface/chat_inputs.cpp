// Request -> chat template variables, and what a model's template can honour (chat_inputs.hpp).
#include "chat_inputs.hpp"

namespace llmhost::hf {

using ojson = nlohmann::ordered_json;

namespace {

// Every named template of the config, concatenated: the traits hold when any of them has them
// (a "tool_use" template is the one rendered when tools are given).
std::string all_templates(const nlohmann::json &cfg) {
    std::string out;
    auto it = cfg.find("chat_template");
    if (it == cfg.end()) return out;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_array())
        for (const auto &t : *it)
            if (t.is_object() && t.contains("template") && t["template"].is_string())
                out += t["template"].get<std::string>() + "\n";
    return out;
}

// Parses a JSON object sent as text (tool arguments, tool parameters). `what` names it.
ojson parse_object(const std::string &text, const std::string &what) {
    ojson j;
    try {
        j = ojson::parse(text);
    } catch (const nlohmann::json::exception &) {
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, what + " is not valid JSON",
                          "send a JSON object as text, e.g. \"{\\\"city\\\": \\\"Paris\\\"}\"");
    }
    if (!j.is_object())
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, what + " is not a JSON object",
                          "send a JSON object as text, e.g. \"{}\"");
    return j;
}

} // namespace

TemplateTraits TemplateTraits::from_tokenizer_config(std::string_view text) {
    TemplateTraits t;
    nlohmann::json cfg;
    try {
        cfg = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &) {
        return t; // the template loader reports the broken file; no tools, no reasoning here
    }
    const std::string tmpl = all_templates(cfg);
    // The family of the output format: the markers the template writes around tool calls and
    // <think>, confirmed by the tokenizer's added tokens (toolcall::detect_format, docs/tools.md).
    t.format = toolcall::detect_format_from_tokenizer_config(text);
    // A template that never reads `tools` would drop them without a word: refuse those instead.
    t.renders_tools = tmpl.find("tools") != std::string::npos;
    t.thinking_switch = tmpl.find("enable_thinking") != std::string::npos;
    return t;
}

void check_request(const llmh::Request &req, const TemplateTraits &traits,
                   const std::string &model) {
    // OpenAI's range; NaN or infinity would poison every logit of the step.
    for (auto [name, v] : {std::pair{"presence_penalty", req.presence_penalty},
                           std::pair{"frequency_penalty", req.frequency_penalty}})
        if (!(v >= -2.0f && v <= 2.0f))
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              std::string("huggingface: ") + name + " must be between -2 and 2",
                              "OpenAI's range; 0 turns it off");
    if (!req.tools.empty()) {
        if (!req.is_chat)
            throw llmh::Error(
                LLMH_ERR_UNSUPPORTED,
                "huggingface: tools need a chat request (messages), not a raw prompt");
        if (!traits.renders_tools || traits.format.tools == toolcall::ToolFormat::none)
            throw llmh::Error(
                LLMH_ERR_UNSUPPORTED,
                "huggingface: tools are not supported by model " + model + ": its chat template " +
                    (traits.renders_tools ? "writes tool calls in no format llmhost reads"
                                          : "does not render tools"),
                "use a model trained for tool calling whose template renders "
                "`tools` (Qwen2.5/Qwen3 and Hermes, Llama 3.1+, Mistral)");
    }
    if (!req.reasoning_effort.empty())
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "huggingface: reasoning_effort \"" + req.reasoning_effort +
                              "\" is not supported: local models have no effort levels",
                          "drop reasoning_effort; reasoning on/off is supported where the model's "
                          "template has the switch (Qwen3)");
    if (req.reasoning == LLMH_REASONING_ON && !traits.format.reasoning)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "huggingface: reasoning is not supported by model " + model +
                              ": its chat template has no <think> block",
                          "use a reasoning model (Qwen3, DeepSeek-R1) or leave reasoning unset");
    if (req.reasoning == LLMH_REASONING_OFF && traits.format.reasoning && !traits.thinking_switch)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "huggingface: reasoning cannot be turned off for model " + model +
                              ": its chat template has no enable_thinking switch",
                          "leave reasoning unset for this model");
}

ChatInputs chat_inputs(const llmh::Request &req) {
    ChatInputs in;
    for (std::size_t i = 0; i < req.messages.size(); ++i) {
        const llmh::Message &m = req.messages[i];
        const std::string where = "message " + std::to_string(i);
        ojson j = ojson::object();
        j["role"] = m.role;
        // An assistant turn with only tool calls has no content (null in OpenAI's JSON). Templates
        // concatenate it ('\n' + content: Qwen3), which fails on null in Jinja too; like vLLM,
        // such a turn reaches the template with "" (every template tests it with `if content`).
        j["content"] = m.content;
        if (m.name) j["name"] = *m.name;
        if (m.tool_call_id) j["tool_call_id"] = *m.tool_call_id;
        if (!m.tool_calls.empty()) {
            ojson calls = ojson::array();
            for (std::size_t k = 0; k < m.tool_calls.size(); ++k) {
                const llmh::ToolCall &c = m.tool_calls[k];
                ojson call = ojson::object();
                if (!c.id.empty()) call["id"] = c.id;
                call["type"] = "function";
                call["function"] = {
                    {"name", c.name},
                    {"arguments",
                     parse_object(c.arguments, where + ", tool call " + std::to_string(k) + " (" +
                                                   c.name + "): arguments")}};
                calls.push_back(std::move(call));
            }
            j["tool_calls"] = std::move(calls);
        }
        if (m.reasoning) j["reasoning_content"] = *m.reasoning;
        in.messages.push_back(std::move(j));
    }
    if (!req.tools.empty()) {
        in.tools = ojson::array();
        for (const llmh::Tool &t : req.tools) {
            ojson f = ojson::object();
            f["name"] = t.name;
            if (!t.description.empty()) f["description"] = t.description;
            if (!t.parameters_json.empty())
                f["parameters"] =
                    parse_object(t.parameters_json, "tool " + t.name + ": parameters");
            if (t.strict) f["strict"] = true;
            in.tools.push_back({{"type", "function"}, {"function", std::move(f)}});
        }
    }
    if (req.reasoning == LLMH_REASONING_OFF) in.extra["enable_thinking"] = false;
    if (req.reasoning == LLMH_REASONING_ON) in.extra["enable_thinking"] = true;
    return in;
}

} // namespace llmhost::hf
