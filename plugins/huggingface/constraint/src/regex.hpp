// Regular expressions over Unicode code points (ECMAScript-like syntax, the subset JSON Schema
// `pattern` uses in practice), compiled to byte-level DFAs. The same AST also expresses the
// lexemes of the JSON Schema compiler (strings with lengths, formats, integer ranges).
#pragma once

#include "dfa.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmhost::constraint {

// Sorted, disjoint, inclusive code point ranges.
using CpSet = std::vector<std::pair<uint32_t, uint32_t>>;
CpSet cpset_normalize(CpSet s);
CpSet cpset_negate(const CpSet &s); // over all Unicode scalar values (no surrogates)

struct Re {
    enum Kind { Set, Cat, Alt, Rep } kind = Cat;
    CpSet set;
    std::vector<Re> kids;
    int min = 0, max = -1; // Rep: max -1 = unbounded
};
Re re_set(CpSet s);
Re re_literal(std::string_view utf8); // exact UTF-8 text
Re re_cat(std::vector<Re> kids);
Re re_alt(std::vector<Re> kids);
Re re_rep(Re kid, int min, int max);
Re re_any_char(); // any scalar value

// Parses `pattern`. JSON Schema `pattern` is a search (unanchored); `search` wraps the result in
// .* unless the pattern starts with ^ / ends with $. Throws CompileError(keyword, pointer).
Re parse_regex(std::string_view pattern, bool search, const std::string &keyword,
               const std::string &pointer);

// How code points become bytes: Raw = UTF-8. JsonString = the text of a JSON string body
// (without the quotes): raw UTF-8 where JSON allows it, plus the escapes \" \\ \/ \b \f \n \r \t
// and \u00XX (hex either case) for ASCII code points.
enum class ReMode { Raw, JsonString };
// quoted: the DFA also matches a raw '"' before and after (a whole JSON string lexeme).
Dfa compile_re(const Re &re, ReMode mode, const std::string &keyword, const std::string &pointer,
               std::size_t max_states = 20000, bool quoted = false);

} // namespace llmhost::constraint
