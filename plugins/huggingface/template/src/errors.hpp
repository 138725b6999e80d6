// Internal error types. The evaluator catches EvalError where it knows the node being evaluated
// and rethrows a TemplateError carrying that node's line:column.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace llmhost::tmpl::detail {

// A runtime error not yet tied to a place in the template.
struct EvalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// raise_exception("...") from the template: passes through unchanged.
struct RaisedByTemplate : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// 1-based line and column (in bytes) of byte offset `pos` in `source`.
inline std::pair<int, int> line_column(std::string_view source, size_t pos) {
  int line = 1, col = 1;
  for (size_t i = 0; i < pos && i < source.size(); ++i) {
    if (source[i] == '\n') { ++line; col = 1; } else { ++col; }
  }
  return {line, col};
}

}  // namespace llmhost::tmpl::detail
