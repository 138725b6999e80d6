// The grammar IR: rules of alternatives, each a sequence of elements; an element is a terminal
// (a byte DFA, see dfa.hpp) or a reference to a rule. Built by the front ends (JSON Schema,
// regex, GBNF) through GrammarBuilder, then checked and annotated by finish().
#pragma once

#include "dfa.hpp"
#include "regex.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::constraint {

// >= 0: terminal (index into dfas); < 0: rule reference, rule = -elem - 1.
using Elem = int32_t;
inline bool elem_is_rule(Elem e) { return e < 0; }
inline int32_t elem_rule(Elem e) { return -e - 1; }

struct GAlt {
    int32_t rule = 0;
    std::vector<Elem> elems;
    std::vector<uint32_t> suffix_min; // fewest bytes for elems[i..], size elems.size() + 1
};

struct GRule {
    std::string name;
    std::vector<int32_t> alts;
    uint32_t min_len = UINT32_MAX;
    int32_t best_alt = -1; // an alternative of length min_len whose expansion terminates
};

struct GrammarImpl {
    std::vector<Dfa> dfas;
    std::vector<GRule> rules;
    std::vector<GAlt> alts;
    int32_t root = 0;

    uint32_t elem_min(Elem e) const {
        return elem_is_rule(e) ? rules[elem_rule(e)].min_len : dfas[e].min_accept[dfas[e].start];
    }
    // Appends one shortest expansion of `e` to `out`.
    void shortest(Elem e, std::string &out) const;
    void shortest_from_dfa(int32_t dfa, int32_t state, std::string &out) const;
    std::string describe() const;
};

class GrammarBuilder {
public:
    int32_t rule(const std::string &name); // a new empty rule (names are made unique)
    void alt(int32_t rule, std::vector<Elem> elems);
    Elem ref(int32_t rule) const { return -rule - 1; }
    Elem terminal(Dfa dfa, const std::string &key); // key dedupes identical terminals ("" = none)
    Elem literal(const std::string &bytes);
    std::optional<Elem> find_terminal(const std::string &key) const {
        auto it = terminals_.find(key);
        if (it == terminals_.end()) return std::nullopt;
        return it->second;
    }
    Elem regex(const Re &re, ReMode mode, const std::string &key, const std::string &keyword,
               const std::string &pointer, bool quoted = false);
    Elem dfa_terminal(Dfa dfa, const std::string &label) {
        dfa.label = label;
        return terminal(std::move(dfa), "");
    }
    GRule &get(int32_t rule) { return g_.rules[rule]; }
    std::size_t rule_count() const { return g_.rules.size(); }
    // Checks (every rule productive, no left recursion) and computes lengths. Throws CompileError.
    std::unique_ptr<GrammarImpl> finish(int32_t root, const std::string &keyword);

    std::size_t max_rules = 200000;

private:
    GrammarImpl g_;
    std::map<std::string, Elem> terminals_;
    std::map<std::string, int> names_;
};

} // namespace llmhost::constraint
