// Statement grammar ({% set %}, if/elif/else, for/else, macro, call, filter, break, continue)
// and the entry point parse_template().
#include "parser.hpp"

#include "parser_impl.hpp"

namespace llmhost::tmpl::detail {

StmtPtr Parser::parse_any() {
  DepthGuard guard(*this);
  const Token& t = toks_[cur_];
  switch (t.type) {
    case Tok::Comment: { auto s = std::make_unique<Stmt>(StmtKind::Comment, t.pos); ++cur_; return s; }
    case Tok::Text: {
      auto s = std::make_unique<Stmt>(StmtKind::Text, t.pos);
      s->text = t.value;
      ++cur_;
      return s;
    }
    case Tok::OpenStatement: return parse_statement();
    case Tok::OpenExpression: {
      ++cur_;
      auto s = std::make_unique<Stmt>(StmtKind::Output, t.pos);
      s->a = parse_expression();
      expect(Tok::CloseExpression, "'}}' to close the expression");
      return s;
    }
    default: fail(std::string("unexpected ") + describe_current());
  }
}

StmtPtr Parser::parse_statement() {
  const size_t open = toks_[cur_].pos;
  expect(Tok::OpenStatement, "'{%'");
  if (!is(Tok::Identifier)) fail("expected a statement name after '{%', found " + describe_current());
  const std::string name = toks_[cur_].value;
  const size_t at = toks_[cur_].pos;
  ++cur_;
  StmtPtr s;
  if (name == "set") {
    s = std::make_unique<Stmt>(StmtKind::Set, open);
    s->a = parse_expression_sequence(false);
    if (is(Tok::Equals)) {
      ++cur_;
      s->b = parse_expression_sequence(false);
    } else {
      expect(Tok::CloseStatement, "'=' or '%}' in set");
      s->body = parse_until({"endset"}, "set", open);
      expect(Tok::OpenStatement, "'{%'");
      expect_ident("endset");
    }
    expect(Tok::CloseStatement, "'%}' to close set");
  } else if (name == "if") {
    s = parse_if(open);
    close_block("endif");
  } else if (name == "for") {
    s = parse_for(open);
    close_block("endfor");
  } else if (name == "macro") {
    s = std::make_unique<Stmt>(StmtKind::Macro, open);
    if (!is(Tok::Identifier)) fail("expected a macro name, found " + describe_current());
    s->text = toks_[cur_++].value;
    s->params = parse_args(true);
    expect(Tok::CloseStatement, "'%}' after the macro signature");
    s->body = parse_until({"endmacro"}, "macro", open);
    close_block("endmacro");
    note_special_args(*s);
  } else if (name == "call") {
    s = std::make_unique<Stmt>(StmtKind::CallBlock, open);
    if (is(Tok::OpenParen)) s->params = parse_args(true);
    if (!is(Tok::Identifier)) fail("expected a macro name after 'call', found " + describe_current());
    auto callee = ident(toks_[cur_].value, toks_[cur_].pos);
    ++cur_;
    auto call = std::make_unique<Expr>(ExprKind::Call, callee->pos);
    call->kids.push_back(std::move(callee));
    for (auto& a : parse_args(false)) call->kids.push_back(std::move(a));
    s->a = std::move(call);
    expect(Tok::CloseStatement, "'%}' after the call");
    s->body = parse_until({"endcall"}, "call", open);
    close_block("endcall");
    note_special_args(*s);
  } else if (name == "filter") {
    s = std::make_unique<Stmt>(StmtKind::FilterBlock, open);
    s->a = parse_filter_name(nullptr);
    expect(Tok::CloseStatement, "'%}' after the filter");
    s->body = parse_until({"endfilter"}, "filter", open);
    close_block("endfilter");
  } else if (name == "break" || name == "continue") {
    s = std::make_unique<Stmt>(name == "break" ? StmtKind::Break : StmtKind::Continue, open);
    expect(Tok::CloseStatement, "'%}'");
  } else {
    fail("unsupported statement '{% " + name + " %}' (supported: set, if, for, macro, call, filter, break, continue)", at);
  }
  return s;
}

StmtPtr Parser::parse_if(size_t open) {
  auto s = std::make_unique<Stmt>(StmtKind::If, open);
  s->a = parse_expression();
  expect(Tok::CloseStatement, "'%}' after the if condition");
  s->body = parse_until({"elif", "else", "endif"}, "if", open);
  if (is_statement({"elif"})) {
    const size_t elif_at = toks_[cur_].pos;
    cur_ += 2;
    s->alt.push_back(parse_if(elif_at));
  } else if (is_statement({"else"})) {
    cur_ += 2;
    expect(Tok::CloseStatement, "'%}' after else");
    s->alt = parse_until({"endif"}, "if", open);
  }
  return s;
}

StmtPtr Parser::parse_for(size_t open) {
  auto s = std::make_unique<Stmt>(StmtKind::For, open);
  s->a = parse_expression_sequence(true);
  if (s->a->kind != ExprKind::Identifier && s->a->kind != ExprKind::Tuple)
    fail("expected a name or a tuple of names as the loop variable", s->a->pos);
  if (!is_ident("in")) fail("expected 'in' after the loop variable, found " + describe_current());
  ++cur_;
  auto iterable = parse_expression();
  if (iterable->kind == ExprKind::Select) {  // for x in xs if cond
    s->c = std::move(iterable->kids[1]);
    iterable = std::move(iterable->kids[0]);
  }
  s->b = std::move(iterable);
  expect(Tok::CloseStatement, "'%}' after the for header");
  s->body = parse_until({"endfor", "else"}, "for", open);
  if (is_statement({"else"})) {
    cur_ += 2;
    expect(Tok::CloseStatement, "'%}' after else");
    s->alt = parse_until({"endfor"}, "for", open);
  }
  return s;
}

// Marks whether a macro / call body reads `kwargs` or `varargs` (then extra arguments are
// collected into them instead of being an error).
void Parser::scan_names(const Expr* e, Stmt& owner) {
  if (!e) return;
  if (e->kind == ExprKind::Identifier) {
    if (e->text == "kwargs") owner.uses_kwargs = true;
    if (e->text == "varargs") owner.uses_varargs = true;
  }
  for (size_t i = 0; i < e->kids.size(); ++i) {
    if (e->kind == ExprKind::Member && i == 1 && !e->flag) continue;  // obj.kwargs is not a load
    scan_names(e->kids[i].get(), owner);
  }
}

void Parser::scan_block(const Block& b, Stmt& owner) {
  for (const auto& s : b) {
    scan_names(s->a.get(), owner);
    scan_names(s->b.get(), owner);
    scan_names(s->c.get(), owner);
    for (const auto& p : s->params) scan_names(p.get(), owner);
    scan_block(s->body, owner);
    scan_block(s->alt, owner);
  }
}

void Parser::note_special_args(Stmt& s) {
  scan_block(s.body, s);
  for (const auto& p : s.params) {
    if (p->text == "kwargs") s.uses_kwargs = false;  // a parameter of that name is an ordinary one
    if (p->text == "varargs") s.uses_varargs = false;
  }
}

std::unique_ptr<Program> parse_template(std::string source) {
  auto program = std::make_unique<Program>();
  program->source = std::move(source);
  Parser parser(program->source, tokenize(program->source));
  program->body = parser.parse_all();
  return program;
}

}  // namespace llmhost::tmpl::detail
