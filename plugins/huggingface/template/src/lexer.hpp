// Template source -> tokens, following @huggingface/jinja's lexer step by step (its
// preprocessing with trim_blocks + lstrip_blocks, its whitespace control, its unary-minus rule),
// while remembering for every token the byte offset in the ORIGINAL source, for line:column.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmhost::tmpl::detail {

enum class Tok {
  Text, NumericLiteral, StringLiteral, Identifier, Equals, OpenParen, CloseParen,
  OpenStatement, CloseStatement, OpenExpression, CloseExpression, OpenSquareBracket,
  CloseSquareBracket, OpenCurlyBracket, CloseCurlyBracket, Comma, Dot, Colon, Pipe,
  AdditiveBinaryOperator, MultiplicativeBinaryOperator, ExponentiationBinaryOperator,
  ComparisonBinaryOperator, UnaryOperator, Comment,
};

const char* tok_name(Tok t);

struct Token {
  Tok type;
  std::string value;
  size_t pos;  // byte offset in the original source
};

// Throws TemplateError with line:column on malformed input.
std::vector<Token> tokenize(std::string_view source);

}  // namespace llmhost::tmpl::detail
