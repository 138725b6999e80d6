// Expression grammar, lowest precedence first: ternary / select, or, and, not, comparison and
// membership, + - ~, * / // %, **, is-tests, |filters, unary sign, member access and calls,
// primaries. Mirrors @huggingface/jinja's parser.
#include <cstdlib>
#include <set>

#include "parser_impl.hpp"

namespace llmhost::tmpl::detail {

ExprPtr Parser::ident(const std::string& name, size_t pos) {
  auto e = std::make_unique<Expr>(ExprKind::Identifier, pos);
  e->text = name;
  return e;
}

ExprPtr Parser::binary(const std::string& op, size_t pos, ExprPtr l, ExprPtr r) {
  auto e = std::make_unique<Expr>(ExprKind::Binary, pos);
  e->text = op;
  e->kids.push_back(std::move(l));
  e->kids.push_back(std::move(r));
  return e;
}

ExprPtr Parser::parse_expression_sequence(bool primary) {
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

ExprPtr Parser::parse_expression() {
  DepthGuard guard(*this);
  return parse_if_expression();
}

ExprPtr Parser::parse_if_expression() {
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

ExprPtr Parser::parse_or() {
  auto left = parse_and();
  while (is_ident("or")) {
    const size_t at = here();
    ++cur_;
    left = binary("or", at, std::move(left), parse_and());
  }
  return left;
}

ExprPtr Parser::parse_and() {
  auto left = parse_not();
  while (is_ident("and")) {
    const size_t at = here();
    ++cur_;
    left = binary("and", at, std::move(left), parse_not());
  }
  return left;
}

ExprPtr Parser::parse_not() {
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

ExprPtr Parser::parse_comparison() {
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

ExprPtr Parser::parse_additive() {
  auto left = parse_multiplicative();
  while (is(Tok::AdditiveBinaryOperator)) {
    const size_t at = here();
    const std::string op = toks_[cur_++].value;
    left = binary(op, at, std::move(left), parse_multiplicative());
  }
  return left;
}

ExprPtr Parser::parse_multiplicative() {
  auto left = parse_power();
  while (is(Tok::MultiplicativeBinaryOperator)) {
    const size_t at = here();
    const std::string op = toks_[cur_++].value;
    left = binary(op, at, std::move(left), parse_power());
  }
  return left;
}

ExprPtr Parser::parse_power() {
  auto left = parse_test();
  while (is(Tok::ExponentiationBinaryOperator)) {
    const size_t at = here();
    ++cur_;
    left = binary("**", at, std::move(left), parse_test());
  }
  return left;
}

ExprPtr Parser::parse_test() {
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

ExprPtr Parser::parse_filter() {
  auto operand = parse_unary_sign();
  while (is(Tok::Pipe)) {
    ++cur_;
    operand = parse_filter_name(std::move(operand));
  }
  return operand;
}

ExprPtr Parser::parse_filter_name(ExprPtr operand) {
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

ExprPtr Parser::parse_unary_sign() {
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

ExprPtr Parser::parse_call_member() {
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
std::vector<ExprPtr> Parser::parse_args(bool params) {
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

ExprPtr Parser::parse_member(ExprPtr object) {
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
ExprPtr Parser::parse_subscript() {
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

ExprPtr Parser::parse_primary() {
  if (cur_ >= toks_.size()) fail("unexpected end of template inside an expression");
  const Token& t = toks_[cur_++];
  switch (t.type) {
    case Tok::NumericLiteral: {
      const bool is_float = t.value.find('.') != std::string::npos;
      auto e = std::make_unique<Expr>(is_float ? ExprKind::Float : ExprKind::Integer, t.pos);
      e->number = std::strtod(t.value.c_str(), nullptr);  // overflow gives inf, as Number() in JS
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
}  // namespace llmhost::tmpl::detail
