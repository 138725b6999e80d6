// Unit tests of the template engine that need no node: whitespace control, loops, scoping,
// namespaces, filters, slicing, tojson. Expected strings are what @huggingface/jinja renders
// for the same input (checked once by hand with it; the parity test checks many more).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "llmhost/template/chat_template.hpp"

using llmhost::tmpl::Template;
using ojson = nlohmann::ordered_json;

namespace {
std::string render(const std::string& src, const ojson& ctx = ojson::object()) { return Template(src).render(ctx); }
}  // namespace

TEST_CASE("text, expressions and the single trailing newline") {
  CHECK(render("Hello {{ name }}!\n", {{"name", "World"}}) == "Hello World!");
  CHECK(render("a\n\n") == "a\n");
  CHECK(render("{{ none }}|{{ missing }}|{{ true }}|{{ 3.0 }}|{{ 7 / 2 }}|{{ 4 / 2 }}") == "||true|3.0|3.5|2.0");
  CHECK(render("{{ 0.1 + 0.2 }}|{{ 123456789012345678901234 }}|{{ -0.0 }}") == "0.30000000000000004|1.2345678901234569e+23|-0.0");
}

TEST_CASE("whitespace control: '-' markers, trim_blocks and lstrip_blocks") {
  CHECK(render("a  {#- c -#}  b") == "ab");
  CHECK(render("  {%- if true %}  x  {% endif -%}  \n y {{- ' z ' -}} w") == "  x  y z w");
  // lstrip_blocks removes indentation before {% and {#, not before {{; trim_blocks eats one newline after %}.
  CHECK(render("line\n    {% if true %}\n    indented\n    {% endif %}\n  {{ 'expr' }}\nend") ==
        "line\n    indented\n  expr\nend");
  CHECK(render("{% for m in xs %}\n  {% if m %}\n    U: {{ m }}\n  {% endif %}\n{% endfor %}\nend\n",
               {{"xs", {1, 0, 2}}}) == "    U: 1\n    U: 2\nend");
  // -%} also strips Unicode spaces, like JS /\s/.
  CHECK(render("{%- if true -%}\xC2\xA0\xE3\x80\x80x{%- endif -%}") == "x");
  CHECK(render("{% generation %}kept{% endgeneration %}|  {%- generation -%}  trimmed  {%- endgeneration %}|") ==
        "kept|trimmed|");
}

TEST_CASE("for loops: loop variables, else, filters, dicts, break and continue") {
  const ojson ctx = {{"xs", {3, 1, 2}}, {"d", {{"b", 2}, {"a", 1}}}, {"empty", ojson::array()}};
  CHECK(render("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}"
               "{{ loop.length }};{% endfor %}", ctx) == "103truefalse3;212falsefalse3;321falsetrue3;");
  CHECK(render("{% for x in empty %}x{% else %}none{% endfor %}", ctx) == "none");
  CHECK(render("{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% endfor %}", ctx) == "3222");
  CHECK(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", ctx) ==
        "b=2;a=1;ba");
  CHECK(render("{% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}"
               "{% if x == 4 %}{% break %}{% endif %}<{{ x }}>{% endfor %}") == "<1><3>");
  // set inside a loop stays in the loop's scope
  CHECK(render("{% set a = 1 %}{% for x in xs %}{% set a = a + x %}{{ a }},{% endfor %}|{{ a }}", ctx) == "4,5,7,|1");
}

TEST_CASE("namespaces carry state out of loops") {
  const ojson ctx = {{"people", {{{"age", 31}}, {{"age", 25}}}}};
  CHECK(render("{% set ns = namespace(total=0, seen=false) %}{% for p in people %}{% set ns.total = ns.total + p.age %}"
               "{% set ns.seen = true %}{% endfor %}{{ ns.total }} {{ ns.seen }}", ctx) == "56 true");
  CHECK(render("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c }}") == "12");
}

TEST_CASE("slicing, indexing and members") {
  const ojson ctx = {{"xs", {3, 1, 2}}, {"d", {{"z", {{"deep", {10, 20}}}}}}};
  CHECK(render("{{ xs[::-1] }}|{{ xs[1:] }}|{{ xs[:-1] }}|{{ xs[::2] }}|{{ xs[-2:] }}|{{ xs[10:] }}|{{ xs[-1] }}|{{ xs[9] }}",
               ctx) == "[2, 1, 3]|[1, 2]|[3, 1]|[3, 2]|[1, 2]|[]|2|");
  CHECK(render("{{ 'hello'[1:3] }}|{{ 'h\xC3\xA9llo'[::-1] }}|{{ 'h\xC3\xA9llo'[1] }}") == "el|oll\xC3\xA9h|\xC3\xA9");
  CHECK(render("{{ d.z.deep[1] }}{{ d['z'].deep.0 }}|{{ d.missing.deeper }}|{{ xs.length }}", ctx) == "2010||3");
}

TEST_CASE("operators: arithmetic, comparison, membership, logic, concatenation") {
  CHECK(render("{{ 7 // 2 }}|{{ -4 % 3 }}|{{ -4 // 3 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ 10 - -2 }}") == "3|-1|-2|1024|0.5|12");
  CHECK(render("{{ 'a' ~ 1 ~ 2.0 ~ true }}|{{ 'x' + 1 }}|{{ [1] + [2] }}") == "a12true|x1|[1, 2]");
  CHECK(render("{{ 1 == 1.0 }}{{ '1' == 1 }}{{ 'ell' in 'hello' }}{{ 'q' not in {'a': 1} }}{{ 2 in [1, 2] }}") ==
        "truetruetruetruetrue");
  CHECK(render("{{ false or 'fb' }}|{{ [] or 'empty' }}|{{ not 1 == 2 }}|{{ 'y' if 0 else 'n' }}|[{{ 'x' if false }}]") ==
        "fb|empty|true|n|[]");
}

TEST_CASE("filters") {
  const ojson ctx = {{"people", {{{"name", "Ann"}, {"admin", true}}, {{"name", "bob"}, {"admin", false}}, {{"name", "Cy"}}}},
                     {"words", {"pear", "Apple", "banana"}}};
  CHECK(render("{{ '  x  '|trim }}|{{ 'abc'|upper }}|{{ 'hello wORLD'|title }}|{{ 'ab'|length }}|{{ [1, 2]|length }}") ==
        "x|ABC|Hello WORLD|2|2");
  CHECK(render("{{ people|map(attribute='name')|join(', ') }}|{{ people|selectattr('admin')|map(attribute='name')|list }}"
               "|{{ people|rejectattr('admin')|length }}|{{ people|selectattr('name', 'equalto', 'bob')|length }}", ctx) ==
        "Ann, bob, Cy|[\"Ann\"]|2|1");
  CHECK(render("{{ words|sort }}|{{ words|sort(reverse=true)|first }}|{{ words|last }}|{{ words|reverse|join('-') }}", ctx) ==
        "[\"Apple\", \"banana\", \"pear\"]|pear|banana|banana-Apple-pear");
  CHECK(render("{{ x|default('d') }}|{{ ''|default('d', true) }}|{{ '42'|int }}|{{ 'x'|int(5) }}|{{ '3.75kg'|float }}") ==
        "d|d|42|5|3.75");
  CHECK(render("{{ 'a\\nb\\n\\nc'|indent(2) }}") == "a\n  b\n\n  c");
  CHECK(render("{{ 'x.y'|replace('.', '::') }}|{{ {'b': 1, 'a': 2}|items|list }}|{{ {'b': 1, 'a': 2}|dictsort }}") ==
        "x::y|[[\"b\", 1], [\"a\", 2]]|[[\"a\", 2], [\"b\", 1]]");
}

TEST_CASE("tojson: Python separators, JSON.stringify escaping, indent, ensure_ascii") {
  const ojson ctx = {{"d", {{"b", 2}, {"a", {1, 2.5, nullptr, true}}, {"s", "\xC3\xA9\"\\\n\x01"}}}};
  CHECK(render("{{ d|tojson }}", ctx) == "{\"b\": 2, \"a\": [1, 2.5, null, true], \"s\": \"\xC3\xA9\\\"\\\\\\n\\u0001\"}");
  CHECK(render("{{ d.a|tojson(indent=2) }}", ctx) == "[\n  1,\n  2.5,\n  null,\n  true\n]");
  CHECK(render("{{ d|tojson(separators=(',', ':'), sort_keys=true) }}", ctx) ==
        "{\"a\":[1,2.5,null,true],\"b\":2,\"s\":\"\xC3\xA9\\\"\\\\\\n\\u0001\"}");
  CHECK(render("{{ '\xC3\xA9\xF0\x9F\x98\x80'|tojson(ensure_ascii=true) }}") == "\"\\u00e9\\ud83d\\ude00\"");
  CHECK(render("{{ [] | tojson(indent=2) }}{{ {} | tojson(indent=2) }}") == "[]{}");
  // Integral floats arrive as integers (as after JSON.parse in JS); the key order of the input is kept.
  CHECK(render("{{ v|tojson }}", {{"v", {{"z", 2.0}, {"a", 1.5}}}}) == "{\"z\": 2, \"a\": 1.5}");
}

TEST_CASE("string methods") {
  CHECK(render("{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ '  a  b '.split() }}") ==
        "[\"a\", \"b\", \"\", \"c\"]|[\"a\", \"b,c\"]|[\"a\", \"b\"]");
  CHECK(render("{{ 'x</think>y'.split('</think>')[-1] }}|{{ ' x '.strip() }}|{{ '\\n x'.lstrip('\\n') }}|{{ 'aaa'.replace('a', 'b', 2) }}") ==
        "y|x|x|bba");
  CHECK(render("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}") ==
        "truetrueABab");
  CHECK(render("{{ {'a': 1}.get('a') }}{{ {'a': 1}.get('b', 'd') }}{{ {'a': 1}.keys() }}{{ {'a': 1}.values() }}") ==
        "1d[\"a\"][1]");
}

TEST_CASE("tests with is / is not") {
  CHECK(render("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 1 is not none }}{{ 1 is number }}"
               "{{ 1 is integer }}{{ 's' is string }}{{ [] is iterable }}{{ {} is mapping }}{{ true is true }}"
               "{{ false is false }}{{ 3 is odd }}{{ 4 is even }}") ==
        "falsetruetruetruetruetruetruetruetruetruetruetruetrue");
  CHECK(render("{{ 6 is divisibleby(3) }}{{ 'a' is equalto('a') }}") == "truetrue");  // beyond the reference
}

TEST_CASE("set blocks, tuple assignment, macros, call and filter blocks") {
  CHECK(render("{% set x, y = [1, 2] %}{{ x }}{{ y }}|{% set b %} in {{ 1 }} {% endset %}[{{ b }}]") == "12|[ in 1 ]");
  CHECK(render("{% macro greet(who, p='!') %}Hi {{ who }}{{ p }}{% endmacro %}{{ greet('A') }} {{ greet(who='B', p='?') }}") ==
        "Hi A! Hi B?");
  CHECK(render("{% macro m() %}{{ varargs|length }}{{ kwargs|length }}{% endmacro %}{{ m(1, 2, a=3) }}") == "21");
  CHECK(render("{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}") == "[inside]");
  CHECK(render("{% filter upper %}shout {{ 'it' }}{% endfilter %}") == "SHOUT IT");
}

TEST_CASE("a template renders many times with different contexts") {
  const Template t("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}");
  CHECK(t.render({{"messages", {{{"role", "user"}, {"content", "a"}}}}}) == "user:a;");
  CHECK(t.render({{"messages", {{{"role", "assistant"}, {"content", "{{ b }}"}}}}}) == "assistant:{{ b }};");
}
