// Tokens -> syntax tree, with @huggingface/jinja's grammar and operator precedence (including its
// quirks, e.g. `not a == b` is `not (a == b)` and tests bind tighter than `*`).
#pragma once

#include <memory>
#include <string>

#include "ast.hpp"

namespace llmhost::tmpl::detail {

// Throws TemplateError naming the construct and its line:column.
std::unique_ptr<Program> parse_template(std::string source);

}  // namespace llmhost::tmpl::detail
