// Seeded generator of random templates for the differential test against @huggingface/jinja:
// random text with whitespace runs (incl. Unicode spaces, \r\n, stray braces and "%}"),
// tags with and without '-', comments, generation markers, if/else, for loops, set,
// namespaces, and expressions over the shared snippet context with operators, filters, tests
// and methods. Most random expressions are type errors; those must error on both sides.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmhost::tmpl::test {

class RandomTemplates {
 public:
  explicit RandomTemplates(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ULL + 1) {}

  // `whitespace_focus`: simple, valid expressions, so the lexer's whitespace handling decides.
  std::string make(bool whitespace_focus) {
    ws_focus_ = whitespace_focus;
    return block(0);
  }

 private:
  uint64_t state_;
  bool ws_focus_ = false;

  uint64_t next() {  // xorshift64*: the same sequence on every platform
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  double unit() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
  template <size_t N>
  const char* pick(const char* const (&options)[N]) { return options[below(N)]; }

  std::string expr(int depth) {
    static const char* const simple[] = {"n", "s", "'str'", "xs|length", "name", "t", "nothing", "' \\n '",
                                         "'%}\\n'", "'-}'", "{'a': {'b': 1}}"};
    static const char* const atoms[] = {
        "n", "f", "whole", "neg", "zero", "t", "no", "nothing", "s", "csv", "uni", "xs", "words", "empty",
        "emptyobj", "d", "people", "messages", "undefined_var", "1", "0", "2.5", "-3", "'str'", "''", "' sp '",
        "[1, 2]", "[]", "{'a': 1}", "{}", "true", "false", "none", "'\\n'", "messages[0]", "people[1].name", "d.z",
        "xs[-1]", "xs[1:]", "s[::-1]", "'a,b'.split(',')", "loop.index", "ns.v", "nums", "mixed", "ws"};
    static const char* const binops[] = {"+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=",
                                         "in", "not in", "and", "or", "**"};
    static const char* const filters[] = {
        "trim", "length", "upper", "lower", "title", "capitalize", "tojson", "join", "last", "reverse", "list",
        "string", "int", "float", "abs", "items", "safe", "indent", "sort", "unique", "default('D')",
        "default('D', true)", "join(', ')", "tojson(indent=2)", "replace('a', 'b')", "map(attribute='name')",
        "selectattr('admin')", "int(9)", "indent(2, true)", "dictsort", "tojson(separators=(',', ':'))"};
    static const char* const tests[] = {"defined", "undefined", "none", "string", "number", "integer", "iterable",
                                        "mapping", "sequence", "true", "false", "boolean", "odd", "even", "lower",
                                        "upper", "callable"};
    static const char* const methods[] = {".strip()", ".upper()", ".lower()", ".split()", ".split(',')",
                                          ".startswith('a')", ".endswith('!')", ".title()", ".replace('l', 'L')",
                                          ".get('a')", ".keys()", ".items()", ".values()", ".lstrip()", ".rstrip()",
                                          ".length"};
    if (ws_focus_) return pick(simple);
    const double r = unit();
    if (depth > 1 || r < 0.45) {
      std::string a = pick(atoms);
      if (unit() < 0.2) a += pick(methods);
      return a;
    }
    if (r < 0.6) return expr(depth + 1) + " " + pick(binops) + " " + expr(depth + 1);
    if (r < 0.72) return expr(depth + 1) + "|" + pick(filters);
    if (r < 0.78) return expr(depth + 1) + " is " + (unit() < 0.3 ? "not " : "") + pick(tests);
    if (r < 0.85) return "(" + expr(depth + 1) + " if " + expr(depth + 1) + " else " + expr(depth + 1) + ")";
    if (r < 0.9) return "not " + expr(depth + 1);
    if (r < 0.95) return "[" + expr(depth + 1) + ", " + expr(depth + 1) + "]";
    return "(" + expr(depth + 1) + ")";
  }

  std::string open() { return unit() < 0.5 ? "{%" : "{%-"; }
  std::string close() { return unit() < 0.5 ? "%}" : "-%}"; }

  std::string block(int depth) {
    static const char* const ws[] = {"", " ", "  ", "\n", " \n", "\n  ", "\t", "\n\n", "x", " y ", "\xC2\xA0",
                                     "\xE3\x80\x80", "\r\n", "\n\t ", "%}\n", "-}\n", "#}\n", "{", "}", "}}", "{-",
                                     " \xE2\x80\xA8 ", "\r  "};
    static const char* const loops[] = {"xs", "words", "people", "messages", "d", "empty", "range(3)"};
    static const char* const gen[] = {"{% generation %}", "{%- generation -%}", "{% endgeneration %}",
                                      " {%- endgeneration %} \n"};
    std::string out;
    const size_t parts = 1 + below(4);
    for (size_t i = 0; i < parts; ++i) {
      out += pick(ws);
      const double k = unit();
      if (k < 0.35) {
        out += std::string(unit() < 0.5 ? "{{" : "{{-") + " " + expr(0) + " " + (unit() < 0.5 ? "}}" : "-}}");
      } else if (k < 0.45) {
        out += std::string(unit() < 0.5 ? "{#" : "{#-") + " c " + (unit() < 0.5 ? "#}" : "-#}");
      } else if (k < 0.6 && depth < 2) {
        out += open() + " if " + expr(0) + " " + close() + block(depth + 1) + open() + " else " + close() +
               block(depth + 1) + open() + " endif " + close();
      } else if (k < 0.75 && depth < 2) {
        out += open() + " for x in " + pick(loops) + (unit() < 0.2 ? " if x" : "") + " " + close() + block(depth + 1) +
               "{{ x }}" + open() + " endfor " + close();
      } else if (k < 0.85) {
        out += open() + " set v = " + expr(0) + " " + close() + "{{ v }}";
      } else if (k < 0.9) {
        out += open() + " set ns = namespace(v=1) " + close() + open() + " set ns.v = " + expr(0) + " " + close() +
               "{{ ns.v }}";
      } else if (k < 0.95) {
        out += pick(gen);
      }
      out += pick(ws);
    }
    return out;
  }
};

}  // namespace llmhost::tmpl::test
