// Which output format a model uses, from its chat template and special tokens. A template that
// renders tools in a family's format is what makes the model write calls that way; the tokens
// confirm markers that some templates do not spell out. Rules: docs/tools.md.
#include "llmhost/toolcall/toolcall.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace llmhost::toolcall {

namespace {
bool has(std::string_view text, std::string_view what) {
    return text.find(what) != std::string_view::npos;
}
bool has_token(const std::vector<std::string> &tokens, std::string_view t) {
    return std::find(tokens.begin(), tokens.end(), t) != tokens.end();
}
} // namespace

FormatChoice detect_format(std::string_view tmpl, const std::vector<std::string> &tokens) {
    FormatChoice c;
    if (has(tmpl, "[TOOL_CALLS]") || (has_token(tokens, "[TOOL_CALLS]") && has(tmpl, "tools")))
        c.tools = ToolFormat::mistral;
    else if (has(tmpl, "<tool_call>"))
        c.tools = ToolFormat::hermes;
    else if (has(tmpl, "<|python_tag|>") || (has(tmpl, "<|start_header_id|>") &&
                                             has(tmpl, "\"parameters\"") && has(tmpl, "tools")))
        c.tools = ToolFormat::llama3_json;
    c.reasoning = has(tmpl, "<think>") || has_token(tokens, "<think>");
    return c;
}

FormatChoice detect_format_from_tokenizer_config(std::string_view text) {
    nlohmann::json cfg;
    try {
        cfg = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) {
        throw std::runtime_error(std::string("tokenizer_config.json: ") + e.what());
    }
    std::string tmpl;
    if (auto it = cfg.find("chat_template"); it != cfg.end()) {
        if (it->is_string()) {
            tmpl = it->get<std::string>();
        } else if (it->is_array()) {
            for (const auto &t : *it)
                if (t.is_object() && t.contains("template") && t["template"].is_string())
                    tmpl += t["template"].get<std::string>() + "\n";
        }
    }
    std::vector<std::string> tokens;
    if (auto it = cfg.find("added_tokens_decoder"); it != cfg.end() && it->is_object())
        for (const auto &[id, tok] : it->items())
            if (tok.is_object() && tok.contains("content") && tok["content"].is_string())
                tokens.push_back(tok["content"].get<std::string>());
    return detect_format(tmpl, tokens);
}

bool prompt_opens_reasoning(std::string_view prompt) {
    const auto open = prompt.rfind("<think>");
    if (open == std::string_view::npos) return false;
    const auto close = prompt.rfind("</think>");
    return close == std::string_view::npos || close < open;
}

} // namespace llmhost::toolcall
