// Tree-walking interpreter over the syntax tree, with @huggingface/jinja's scoping rules: a for
// loop and a macro call open a scope, `if` does not, `set` writes the current scope, and a
// namespace() object is the only thing a template can mutate.
#pragma once

#include <string>
#include <unordered_map>

#include "ast.hpp"
#include "value.hpp"

namespace llmhost::tmpl::detail {

struct Scope {
  Scope* parent = nullptr;
  std::unordered_map<std::string, Value> vars;

  explicit Scope(Scope* p = nullptr) : parent(p) {}
  const Value* lookup(const std::string& name) const;
  void set(const std::string& name, Value v) { vars[name] = std::move(v); }
};

class Interpreter {
 public:
  explicit Interpreter(const Program& program) : program_(program) {}

  // Renders the whole program with `globals` as the outermost scope.
  std::string run(Scope& globals);

  Value eval(const Expr& e, Scope& scope);
  // Evaluates kids[first..] of a call/filter node as arguments (positional, keyword, * and **).
  CallArgs eval_args(const Expr& node, size_t first, Scope& scope);
  Value call(const Value& fn, CallArgs& args, Scope& scope);
  // Renders a block into a new string (set blocks, filter blocks, macro bodies).
  std::string render_block(const Block& block, Scope& scope);

  [[noreturn]] void fail_at(size_t pos, const std::string& msg) const;

 private:
  const Program& program_;
  int call_depth_ = 0;  // macro / caller nesting, bounded so recursion cannot overflow the stack

  void exec_block(const Block& block, Scope& scope, std::string& out);
  void exec(const Stmt& s, Scope& scope, std::string& out);
  void exec_inner(const Stmt& s, Scope& scope, std::string& out);
  void exec_for(const Stmt& s, Scope& scope, std::string& out);
  void exec_set(const Stmt& s, Scope& scope);
  void define_macro(const Stmt& s, Scope& scope);
  Value exec_call_block(const Stmt& s, Scope& scope);
  void bind_arguments(const Stmt& s, const std::string& display_name, CallArgs& args, Scope& scope);

  Value eval_inner(const Expr& e, Scope& scope);
  Value eval_binary(const Expr& e, Scope& scope);
  Value eval_member(const Expr& e, Scope& scope);
  Value eval_slice(const Value& object, const Expr& slice, Scope& scope);
};

}  // namespace llmhost::tmpl::detail
