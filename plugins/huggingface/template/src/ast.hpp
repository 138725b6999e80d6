// Syntax tree. One node struct for expressions and one for statements, each with a kind and a
// fixed meaning for its children (listed per kind below), so the evaluator can switch on kind.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace llmhost::tmpl::detail {

enum class ExprKind {
  Integer,     // number
  Float,       // number
  String,      // text
  Identifier,  // text
  Array,       // kids = items
  Tuple,       // kids = items
  Object,      // kids = key0, value0, key1, value1, ...
  Member,      // kids = object, property; computed: obj[prop] (property may be a Slice), else obj.name / obj.0
  Slice,       // kids = start, stop, step (each may be null)
  Call,        // kids = callee, args...
  Unary,       // text = "not" | "-" | "+"; kids = operand
  Binary,      // text = operator; kids = left, right
  Filter,      // text = filter name; kids = operand (null in {% filter %}), args...; flag = written with ()
  Test,        // text = test name; flag = negated; kids = operand, args...
  Select,      // `a if cond` without else; kids = a, cond
  Ternary,     // kids = cond, if_true, if_false
  KeywordArg,  // text = name; kids = value
  Spread,      // *expr; kids = expr
  KeywordSpread,  // **expr; kids = expr
};

struct Expr {
  ExprKind kind;
  size_t pos = 0;  // byte offset in the template source
  std::string text;
  double number = 0;
  bool flag = false;
  std::vector<std::unique_ptr<Expr>> kids;

  Expr(ExprKind k, size_t p) : kind(k), pos(p) {}
  const Expr* kid(size_t i) const { return i < kids.size() ? kids[i].get() : nullptr; }
};
using ExprPtr = std::unique_ptr<Expr>;

enum class StmtKind {
  Text,         // text
  Output,       // {{ a }}
  Set,          // target = a; value = b, or the rendered body when b is null
  If,           // a = test; body; alt (else branch; an elif is a nested If in alt)
  For,          // a = loop variable (Identifier or Tuple); b = iterable; c = filter (`if` part) or null; body; alt = else
  Macro,        // text = name; params (Identifier or KeywordArg with default); body
  CallBlock,    // a = Call expression; params = caller parameters; body
  FilterBlock,  // a = Filter expression with a null operand; body
  Break,
  Continue,
  Comment,
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind;
  size_t pos = 0;
  std::string text;
  ExprPtr a, b, c;
  Block body, alt;
  std::vector<ExprPtr> params;
  bool uses_kwargs = false, uses_varargs = false;  // Macro / CallBlock: body reads kwargs / varargs

  Stmt(StmtKind k, size_t p) : kind(k), pos(p) {}
};

struct Program {
  std::string source;  // kept for line:column of runtime errors
  Block body;
};

}  // namespace llmhost::tmpl::detail
