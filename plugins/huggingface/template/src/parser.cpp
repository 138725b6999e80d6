#include "parser.hpp"

#include <set>

#include "errors.hpp"
#include "lexer.hpp"
#include "llmhost/template/chat_template.hpp"

namespace llmhost::tmpl::detail {

namespace {

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

  StmtPtr parse_any() {
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

  StmtPtr parse_statement() {
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

  StmtPtr parse_if(size_t open) {
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

  StmtPtr parse_for(size_t open) {
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
  static void scan_names(const Expr* e, Stmt& owner) {
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
  static void scan_block(const Block& b, Stmt& owner) {
    for (const auto& s : b) {
      scan_names(s->a.get(), owner);
      scan_names(s->b.get(), owner);
      scan_names(s->c.get(), owner);
      for (const auto& p : s->params) scan_names(p.get(), owner);
      scan_block(s->body, owner);
      scan_block(s->alt, owner);
    }
  }
  static void note_special_args(Stmt& s) {
    scan_block(s.body, s);
    for (const auto& p : s.params) {
      const std::string& n = p->kind == ExprKind::Identifier ? p->text : p->text;
      if (n == "kwargs") s.uses_kwargs = false;
      if (n == "varargs") s.uses_varargs = false;
    }
  }

  ExprPtr ident(const std::string& name, size_t pos) {
    auto e = std::make_unique<Expr>(ExprKind::Identifier, pos);
    e->text = name;
    return e;
  }
  ExprPtr binary(const std::string& op, size_t pos, ExprPtr l, ExprPtr r) {
    auto e = std::make_unique<Expr>(ExprKind::Binary, pos);
    e->text = op;
    e->kids.push_back(std::move(l));
    e->kids.push_back(std::move(r));
    return e;
  }

  ExprPtr parse_expression_sequence(bool primary) {
    const size_t at = here();
    std::vector<ExprPtr> items;
    items.push_back(primary ? parse_primary() : parse_expression());
    const bool tuple = is(Tok::Comma);
    while (tuple) {
      ++cur_;
      items.push_back(primary ? parse_primary() : parse_expression());
      if (!is(Tok::Comma)) break;
    }
    if (!tuple) return std::move(items[0]);
    auto t = std::make_unique<Expr>(ExprKind::Tuple, at);
    t->kids = std::move(items);
    return t;
  }

  ExprPtr parse_expression() {
    DepthGuard guard(*this);
    return parse_if_expression();
  }

  ExprPtr parse_if_expression() {
    auto a = parse_or();
    if (!is_ident("if")) return a;
    const size_t at = here();
    ++cur_;
    auto test = parse_or();
    if (is_ident("else")) {
      ++cur_;
      auto e = std::make_unique<Expr>(ExprKind::Ternary, at);
      e->kids.push_back(std::move(test));
      e->kids.push_back(std::move(a));
      e->kids.push_back(parse_if_expression());
      return e;
    }
    auto e = std::make_unique<Expr>(ExprKind::Select, at);
    e->kids.push_back(std::move(a));
    e->kids.push_back(std::move(test));
    return e;
  }

  ExprPtr parse_or() {
    auto left = parse_and();
    while (is_ident("or")) {
      const size_t at = here();
      ++cur_;
      left = binary("or", at, std::move(left), parse_and());
    }
    return left;
  }
  ExprPtr parse_and() {
    auto left = parse_not();
    while (is_ident("and")) {
      const size_t at = here();
      ++cur_;
      left = binary("and", at, std::move(left), parse_not());
    }
    return left;
  }
  ExprPtr parse_not() {
    DepthGuard guard(*this);
    if (is_ident("not")) {
      const size_t at = here();
      ++cur_;
      auto e = std::make_unique<Expr>(ExprKind::Unary, at);
      e->text = "not";
      e->kids.push_back(parse_not());
      return e;
    }
    return parse_comparison();
  }
  ExprPtr parse_comparison() {
    auto left = parse_additive();
    while (true) {
      const size_t at = here();
      std::string op;
      if (is_ident("not") && is_ident("in", 1)) {
        op = "not in";
        cur_ += 2;
      } else if (is_ident("in") || is(Tok::ComparisonBinaryOperator)) {
        op = toks_[cur_++].value;
      } else {
        break;
      }
      left = binary(op, at, std::move(left), parse_additive());
    }
    return left;
  }
  ExprPtr parse_additive() {
    auto left = parse_multiplicative();
    while (is(Tok::AdditiveBinaryOperator)) {
      const size_t at = here();
      const std::string op = toks_[cur_++].value;
      left = binary(op, at, std::move(left), parse_multiplicative());
    }
    return left;
  }
  ExprPtr parse_multiplicative() {
    auto left = parse_power();
    while (is(Tok::MultiplicativeBinaryOperator)) {
      const size_t at = here();
      const std::string op = toks_[cur_++].value;
      left = binary(op, at, std::move(left), parse_power());
    }
    return left;
  }
  ExprPtr parse_power() {
    auto left = parse_test();
    while (is(Tok::ExponentiationBinaryOperator)) {
      const size_t at = here();
      ++cur_;
      left = binary("**", at, std::move(left), parse_test());
    }
    return left;
  }
  ExprPtr parse_test() {
    auto operand = parse_filter();
    while (is_ident("is")) {
      const size_t at = here();
      ++cur_;
      const bool negate = is_ident("not");
      if (negate) ++cur_;
      if (!is(Tok::Identifier)) fail("expected a test name after 'is', found " + describe_current());
      auto e = std::make_unique<Expr>(ExprKind::Test, at);
      e->text = toks_[cur_++].value;
      e->flag = negate;
      e->kids.push_back(std::move(operand));
      if (is(Tok::OpenParen))  // is divisibleby(3), is equalto(x): beyond the reference, harmless
        for (auto& a : parse_args(false)) e->kids.push_back(std::move(a));
      operand = std::move(e);
    }
    return operand;
  }
  ExprPtr parse_filter() {
    auto operand = parse_unary_sign();
    while (is(Tok::Pipe)) {
      ++cur_;
      operand = parse_filter_name(std::move(operand));
    }
    return operand;
  }
  ExprPtr parse_filter_name(ExprPtr operand) {
    if (!is(Tok::Identifier)) fail("expected a filter name, found " + describe_current());
    auto e = std::make_unique<Expr>(ExprKind::Filter, toks_[cur_].pos);
    e->text = toks_[cur_++].value;
    e->kids.push_back(std::move(operand));
    if (is(Tok::OpenParen)) {
      e->flag = true;
      for (auto& a : parse_args(false)) e->kids.push_back(std::move(a));
    }
    return e;
  }
  ExprPtr parse_unary_sign() {
    DepthGuard guard(*this);
    if ((is(Tok::UnaryOperator) || is(Tok::AdditiveBinaryOperator)) &&
        (toks_[cur_].value == "-" || toks_[cur_].value == "+")) {
      auto e = std::make_unique<Expr>(ExprKind::Unary, here());
      e->text = toks_[cur_++].value;
      e->kids.push_back(parse_unary_sign());
      return e;
    }
    return parse_call_member();
  }
  ExprPtr parse_call_member() {
    auto member = parse_member(parse_primary());
    while (is(Tok::OpenParen)) {
      auto call = std::make_unique<Expr>(ExprKind::Call, here());
      call->kids.push_back(std::move(member));
      for (auto& a : parse_args(false)) call->kids.push_back(std::move(a));
      member = parse_member(std::move(call));
    }
    return member;
  }

  // (a, b=1, *xs, **kw): call arguments, or macro parameters when `params`.
  std::vector<ExprPtr> parse_args(bool params) {
    expect(Tok::OpenParen, "'('");
    std::vector<ExprPtr> args;
    std::set<std::string> names;
    bool saw_keyword = false, saw_spread = false;
    while (!is(Tok::CloseParen)) {
      if (cur_ >= toks_.size()) fail("unclosed '(' in an argument list");
      const size_t at = here();
      const bool kw_spread = is(Tok::ExponentiationBinaryOperator);
      const bool spread = is(Tok::MultiplicativeBinaryOperator) && toks_[cur_].value == "*";
      if (params && (kw_spread || spread)) fail("argument unpacking is not allowed in parameter declarations");
      if (kw_spread) {
        ++cur_;
        auto e = std::make_unique<Expr>(ExprKind::KeywordSpread, at);
        e->kids.push_back(parse_expression());
        args.push_back(std::move(e));
        if (is(Tok::Comma)) ++cur_;
        if (!is(Tok::CloseParen)) fail("'**' must be applied to the final argument");
        break;
      }
      ExprPtr arg;
      if (spread) {
        if (saw_spread) fail("only one '*' argument unpacking is allowed");
        saw_spread = true;
        ++cur_;
        arg = std::make_unique<Expr>(ExprKind::Spread, at);
        arg->kids.push_back(parse_expression());
      } else {
        arg = parse_expression();
        if (is(Tok::Equals)) {
          ++cur_;
          if (arg->kind != ExprKind::Identifier)
            fail(params ? "expected a name for a parameter declaration" : "expected a name for a keyword argument", at);
          auto kw = std::make_unique<Expr>(ExprKind::KeywordArg, at);
          kw->text = arg->text;
          kw->kids.push_back(parse_expression());
          arg = std::move(kw);
        }
        if (params) {
          if (arg->kind != ExprKind::Identifier && arg->kind != ExprKind::KeywordArg)
            fail("expected a name for a parameter declaration", at);
          if (!names.insert(arg->text).second) fail("duplicate parameter name '" + arg->text + "'", at);
        }
        if (arg->kind == ExprKind::KeywordArg) saw_keyword = true;
        else if (saw_keyword)
          fail(params ? "non-default parameter follows a parameter with a default"
                      : "positional arguments must come before keyword arguments", at);
        else if (saw_spread) fail("positional arguments must not follow '*' unpacking", at);
      }
      args.push_back(std::move(arg));
      if (is(Tok::Comma)) ++cur_;
    }
    expect(Tok::CloseParen, "')'");
    return args;
  }

  ExprPtr parse_member(ExprPtr object) {
    while (is(Tok::Dot) || is(Tok::OpenSquareBracket)) {
      const bool computed = is(Tok::OpenSquareBracket);
      const size_t at = here();
      ++cur_;
      auto e = std::make_unique<Expr>(ExprKind::Member, at);
      e->flag = computed;
      e->kids.push_back(std::move(object));
      if (computed) {
        e->kids.push_back(parse_subscript());
        expect(Tok::CloseSquareBracket, "']'");
      } else {
        auto prop = parse_primary();
        if (prop->kind != ExprKind::Identifier && prop->kind != ExprKind::Integer)
          fail("expected a name or an integer after '.'", prop->pos);
        e->kids.push_back(std::move(prop));
      }
      object = std::move(e);
    }
    return object;
  }

  // [expr] or a slice [a:b:c] with any part omitted.
  ExprPtr parse_subscript() {
    const size_t at = here();
    std::vector<ExprPtr> parts;
    bool slice = false;
    while (!is(Tok::CloseSquareBracket)) {
      if (cur_ >= toks_.size()) fail("unclosed '['");
      if (is(Tok::Colon)) {
        parts.push_back(nullptr);
        ++cur_;
        slice = true;
      } else {
        parts.push_back(parse_expression());
        if (is(Tok::Colon)) {
          ++cur_;
          slice = true;
        }
      }
    }
    if (parts.empty()) fail("expected an index or a slice inside '[]'", at);
    if (!slice) return std::move(parts[0]);
    if (parts.size() > 3) fail("a slice takes at most 3 parts (start:stop:step)", at);
    auto e = std::make_unique<Expr>(ExprKind::Slice, at);
    for (auto& p : parts) e->kids.push_back(std::move(p));
    while (e->kids.size() < 3) e->kids.push_back(nullptr);
    return e;
  }

  ExprPtr parse_primary() {
    if (cur_ >= toks_.size()) fail("unexpected end of template inside an expression");
    const Token& t = toks_[cur_++];
    switch (t.type) {
      case Tok::NumericLiteral: {
        const bool is_float = t.value.find('.') != std::string::npos;
        auto e = std::make_unique<Expr>(is_float ? ExprKind::Float : ExprKind::Integer, t.pos);
        e->number = std::stod(t.value);
        return e;
      }
      case Tok::StringLiteral: {
        auto e = std::make_unique<Expr>(ExprKind::String, t.pos);
        e->text = t.value;
        while (is(Tok::StringLiteral)) e->text += toks_[cur_++].value;  // "a" "b" concatenates
        return e;
      }
      case Tok::Identifier: return ident(t.value, t.pos);
      case Tok::OpenParen: {
        auto e = parse_expression_sequence(false);
        expect(Tok::CloseParen, "')'");
        return e;
      }
      case Tok::OpenSquareBracket: {
        auto e = std::make_unique<Expr>(ExprKind::Array, t.pos);
        while (!is(Tok::CloseSquareBracket)) {
          if (cur_ >= toks_.size()) fail("unclosed '[' in a list literal", t.pos);
          e->kids.push_back(parse_expression());
          if (is(Tok::Comma)) ++cur_;
        }
        ++cur_;
        return e;
      }
      case Tok::OpenCurlyBracket: {
        auto e = std::make_unique<Expr>(ExprKind::Object, t.pos);
        while (!is(Tok::CloseCurlyBracket)) {
          if (cur_ >= toks_.size()) fail("unclosed '{' in a dict literal", t.pos);
          e->kids.push_back(parse_expression());
          expect(Tok::Colon, "':' between key and value in a dict literal");
          e->kids.push_back(parse_expression());
          if (is(Tok::Comma)) ++cur_;
        }
        ++cur_;
        return e;
      }
      default:
        --cur_;
        fail("unexpected " + describe_current() + " in an expression");
    }
  }
};

}  // namespace

std::unique_ptr<Program> parse_template(std::string source) {
  auto program = std::make_unique<Program>();
  program->source = std::move(source);
  Parser parser(program->source, tokenize(program->source));
  program->body = parser.parse_all();
  return program;
}

}  // namespace llmhost::tmpl::detail
