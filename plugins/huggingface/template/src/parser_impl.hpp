// The parser's state and helpers, shared by parser.cpp (statements) and parser_expressions.cpp
// (expressions). Internal to the template library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ast.hpp"
#include "errors.hpp"
#include "lexer.hpp"
#include "llmhost/template/chat_template.hpp"

namespace llmhost::tmpl::detail {

class Parser {
 public:
  Parser(const std::string& source, std::vector<Token> tokens) : source_(source), toks_(std::move(tokens)) {}

  Block parse_all() {
    Block out;
    while (cur_ < toks_.size()) push_stmt(out, parse_any());
    return out;
  }

 private:
  const std::string& source_;
  std::vector<Token> toks_;
  size_t cur_ = 0;
  int depth_ = 0;

  // Nesting guard: a pathological template must give an error, not overflow the stack.
  static constexpr int kMaxDepth = 200;
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    ~DepthGuard() { --p.depth_; }
  };

  size_t here() const { return cur_ < toks_.size() ? toks_[cur_].pos : source_.size(); }

  [[noreturn]] void fail(const std::string& msg, size_t pos) const {
    auto [line, col] = line_column(source_, pos);
    throw TemplateError("template syntax error at " + std::to_string(line) + ":" + std::to_string(col) + ": " + msg,
                        line, col);
  }
  [[noreturn]] void fail(const std::string& msg) const { fail(msg, here()); }

  std::string describe_current() const {
    if (cur_ >= toks_.size()) return "end of template";
    return std::string(tok_name(toks_[cur_].type)) + " '" + toks_[cur_].value + "'";
  }

  const Token& expect(Tok type, const char* what) {
    if (cur_ >= toks_.size() || toks_[cur_].type != type)
      fail(std::string("expected ") + what + ", found " + describe_current());
    return toks_[cur_++];
  }
  bool is(Tok t, size_t ahead = 0) const { return cur_ + ahead < toks_.size() && toks_[cur_ + ahead].type == t; }
  bool is_ident(std::string_view name, size_t ahead = 0) const {
    return is(Tok::Identifier, ahead) && toks_[cur_ + ahead].value == name;
  }
  void expect_ident(std::string_view name) {
    if (!is_ident(name)) fail("expected '" + std::string(name) + "', found " + describe_current());
    ++cur_;
  }
  bool is_statement(std::initializer_list<std::string_view> names) const {
    if (!is(Tok::OpenStatement) || !is(Tok::Identifier, 1)) return false;
    for (auto n : names)
      if (toks_[cur_ + 1].value == n) return true;
    return false;
  }
  // Body of a block until one of `ends`; running out of tokens names the unclosed block.
  Block parse_until(std::initializer_list<std::string_view> ends, const char* block, size_t opened_at) {
    Block body;
    while (!is_statement(ends)) {
      if (cur_ >= toks_.size()) {
        auto [line, col] = line_column(source_, opened_at);
        std::string want;
        for (auto e : ends) want += (want.empty() ? "" : " or ") + std::string("{% ") + std::string(e) + " %}";
        fail(std::string("unclosed '") + block + "' opened at " + std::to_string(line) + ":" + std::to_string(col) +
             ": expected " + want + " before the end of the template");
      }
      push_stmt(body, parse_any());
    }
    return body;
  }
  static void push_stmt(Block& out, StmtPtr s) {
    if (s->kind != StmtKind::Comment) out.push_back(std::move(s));
  }
  void close_block(std::string_view end_name) {
    expect(Tok::OpenStatement, "'{%'");
    expect_ident(end_name);
    expect(Tok::CloseStatement, "'%}'");
  }

  StmtPtr parse_any();
  StmtPtr parse_statement();
  StmtPtr parse_if(size_t open);
  StmtPtr parse_for(size_t open);
  // Marks whether a macro / call body reads `kwargs` or `varargs` (then extra arguments are
  // collected into them instead of being an error).
  static void scan_names(const Expr* e, Stmt& owner);
  static void scan_block(const Block& b, Stmt& owner);
  static void note_special_args(Stmt& s);
  ExprPtr ident(const std::string& name, size_t pos);
  ExprPtr binary(const std::string& op, size_t pos, ExprPtr l, ExprPtr r);
  ExprPtr parse_expression_sequence(bool primary);
  ExprPtr parse_expression();
  ExprPtr parse_if_expression();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_comparison();
  ExprPtr parse_additive();
  ExprPtr parse_multiplicative();
  ExprPtr parse_power();
  ExprPtr parse_test();
  ExprPtr parse_filter();
  ExprPtr parse_filter_name(ExprPtr operand);
  ExprPtr parse_unary_sign();
  ExprPtr parse_call_member();
  // (a, b=1, *xs, **kw): call arguments, or macro parameters when `params`.
  std::vector<ExprPtr> parse_args(bool params);
  ExprPtr parse_member(ExprPtr object);
  // [expr] or a slice [a:b:c] with any part omitted.
  ExprPtr parse_subscript();
  ExprPtr parse_primary();
};

}  // namespace llmhost::tmpl::detail
