// Template: parse once, render many.
#include "errors.hpp"
#include "evaluator.hpp"
#include "llmhost/template/chat_template.hpp"
#include "parser.hpp"
#include "builtins.hpp"

namespace llmhost::tmpl {

namespace {
// Our own errors pass through; anything else (e.g. std::bad_alloc) still reaches the caller as a
// TemplateError, so callers need to handle one exception type.
template <typename F>
auto guarded(const char* stage, F f) {
  try {
    return f();
  } catch (const TemplateError&) {
    throw;
  } catch (const std::exception& e) {
    throw TemplateError(std::string("template ") + stage + " failed: " + e.what());
  }
}
}  // namespace

Template::Template(std::string source)
    : program_(guarded("parsing", [&] { return std::shared_ptr<const detail::Program>(detail::parse_template(std::move(source))); })) {}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object() && !context.is_null())
    throw TemplateError(std::string("template context must be a JSON object of variables, got ") + context.type_name());
  detail::Scope globals;
  detail::install_globals(globals);
  if (context.is_object()) {
    for (auto it = context.begin(); it != context.end(); ++it) {
      if (globals.vars.count(it.key()))  // as the reference: "Variable already declared"
        throw TemplateError("template context variable '" + it.key() +
                            "' collides with a built-in of the template language; rename it");
      try {
        globals.set(it.key(), detail::from_json(it.value()));
      } catch (const detail::EvalError& e) {
        throw TemplateError("template context variable '" + it.key() + "': " + e.what());
      }
    }
  }
  detail::Interpreter interpreter(*program_);
  return guarded("rendering", [&] { return interpreter.run(globals); });
}

}  // namespace llmhost::tmpl
