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

  enum class Kind { Expressions, Whitespace, Blocks };

  // Expressions: random operators/filters/tests/methods over the context (mostly type errors).
  // Whitespace: simple valid expressions, so the lexer's whitespace handling decides.
  // Blocks: macros, call and filter blocks, block set, loops with break/continue, slices.
  std::string make(Kind kind) {
    ws_focus_ = kind == Kind::Whitespace;
    if (kind == Kind::Blocks) {
      static const char* const prelude[] = {
          "{% set ns = namespace(c=0) %}{% macro m(a=0, b='B') %}<{{ a }}{{ b }}{{ caller() if caller is defined }}>{% endmacro %}",
          "{% set ns = namespace(c=0) %}{% macro m(a, b='B') %}<{{ a }}|{{ b }}|{{ varargs }}|{{ kwargs }}>{% endmacro %}"};
      return std::string(pick(prelude)) + structure(0);
    }
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

  // Pieces for Kind::Blocks. No characters outside the BMP and no float powers: there we
  // differ from the reference on purpose (see docs/chat-templates.md).
  std::string index_value() { static const char* const v[] = {"", "0", "1", "-1", "2", "-2", "5", "-5", "n", "zero"}; return pick(v); }
  std::string sequence() {
    static const char* const v[] = {"xs", "words", "'h\xC3\xA9llo\xE2\x86\x92'", "messages", "empty", "people",
                                    "[1,2,3,4,5]", "s", "range(6)", "'abc'"};
    return pick(v);
  }
  std::string block_expr() {
    static const char* const literals[] = {"'a\\tb'", "'\\\\'", "\"q\\\"\"", "'\\x41\\u00e9'", "'{{x}}'", "'%}'", "'\\n'"};
    static const char* const loop_attrs[] = {"index", "index0", "first", "last", "length", "revindex", "revindex0",
                                             "previtem", "nextitem"};
    static const char* const calls[] = {"", "1", "1, 2", "b=3", "1, b=2", "a=1, b=2", "1, 2, 3"};
    static const char* const seq_filters[] = {"length", "reverse", "list", "join", "join(\"-\")", "tojson", "string",
                                              "unique", "sort"};
    static const char* const ops[] = {"+", "-", "*", "/", "//", "%"};
    static const char* const lhs[] = {"n", "f", "neg", "whole"};
    static const char* const rhs[] = {"2", "-3", "0.5", "n", "f", "0"};
    static const char* const names[] = {"x", "y", "v", "ns.c", "caller is defined"};
    const double k = unit();
    if (k < 0.25) {
      std::string e = sequence() + "[" + index_value() + ":" + index_value();
      if (unit() < 0.6) e += ":" + index_value();
      return e + "]";
    }
    if (k < 0.35) { const std::string i = index_value(); return sequence() + "[" + (i.empty() ? "0" : i) + "]"; }
    if (k < 0.45) return pick(literals);
    if (k < 0.55) return std::string("loop.") + pick(loop_attrs);
    if (k < 0.65) return std::string("m(") + pick(calls) + ")";
    if (k < 0.75) return sequence() + "|" + pick(seq_filters);
    if (k < 0.85) return std::string(pick(lhs)) + " " + pick(ops) + " " + pick(rhs);
    return pick(names);
  }
  std::string structure(int depth) {
    static const char* const loop_tail[] = {"", "{% if loop.index is even %}{% continue %}{% endif %}",
                                            "{% if loop.index > 2 %}{% break %}{% endif %}"};
    static const char* const block_filters[] = {"upper", "trim", "lower", "title", "length", "indent(2)", "replace('a','b')"};
    static const char* const filler[] = {" ", "\n", "t", "\n  "};
    std::string out;
    const size_t parts = 1 + below(4);
    for (size_t i = 0; i < parts; ++i) {
      const double k = unit();
      if (k < 0.3) out += "{{ " + block_expr() + " }}";
      else if (k < 0.45 && depth < 2)
        out += "{% for x in " + sequence() + " %}" + structure(depth + 1) + pick(loop_tail) + "{% else %}E{% endfor %}";
      else if (k < 0.55 && depth < 2)
        out += std::string("{% filter ") + pick(block_filters) + " %} " + structure(depth + 1) + " {% endfilter %}";
      else if (k < 0.62 && depth < 2) out += "{% set v %}" + structure(depth + 1) + "{% endset %}[{{ v }}]";
      else if (k < 0.7) out += "{% set ns.c = ns.c + 1 %}{{ ns.c }}";
      else if (k < 0.78 && depth < 2)
        out += std::string("{% call m(") + (unit() < 0.5 ? "" : "1") + ") %}" + structure(depth + 1) + "{% endcall %}";
      else if (k < 0.85) out += "{% set y = " + block_expr() + " %}{{ y }}";
      else out += pick(filler);
    }
    return out;
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
