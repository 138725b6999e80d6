// The library of the template language: filters, tests, methods of strings and dicts, and the
// global functions (namespace, range, raise_exception, strftime_now). Each mirrors the
// @huggingface/jinja function of the same name, including which argument types it accepts.
#pragma once

#include <string>
#include <vector>

#include "ast.hpp"
#include "value.hpp"

namespace llmhost::tmpl::detail {

class Interpreter;
struct Scope;

// `operand | name` or `operand | name(args)`; `filter` is the Filter node (args are kids[1..]).
Value apply_filter(Interpreter& in, const Value& operand, const Expr& filter, Scope& scope);

// `operand is name(args...)`. Throws EvalError for an unknown test.
bool run_test(const std::string& name, const Value& operand, const std::vector<Value>& args);

// Built-in attribute of a value (`"abc".upper`, `d.items`, `xs.length`), or undefined.
Value builtin_member(const Value& object, const std::string& name);

// true, false, none (and title-case spellings), namespace, range, raise_exception, strftime_now.
void install_globals(Scope& globals);

// Order used by sort and dictsort (the reference's compareRuntimeValues).
int compare_values(const Value& a, const Value& b, bool case_sensitive);

}  // namespace llmhost::tmpl::detail
