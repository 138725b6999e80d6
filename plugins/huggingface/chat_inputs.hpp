// A chat request as the model's own chat template wants it: the OpenAI-shaped messages, tools
// and switches of llmh::Request turned into the variables transformers passes to
// apply_chat_template (messages, tools, enable_thinking), plus what the template and the model
// can honour, decided once per model from its tokenizer_config.json.
//
// Shapes follow the Hugging Face convention (and vLLM, which feeds the same templates):
//   tools:      [{"type": "function", "function": {"name", "description"?, "parameters"?}}]
//   tool calls: [{"id", "type": "function", "function": {"name", "arguments": <parsed object>}}]
//               (arguments are PARSED: templates do `arguments | tojson` or iterate its items;
//               vLLM json.loads them before rendering, transformers expects a dict)
//   tool:       {"role": "tool", "content", "tool_call_id"?, "name"?}
//   content:    a null content (assistant turn with only tool calls) becomes "", as in vLLM
//   reasoning:  an earlier assistant turn's reasoning as "reasoning_content" (Qwen3's name)
//   enable_thinking: reasoning OFF -> false, ON -> true, DEFAULT -> not set (template default)
#pragma once

#include <llmhost/plugin.hpp>
#include <llmhost/toolcall/toolcall.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace llmhost::hf {

// What a model's chat template supports, read from tokenizer_config.json's text.
struct TemplateTraits {
    toolcall::FormatChoice format; // how its output writes tool calls / reasoning
    bool renders_tools = false;    // the template reads the `tools` variable
    bool thinking_switch = false;  // the template reads `enable_thinking` (Qwen3)

    static TemplateTraits from_tokenizer_config(std::string_view tokenizer_config_json);
};

struct ChatInputs {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    nlohmann::ordered_json tools;                                    // null when none
    nlohmann::ordered_json extra = nlohmann::ordered_json::object(); // enable_thinking
};

// Refuses (llmh::Error, LLMH_ERR_UNSUPPORTED naming the field) what this model cannot honour:
// tools its template does not render or whose calls no parser reads, reasoning ON for a model
// that does not reason, reasoning_effort levels; and (invalid_argument) presence/frequency
// penalties outside OpenAI's -2..2. The output's shape (response_format, tool_choice required,
// grammar, regex) is checked where it is compiled: structured_output.hpp.
void check_request(const llmh::Request &req, const TemplateTraits &traits,
                   const std::string &model);

// The template variables of a chat request. Throws llmh::Error(invalid_argument) on a tool
// call's arguments or a tool's parameters that are not a JSON object.
ChatInputs chat_inputs(const llmh::Request &req);

} // namespace llmhost::hf
