// Hugging Face chat templates (`chat_template` in tokenizer_config.json) rendered by our own
// Jinja subset. The reference for every behaviour is npm @huggingface/jinja (what transformers.js
// uses): same input, same string out. tests/template checks this on the real Llama-3, Qwen3,
// Gemma3 and DeepSeek-V3 templates. docs/chat-templates.md lists what is supported.
//
// JSON inputs are nlohmann::ordered_json because key order is visible in the prompt (`tools |
// tojson`): keep the order the client sent. A plain nlohmann::json converts implicitly (its keys
// are already sorted, so the prompt then shows them sorted).
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace llmhost::tmpl {

// Thrown for syntax errors and unsupported constructs (message names the construct and gives
// "line:column" in the template), for runtime errors (same), and by the template's own
// raise_exception("...") (then what() is exactly the template's message and raised() is true).
class TemplateError : public std::runtime_error {
 public:
  TemplateError(const std::string& what, int line = 0, int column = 0, bool raised = false)
      : std::runtime_error(what), line_(line), column_(column), raised_(raised) {}
  int line() const noexcept { return line_; }      // 1-based; 0 when not tied to a place
  int column() const noexcept { return column_; }  // 1-based, in bytes of the line
  bool raised() const noexcept { return raised_; } // true: raise_exception() in the template

 private:
  int line_, column_;
  bool raised_;
};

namespace detail { struct Program; }

// A parsed template: parse once in the constructor, render many times. render() is const and
// safe to call from several threads at once (each call has its own evaluation state).
class Template {
 public:
  explicit Template(std::string source);
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // `context` must be a JSON object; its keys become the template's global variables
  // (a key that collides with a built-in such as `namespace` or `range` is an error).
  std::string render(const nlohmann::ordered_json& context) const;

 private:
  std::shared_ptr<const detail::Program> program_;
};

// The chat template of one model, with the special tokens its template refers to.
class ChatTemplate {
 public:
  // Reads tokenizer_config.json: `chat_template` as a string or as a list of
  // {"name": ..., "template": ...} (uses "default", or "tool_use" when tools is not null and the
  // list has one, as transformers does), and the special tokens as strings or AddedToken
  // objects ({"content": ...}). A config without chat_template is an error that says so.
  static ChatTemplate from_tokenizer_config(const std::filesystem::path& tokenizer_config_json);

  // Same, from already-parsed JSON (`origin` names the source in error messages).
  static ChatTemplate from_config_json(const nlohmann::ordered_json& config,
                                       const std::string& origin = "tokenizer_config.json");

  // From a template text directly (an empty token string means "not defined").
  ChatTemplate(std::string source, std::string bos_token, std::string eos_token);

  // Renders `messages` (array of {role, content, ...}) the way transformers.js'
  // apply_chat_template does: variables messages, add_generation_prompt, tools (null when none),
  // documents (null), the special tokens the config defines (bos_token, eos_token, unk_token,
  // pad_token, sep_token, cls_token, mask_token; absent ones stay undefined), then every key of
  // `extra` (e.g. {"enable_thinking": false, "date_string": "26 Jul 2024"}), which wins on a clash.
  std::string apply(const nlohmann::ordered_json& messages, bool add_generation_prompt = true,
                    const nlohmann::ordered_json& tools = nullptr,
                    const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;

  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }
  bool has_tool_use_template() const { return tool_use_ != nullptr; }

 private:
  ChatTemplate() = default;
  std::shared_ptr<const Template> default_;
  std::shared_ptr<const Template> tool_use_;  // null when the config has no "tool_use" template
  std::string bos_token_;
  std::string eos_token_;
  nlohmann::ordered_json special_tokens_ = nlohmann::ordered_json::object();  // name -> text
};

}  // namespace llmhost::tmpl
