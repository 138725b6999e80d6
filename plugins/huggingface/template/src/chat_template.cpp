// ChatTemplate: the model's tokenizer_config.json -> rendered prompt, with the variables
// transformers.js' apply_chat_template passes.
#include <fstream>
#include <sstream>

#include "llmhost/template/chat_template.hpp"

namespace llmhost::tmpl {

namespace {

using ojson = nlohmann::ordered_json;

// Special tokens appear as "text" or as AddedToken {"content": "text", ...}.
std::string token_text(const ojson& config, const char* key, const std::string& origin) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto c = it->find("content");
    if (c != it->end() && c->is_string()) return c->get<std::string>();
  }
  throw TemplateError(origin + ": '" + key + "' must be a string or an object with a string \"content\"");
}

constexpr const char* kSpecialTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};

}  // namespace

ChatTemplate::ChatTemplate(std::string source, std::string bos_token, std::string eos_token)
    : default_(std::make_shared<Template>(std::move(source))),
      bos_token_(std::move(bos_token)),
      eos_token_(std::move(eos_token)) {
  if (!bos_token_.empty()) special_tokens_["bos_token"] = bos_token_;
  if (!eos_token_.empty()) special_tokens_["eos_token"] = eos_token_;
}

ChatTemplate ChatTemplate::from_config_json(const ojson& config, const std::string& origin) {
  if (!config.is_object()) throw TemplateError(origin + ": expected a JSON object");
  ChatTemplate ct;
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null())
    throw TemplateError(origin + " has no \"chat_template\"; this model does not define a chat format "
                                 "(use plain completion, or supply a template)");
  auto compile = [&](const ojson& text, const std::string& name) {
    if (!text.is_string()) throw TemplateError(origin + ": chat template '" + name + "' must be a string");
    try {
      return std::make_shared<const Template>(text.get<std::string>());
    } catch (const TemplateError& e) {
      throw TemplateError(origin + ": chat template '" + name + "': " + e.what(), e.line(), e.column());
    }
  };
  if (it->is_string()) {
    ct.default_ = compile(*it, "default");
  } else if (it->is_array()) {
    for (const auto& entry : *it) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("template"))
        throw TemplateError(origin + ": each chat_template list entry needs a string \"name\" and a \"template\"");
      const std::string name = entry["name"].get<std::string>();
      if (name == "default") ct.default_ = compile(entry["template"], name);
      else if (name == "tool_use") ct.tool_use_ = compile(entry["template"], name);
    }
    if (!ct.default_)
      throw TemplateError(origin + ": chat_template is a list without a \"default\" entry");
  } else {
    throw TemplateError(origin + ": \"chat_template\" must be a string or a list of {name, template}");
  }
  for (const char* key : kSpecialTokens) {
    const std::string text = token_text(config, key, origin);
    if (!text.empty()) ct.special_tokens_[key] = text;
  }
  ct.bos_token_ = token_text(config, "bos_token", origin);
  ct.eos_token_ = token_text(config, "eos_token", origin);
  return ct;
}

ChatTemplate ChatTemplate::from_tokenizer_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TemplateError("cannot open " + path.string() + " (the model directory should contain tokenizer_config.json)");
  std::stringstream buf;
  buf << in.rdbuf();
  ojson config;
  try {
    config = ojson::parse(buf.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw TemplateError(path.string() + " is not valid JSON: " + e.what());
  }
  return from_config_json(config, path.string());
}

std::string ChatTemplate::apply(const ojson& messages, bool add_generation_prompt, const ojson& tools,
                                const ojson& extra) const {
  if (!messages.is_array()) throw TemplateError("chat messages must be a JSON array of {role, content} objects");
  if (!tools.is_null() && !tools.is_array()) throw TemplateError("tools must be null or a JSON array of tool definitions");
  if (!extra.is_null() && !extra.is_object()) throw TemplateError("extra template variables must be a JSON object");
  // As transformers (Python and JS): any non-null tools, even an empty list, selects "tool_use".
  const Template& tmpl = (!tools.is_null() && tool_use_) ? *tool_use_ : *default_;
  // Same variables, same order as transformers.js: later keys win (ordered_json keeps the first
  // position of a key and overwrites its value).
  ojson context = ojson::object();
  context["messages"] = messages;
  context["add_generation_prompt"] = add_generation_prompt;
  context["tools"] = tools;
  context["documents"] = nullptr;
  for (auto it = special_tokens_.begin(); it != special_tokens_.end(); ++it) context[it.key()] = it.value();
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) context[it.key()] = it.value();
  return tmpl.render(context);
}

}  // namespace llmhost::tmpl
