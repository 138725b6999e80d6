#include "request_marshal.hpp"

#include <nlohmann/json.hpp>


namespace llmhost::detail {

namespace {

const char *or_null(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }

bool needs_tools(const GenerateRequest &r) {
    // tool_choice and parallel_tool_calls without tools change nothing (and tool_choice
    // "required" without tools is refused as invalid): only tools and tool messages need it.
    if (!r.tools.empty()) return true;
    for (const auto &m : r.messages)
        if (!m.tool_calls.empty() || m.role == "tool" || !m.tool_call_id.empty()) return true;
    return false;
}

void check_json_object(const std::string &text, const std::string &what) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, what + " is not a JSON object",
                        "send a JSON Schema object, e.g. {\"type\": \"object\", \"properties\": {}}");
}

// grammar / regex: one constraint per request. A JSON response_format or a forced tool call is
// itself a grammar over the whole output; combined, one of them would be silently dropped.
void check_grammar_fields(const GenerateRequest &r) {
    // A NUL byte would end the C string early: the plugin would see a different grammar.
    for (const auto &[name, value] :
         {std::pair{"grammar", &r.grammar}, std::pair{"regex", &r.regex}})
        if (value->find('\0') != std::string::npos)
            throw HostError(LLMH_ERR_INVALID_ARGUMENT, std::string(name) + " contains a NUL byte",
                            std::string("remove it; ") + name + " is UTF-8 text");
    if (!r.grammar.empty() && !r.regex.empty())
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, "grammar and regex are both set",
                        "send one of them (a GBNF grammar can contain the regex's language)");
    const char *field = !r.grammar.empty() ? "grammar" : !r.regex.empty() ? "regex" : nullptr;
    if (!field) return;
    if (r.response_format.type != LLMH_RESPONSE_TEXT)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                        std::string(field) + " and response_format " +
                            (r.response_format.type == LLMH_RESPONSE_JSON_SCHEMA ? "json_schema"
                                                                                 : "json_object") +
                            " are both set; each constrains the whole output",
                        std::string("send one of them: drop ") + field +
                            " or send response_format {\"type\": \"text\"}");
    if (r.tool_choice == LLMH_TOOL_CHOICE_REQUIRED || r.tool_choice == LLMH_TOOL_CHOICE_FUNCTION)
        throw HostError(
            LLMH_ERR_INVALID_ARGUMENT,
            std::string(field) + " and tool_choice " +
                (r.tool_choice == LLMH_TOOL_CHOICE_REQUIRED ? "required" : "(a function)") +
                " are both set; a forced tool call has its own syntax",
            std::string("drop ") + field + ", or let tool_choice be auto or none");
}

} // namespace

void check_request(const GenerateRequest &r, uint32_t caps, const std::string &who) {
    if (r.top_logprobs < 0 || r.top_logprobs > LLMH_TOP_LOGPROBS_MAX)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                        "top_logprobs must be between 0 and " + std::to_string(LLMH_TOP_LOGPROBS_MAX),
                        "ask for fewer alternatives per token");
    if (r.top_logprobs > 0 && !r.logprobs)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, "top_logprobs needs logprobs",
                        "set logprobs as well, or drop top_logprobs");
    for (size_t i = 0; i < r.tools.size(); ++i) {
        const Tool &t = r.tools[i];
        if (!is_valid_openai_name(t.name))
            throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                            "tools[" + std::to_string(i) + "]: function name '" + t.name.substr(0, 80) +
                                "' is not 1-64 characters of a-z, A-Z, 0-9, '_' and '-'",
                            "rename the function");
        for (size_t k = 0; k < i; ++k)
            if (r.tools[k].name == t.name)
                throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                                "tools: function '" + t.name + "' is given twice",
                                "give each function once");
        if (!t.parameters_json.empty())
            check_json_object(t.parameters_json,
                              "tools[" + std::to_string(i) + "] ('" + t.name + "') parameters");
    }
    if (r.tool_choice < LLMH_TOOL_CHOICE_AUTO || r.tool_choice > LLMH_TOOL_CHOICE_FUNCTION)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, "tool_choice is not auto, none, required or a function",
                        "send one of those");
    if ((r.tool_choice == LLMH_TOOL_CHOICE_REQUIRED || r.tool_choice == LLMH_TOOL_CHOICE_FUNCTION) &&
        r.tools.empty())
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, "tool_choice asks for a tool call but no tools are given",
                        "send the tools, or drop tool_choice");
    if (r.tool_choice == LLMH_TOOL_CHOICE_FUNCTION) {
        bool known = false;
        for (const auto &t : r.tools) known = known || t.name == r.tool_choice_name;
        if (!known)
            throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                            "tool_choice names function '" + r.tool_choice_name.substr(0, 80) +
                                "', which is not among the request's tools",
                            "name one of the functions in `tools`");
    }
    for (size_t i = 0; i < r.messages.size(); ++i) {
        const Message &m = r.messages[i];
        const std::string where = "messages[" + std::to_string(i) + "]";
        if (m.role.empty())
            throw HostError(LLMH_ERR_INVALID_ARGUMENT, where + " has no role",
                            "give every message a role: system, user, assistant or tool");
        if (!m.tool_calls.empty() && m.role != "assistant")
            throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                            where + " has tool_calls but its role is '" + m.role + "'",
                            "only assistant messages carry tool_calls");
        for (const auto &c : m.tool_calls)
            if (c.name.empty())
                throw HostError(LLMH_ERR_INVALID_ARGUMENT, where + " has a tool call without a name",
                                "give every tool call the function's name");
        if (m.role == "tool" && m.tool_call_id.empty())
            throw HostError(LLMH_ERR_INVALID_ARGUMENT, where + " (role tool) has no tool_call_id",
                            "set tool_call_id to the id of the call it answers");
    }
    if (r.response_format.type < LLMH_RESPONSE_TEXT || r.response_format.type > LLMH_RESPONSE_JSON_SCHEMA)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, "response_format has an unknown type",
                        "send text, json_object or json_schema");
    if (r.response_format.type == LLMH_RESPONSE_JSON_SCHEMA)
        check_json_object(r.response_format.schema_json, "response_format json_schema.schema");
    if (r.reasoning < LLMH_REASONING_DEFAULT || r.reasoning > LLMH_REASONING_ON)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, "reasoning is not default, off or on", "");
    if (!r.reasoning_effort.empty() && r.reasoning_effort != "low" && r.reasoning_effort != "medium" &&
        r.reasoning_effort != "high" && r.reasoning_effort != "minimal")
        throw HostError(LLMH_ERR_INVALID_ARGUMENT,
                        "reasoning_effort '" + r.reasoning_effort.substr(0, 40) +
                            "' is not minimal, low, medium or high",
                        "send one of those");
    if (!r.reasoning_effort.empty() && r.reasoning == LLMH_REASONING_OFF)
        throw HostError(LLMH_ERR_INVALID_ARGUMENT, "reasoning_effort is set but reasoning is off",
                        "drop one of them");
    check_grammar_fields(r);

    // By capability, never by plugin name: a plugin that cannot honour a field must not see it.
    const std::string list = " (`llmhost plugins` lists the capabilities)";
    if (r.logprobs && !(caps & LLMH_CAP_LOGPROBS))
        throw HostError(LLMH_ERR_UNSUPPORTED, who + " does not support logprobs",
                        "drop logprobs/top_logprobs, or use a provider whose plugin reports "
                        "the logprobs capability" + list);
    if (needs_tools(r) && !(caps & LLMH_CAP_TOOLS))
        throw HostError(LLMH_ERR_UNSUPPORTED,
                        who + " does not support tools (function calling): it cannot see tool "
                              "definitions, tool calls or tool results",
                        "drop tools/tool_choice and the tool messages, or use a provider whose "
                        "plugin reports the tools capability" + list);
    if (r.response_format.type != LLMH_RESPONSE_TEXT && !(caps & LLMH_CAP_STRUCTURED_OUTPUT))
        throw HostError(LLMH_ERR_UNSUPPORTED,
                        who + " does not support response_format (structured output); it would "
                              "answer with free text",
                        "drop response_format (or send {\"type\": \"text\"}), or use a provider "
                        "whose plugin reports the structured_output capability" + list);
    if ((!r.grammar.empty() || !r.regex.empty()) && !(caps & LLMH_CAP_GRAMMAR))
        throw HostError(LLMH_ERR_UNSUPPORTED,
                        who + " does not support " + (r.grammar.empty() ? "regex" : "grammar") +
                            " (grammar-constrained output); it would answer unconstrained",
                        "drop grammar/regex, or use a provider whose plugin reports the grammar "
                        "capability" + list);
    if ((r.reasoning != LLMH_REASONING_DEFAULT || !r.reasoning_effort.empty()) &&
        !(caps & LLMH_CAP_REASONING))
        throw HostError(LLMH_ERR_UNSUPPORTED,
                        who + " does not support a reasoning switch (reasoning / reasoning_effort)",
                        "drop reasoning/reasoning_effort, or use a provider whose plugin reports "
                        "the reasoning capability" + list);
}

MarshalledRequest::MarshalledRequest(const GenerateRequest &r, const std::string &model, uint32_t caps) {
    const bool tools = (caps & LLMH_CAP_TOOLS) != 0;

    params_ = llmh_default_params();
    params_.max_tokens = r.max_tokens;
    params_.temperature = r.temperature;
    params_.top_p = r.top_p;
    params_.top_k = r.top_k;
    params_.min_p = r.min_p;
    params_.repetition_penalty = r.repetition_penalty;
    params_.presence_penalty = r.presence_penalty;
    params_.frequency_penalty = r.frequency_penalty;
    params_.has_seed = r.seed.has_value();
    params_.seed = r.seed.value_or(0);
    for (const auto &s : r.stop) stops_.push_back(s.c_str());
    params_.stop = stops_.empty() ? nullptr : stops_.data();
    params_.n_stop = stops_.size();
    params_.stream = r.stream;

    // Two passes: the vectors must not reallocate once pointers into them are taken.
    call_storage_.resize(r.messages.size());
    call_ptrs_.resize(r.messages.size());
    messages_.resize(r.messages.size());
    for (size_t i = 0; i < r.messages.size(); ++i) {
        const Message &m = r.messages[i];
        for (const auto &c : m.tool_calls)
            call_storage_[i].push_back({sizeof(llmh_tool_call), c.id.c_str(), c.name.c_str(),
                                        c.arguments.empty() ? "{}" : c.arguments.c_str()});
        for (const auto &c : call_storage_[i]) call_ptrs_[i].push_back(&c);
        llmh_message &out = messages_[i];
        out.struct_size = sizeof out;
        out.role = m.role.c_str();
        out.content = (m.content.empty() && !m.tool_calls.empty()) ? nullptr : m.content.c_str();
        out.name = or_null(m.name);
        if (tools) {
            out.tool_call_id = or_null(m.tool_call_id);
            out.tool_calls = call_ptrs_[i].empty() ? nullptr : call_ptrs_[i].data();
            out.n_tool_calls = call_ptrs_[i].size();
        }
        out.reasoning = or_null(m.reasoning);
    }
    for (const auto &m : messages_) message_ptrs_.push_back(&m);

    if (tools) {
        for (const auto &t : r.tools)
            tools_.push_back({sizeof(llmh_tool), "function", t.name.c_str(), or_null(t.description),
                              or_null(t.parameters_json), t.strict ? 1 : 0});
        for (const auto &t : tools_) tool_ptrs_.push_back(&t);
    }

    req_.struct_size = sizeof req_;
    req_.model = model.empty() ? nullptr : model.c_str();
    req_.messages = message_ptrs_.empty() ? nullptr : message_ptrs_.data();
    req_.n_messages = message_ptrs_.size();
    req_.prompt = r.prompt.c_str();
    req_.params = &params_;
    if (caps & LLMH_CAP_LOGPROBS) {
        req_.logprobs = r.logprobs ? 1 : 0;
        req_.top_logprobs = r.logprobs ? r.top_logprobs : 0;
    }
    req_.tools = tool_ptrs_.empty() ? nullptr : tool_ptrs_.data();
    req_.n_tools = tool_ptrs_.size();
    req_.tool_choice = tools ? r.tool_choice : LLMH_TOOL_CHOICE_AUTO;
    req_.tool_choice_name = tools && r.tool_choice == LLMH_TOOL_CHOICE_FUNCTION
                                ? r.tool_choice_name.c_str()
                                : nullptr;
    req_.parallel_tool_calls = tools && r.parallel_tool_calls ? (*r.parallel_tool_calls ? 1 : 0) : -1;
    if ((caps & LLMH_CAP_STRUCTURED_OUTPUT) && r.response_format.type != LLMH_RESPONSE_TEXT) {
        format_.struct_size = sizeof format_;
        format_.type = r.response_format.type;
        format_.name = or_null(r.response_format.name);
        format_.schema_json = or_null(r.response_format.schema_json);
        format_.strict = r.response_format.strict ? 1 : 0;
        req_.response_format = &format_;
    }
    if (caps & LLMH_CAP_REASONING) {
        req_.reasoning = r.reasoning;
        req_.reasoning_effort = or_null(r.reasoning_effort);
    }
    req_.next = nullptr;
    if (caps & LLMH_CAP_GRAMMAR) {
        req_.grammar = or_null(r.grammar);
        req_.regex = or_null(r.regex);
    }
}

} // namespace llmhost::detail
