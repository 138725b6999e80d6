#include "lexer.hpp"

#include <cctype>

#include "errors.hpp"
#include "llmhost/template/chat_template.hpp"
#include "unicode.hpp"

namespace llmhost::tmpl::detail {

const char* tok_name(Tok t) {
  static const char* names[] = {
      "Text", "NumericLiteral", "StringLiteral", "Identifier", "Equals", "OpenParen", "CloseParen",
      "OpenStatement", "CloseStatement", "OpenExpression", "CloseExpression", "OpenSquareBracket",
      "CloseSquareBracket", "OpenCurlyBracket", "CloseCurlyBracket", "Comma", "Dot", "Colon", "Pipe",
      "AdditiveBinaryOperator", "MultiplicativeBinaryOperator", "ExponentiationBinaryOperator",
      "ComparisonBinaryOperator", "UnaryOperator", "Comment"};
  return names[static_cast<int>(t)];
}

namespace {

// Text plus, for each byte, its offset in the original source. Preprocessing deletes bytes;
// the map keeps error positions pointing at what the author wrote.
struct Mapped {
  std::string text;
  std::vector<size_t> origin;

  void push(char c, size_t at) { text += c; origin.push_back(at); }
  size_t at(size_t i) const { return i < origin.size() ? origin[i] : (origin.empty() ? 0 : origin.back() + 1); }
};

bool is_line_start(const std::string& s, size_t i) {
  // JS /^/m: start of input or after a line terminator (\n, \r, U+2028, U+2029).
  if (i == 0) return true;
  const char p = s[i - 1];
  if (p == '\n' || p == '\r') return true;
  return i >= 3 && (s.compare(i - 3, 3, "\xE2\x80\xA8") == 0 || s.compare(i - 3, 3, "\xE2\x80\xA9") == 0);
}

// preprocess() of the reference, with lstrip_blocks and trim_blocks on (Template's defaults).
Mapped preprocess(std::string_view source) {
  Mapped in;
  for (size_t i = 0; i < source.size(); ++i) in.push(source[i], i);
  if (!in.text.empty() && in.text.back() == '\n') {  // a single trailing newline is dropped
    in.text.pop_back();
    in.origin.pop_back();
  }
  // lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1"
  Mapped a;
  for (size_t i = 0; i < in.text.size();) {
    if (is_line_start(in.text, i)) {
      size_t j = i;
      while (j < in.text.size() && (in.text[j] == ' ' || in.text[j] == '\t')) ++j;
      if (j > i && j + 1 < in.text.size() && in.text[j] == '{' &&
          (in.text[j + 1] == '#' || in.text[j + 1] == '%' || in.text[j + 1] == '-')) {
        i = j;  // drop the indentation
      }
    }
    a.push(in.text[i], in.origin[i]);
    ++i;
  }
  // trim_blocks: /([#%-]})\n/g -> "$1"
  Mapped b;
  for (size_t i = 0; i < a.text.size(); ++i) {
    b.push(a.text[i], a.origin[i]);
    if (a.text[i] == '}' && i > 0 && (a.text[i - 1] == '#' || a.text[i - 1] == '%' || a.text[i - 1] == '-') &&
        i + 1 < a.text.size() && a.text[i + 1] == '\n')
      ++i;
  }
  // transformers' {% generation %} / {% endgeneration %} markers are removed, honouring '-':
  // /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs
  Mapped c;
  const std::string& s = b.text;
  size_t copied = 0;  // s[0, copied) has been handled
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] != '{' || s[i + 1] != '%') continue;
    size_t j = i + 2;
    const bool lstrip = j < s.size() && s[j] == '-';
    if (lstrip) ++j;
    while (size_t n = js_space_at(s, j)) j += n;
    if (s.compare(j, 3, "end") == 0) j += 3;
    if (s.compare(j, 10, "generation") != 0) continue;
    j += 10;
    while (size_t n = js_space_at(s, j)) j += n;
    const bool rstrip = j < s.size() && s[j] == '-';
    if (rstrip) ++j;
    if (s.compare(j, 2, "%}") != 0) continue;
    j += 2;
    size_t ws_begin = copied;  // the whitespace run right before the tag, after what we copied
    for (size_t k = copied, len = 0; k < i; k += len) {
      const uint32_t cp = decode_utf8(s, k, len);
      if (!is_js_space(cp)) ws_begin = k + len;
    }
    size_t ws_end = j;
    while (size_t n = js_space_at(s, ws_end)) ws_end += n;
    for (size_t k = copied; k < ws_begin; ++k) c.push(s[k], b.origin[k]);
    if (!lstrip)
      for (size_t k = ws_begin; k < i; ++k) c.push(s[k], b.origin[k]);
    if (!rstrip)
      for (size_t k = j; k < ws_end; ++k) c.push(s[k], b.origin[k]);
    copied = ws_end;
    i = ws_end == 0 ? 0 : ws_end - 1;
  }
  for (size_t k = copied; k < s.size(); ++k) c.push(s[k], b.origin[k]);
  return c;
}

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct Lexer {
  std::string_view original;
  Mapped src;
  size_t cur = 0;
  std::vector<Token> tokens;

  [[noreturn]] void fail(const std::string& msg, size_t at) const {
    auto [line, col] = line_column(original, src.at(at));
    throw TemplateError("template syntax error at " + std::to_string(line) + ":" + std::to_string(col) + ": " + msg,
                        line, col);
  }
  size_t size() const { return src.text.size(); }
  char ch(size_t i) const { return i < size() ? src.text[i] : '\0'; }
  bool starts(std::string_view seq) const { return src.text.compare(cur, seq.size(), seq) == 0; }
  void push(Tok t, std::string v, size_t at) { tokens.push_back({t, std::move(v), src.at(at)}); }
  Tok last() const { return tokens.back().type; }

  size_t skip_space(size_t i) const {
    while (size_t n = js_space_at(src.text, i)) i += n;
    return i;
  }

  // consumeWhile() with the reference's escape handling (used for string literals).
  std::string string_literal(char quote, size_t start) {
    std::string out;
    while (true) {
      if (cur >= size()) fail("unterminated string literal", start);
      const char c = src.text[cur];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++cur;
        continue;
      }
      if (++cur >= size()) fail("unexpected end of input in string literal", start);
      const char e = src.text[cur++];
      if (e == 'x' || e == 'u') {
        const size_t n = e == 'x' ? 2 : 4;
        const std::string hex = src.text.substr(cur, n);
        if (hex.size() != n || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
          fail("invalid hexadecimal escape sequence \\" + std::string(1, e) + hex, cur - 2);
        uint32_t unit = static_cast<uint32_t>(std::stoul(hex, nullptr, 16));
        cur += n;
        if (unit >= 0xD800 && unit <= 0xDBFF && starts("\\u")) {  // a surrogate pair in two escapes
          const std::string lo = src.text.substr(cur + 2, 4);
          if (lo.size() == 4 && lo.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
            const uint32_t low = static_cast<uint32_t>(std::stoul(lo, nullptr, 16));
            if (low >= 0xDC00 && low <= 0xDFFF) {
              unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
              cur += 6;
            }
          }
        }
        if (unit >= 0xD800 && unit <= 0xDFFF) fail("unpaired surrogate in \\u escape (not representable in UTF-8)", cur - 6);
        append_utf8(out, unit);
        continue;
      }
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\'': case '"': case '\\': out += e; break;
        default: fail(std::string("unexpected escaped character \\") + e + " in string literal", cur - 2);
      }
    }
    ++cur;  // closing quote
    return out;
  }

  std::string digits() {
    const size_t b = cur;
    while (cur < size() && is_digit(src.text[cur])) ++cur;
    return src.text.substr(b, cur - b);
  }

  void strip_trailing_whitespace() {
    if (!tokens.empty() && last() == Tok::Text) {
      tokens.back().value = js_trim_end(tokens.back().value);
      if (tokens.back().value.empty()) tokens.pop_back();
    }
  }

  void run() {
    long curly_depth = 0;  // signed like the reference's counter
    while (cur < size()) {
      if (tokens.empty() || last() == Tok::CloseStatement || last() == Tok::CloseExpression || last() == Tok::Comment) {
        const size_t b = cur;
        while (cur < size() && !(src.text[cur] == '{' && (ch(cur + 1) == '%' || ch(cur + 1) == '{' || ch(cur + 1) == '#')))
          ++cur;
        if (cur > b) {
          push(Tok::Text, src.text.substr(b, cur - b), b);
          continue;
        }
      }
      if (starts("{#")) {
        const size_t b = cur;
        cur += 2;
        const bool strip_before = ch(cur) == '-';
        if (strip_before) ++cur;
        const size_t end = src.text.find("#}", cur);
        if (end == std::string::npos) fail("missing end of comment tag #}", b);
        std::string comment = src.text.substr(cur, end - cur);
        const bool strip_after = !comment.empty() && comment.back() == '-';
        if (strip_after) comment.pop_back();
        if (strip_before) strip_trailing_whitespace();
        push(Tok::Comment, comment, b);
        cur = end + 2;
        if (strip_after) cur = skip_space(cur);
        continue;
      }
      if (starts("{%-")) {
        strip_trailing_whitespace();
        push(Tok::OpenStatement, "{%", cur);
        cur += 3;
        continue;
      }
      if (starts("{{-")) {
        strip_trailing_whitespace();
        push(Tok::OpenExpression, "{{", cur);
        curly_depth = 0;
        cur += 3;
        continue;
      }
      cur = skip_space(cur);
      if (cur >= size()) break;
      if (starts("-%}")) {
        push(Tok::CloseStatement, "%}", cur);
        cur = skip_space(cur + 3);
        continue;
      }
      if (starts("-}}")) {
        push(Tok::CloseExpression, "}}", cur);
        cur = skip_space(cur + 3);
        continue;
      }
      const char c = src.text[cur];
      if ((c == '-' || c == '+')) {
        if (tokens.empty() || last() == Tok::Text) fail(std::string("unexpected character '") + c + "'", cur);
        const Tok lt = last();
        if (!(lt == Tok::Identifier || lt == Tok::NumericLiteral || lt == Tok::StringLiteral || lt == Tok::CloseParen ||
              lt == Tok::CloseSquareBracket)) {
          const size_t b = cur++;
          std::string num = digits();
          if (!num.empty() && ch(cur) == '.' && is_digit(ch(cur + 1))) {
            ++cur;
            num += "." + digits();
          }
          push(num.empty() ? Tok::UnaryOperator : Tok::NumericLiteral, std::string(1, c) + num, b);
          continue;
        }
      }
      if (match_table(curly_depth)) continue;
      if (c == '\'' || c == '"') {
        const size_t b = cur++;
        push(Tok::StringLiteral, string_literal(c, b), b);
        continue;
      }
      if (is_digit(c)) {
        const size_t b = cur;
        std::string num = digits();
        if ((tokens.empty() || last() != Tok::Dot) && ch(cur) == '.' && is_digit(ch(cur + 1))) {
          ++cur;
          num += "." + digits();
        }
        push(Tok::NumericLiteral, num, b);
        continue;
      }
      if (is_word(c)) {
        const size_t b = cur;
        while (cur < size() && is_word(src.text[cur])) ++cur;
        push(Tok::Identifier, src.text.substr(b, cur - b), b);
        continue;
      }
      size_t len = 0;
      const uint32_t cp = decode_utf8(src.text, cur, len);
      std::string shown;
      append_utf8(shown, cp);
      fail("unexpected character '" + shown + "' inside a tag", cur);
    }
  }

  bool match_table(long& curly_depth) {
    static const std::pair<const char*, Tok> table[] = {
        {"{%", Tok::OpenStatement}, {"%}", Tok::CloseStatement}, {"{{", Tok::OpenExpression},
        {"}}", Tok::CloseExpression}, {"(", Tok::OpenParen}, {")", Tok::CloseParen},
        {"{", Tok::OpenCurlyBracket}, {"}", Tok::CloseCurlyBracket}, {"[", Tok::OpenSquareBracket},
        {"]", Tok::CloseSquareBracket}, {",", Tok::Comma}, {".", Tok::Dot}, {":", Tok::Colon},
        {"|", Tok::Pipe}, {"<=", Tok::ComparisonBinaryOperator}, {">=", Tok::ComparisonBinaryOperator},
        {"==", Tok::ComparisonBinaryOperator}, {"!=", Tok::ComparisonBinaryOperator},
        {"<", Tok::ComparisonBinaryOperator}, {">", Tok::ComparisonBinaryOperator},
        {"+", Tok::AdditiveBinaryOperator}, {"-", Tok::AdditiveBinaryOperator}, {"~", Tok::AdditiveBinaryOperator},
        {"**", Tok::ExponentiationBinaryOperator}, {"*", Tok::MultiplicativeBinaryOperator},
        {"//", Tok::MultiplicativeBinaryOperator}, {"/", Tok::MultiplicativeBinaryOperator},
        {"%", Tok::MultiplicativeBinaryOperator}, {"=", Tok::Equals}};
    for (const auto& [seq, type] : table) {
      const std::string_view sv(seq);
      if (sv == "}}" && curly_depth > 0) continue;  // inside an object literal
      if (!starts(sv)) continue;
      push(type, std::string(sv), cur);
      if (type == Tok::OpenExpression) curly_depth = 0;
      else if (type == Tok::OpenCurlyBracket) ++curly_depth;
      else if (type == Tok::CloseCurlyBracket) --curly_depth;
      cur += sv.size();
      return true;
    }
    return false;
  }
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  Lexer lx{source, preprocess(source), 0, {}};
  lx.run();
  return std::move(lx.tokens);
}

}  // namespace llmhost::tmpl::detail
