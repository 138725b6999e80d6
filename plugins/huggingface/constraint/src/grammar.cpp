#include "grammar.hpp"

#include "llmhost/constraint/constraint.hpp"

#include <functional>
#include <memory>

namespace llmhost::constraint {

CompileError::CompileError(std::string keyword, std::string pointer, const std::string &reason)
    : std::runtime_error((pointer.empty() ? std::string("/") : pointer) + ": " + keyword + ": " +
                         reason),
      keyword_(std::move(keyword)), pointer_(std::move(pointer)) {}

int32_t GrammarBuilder::rule(const std::string &name) {
    if (g_.rules.size() >= max_rules)
        throw CompileError("grammar", "",
                           "too many rules (over " + std::to_string(max_rules) + ")");
    int &n = names_[name];
    GRule r;
    r.name = n == 0 ? name : name + "_" + std::to_string(n);
    ++n;
    g_.rules.push_back(std::move(r));
    return static_cast<int32_t>(g_.rules.size() - 1);
}

void GrammarBuilder::alt(int32_t rule, std::vector<Elem> elems) {
    GAlt a;
    a.rule = rule;
    a.elems = std::move(elems);
    g_.alts.push_back(std::move(a));
    g_.rules[rule].alts.push_back(static_cast<int32_t>(g_.alts.size() - 1));
}

Elem GrammarBuilder::terminal(Dfa dfa, const std::string &key) {
    if (!key.empty()) {
        auto it = terminals_.find(key);
        if (it != terminals_.end()) return it->second;
    }
    if (dfa.label.empty()) dfa.label = key;
    g_.dfas.push_back(std::move(dfa));
    Elem e = static_cast<Elem>(g_.dfas.size() - 1);
    if (!key.empty()) terminals_[key] = e;
    return e;
}

Elem GrammarBuilder::literal(const std::string &bytes) {
    Dfa d = dfa_literal(bytes);
    d.label = "'" + bytes + "'";
    return terminal(std::move(d), "lit:" + bytes);
}

Elem GrammarBuilder::regex(const Re &re, ReMode mode, const std::string &key,
                           const std::string &keyword, const std::string &pointer, bool quoted) {
    std::string k = key.empty() ? std::string()
                                : (mode == ReMode::Raw ? "re:"
                                   : quoted            ? "jq:"
                                                       : "js:") +
                                      key;
    if (!k.empty()) {
        auto it = terminals_.find(k);
        if (it != terminals_.end()) return it->second;
    }
    Dfa d = compile_re(re, mode, keyword, pointer, 20000, quoted);
    if (d.empty_language()) throw CompileError(keyword, pointer, "matches nothing");
    d.label = "/" + key + "/";
    return terminal(std::move(d), k);
}

std::unique_ptr<GrammarImpl> GrammarBuilder::finish(int32_t root, const std::string &keyword) {
    GrammarImpl &g = g_;
    g.root = root;
    for (const Dfa &d : g.dfas)
        if (d.empty_language()) throw CompileError(keyword, "", "a terminal matches nothing");
    // Shortest lengths by fixpoint; best_alt only on strict improvement, so following best_alt
    // always terminates (each step goes to a value fixed earlier).
    bool changed = true;
    while (changed) {
        changed = false;
        for (std::size_t r = 0; r < g.rules.size(); ++r) {
            GRule &rule = g.rules[r];
            for (int32_t ai : rule.alts) {
                uint64_t sum = 0;
                for (Elem e : g.alts[ai].elems) sum += g.elem_min(e);
                if (sum < rule.min_len) {
                    rule.min_len = static_cast<uint32_t>(std::min<uint64_t>(sum, UINT32_MAX - 1));
                    rule.best_alt = ai;
                    changed = true;
                }
            }
        }
    }
    for (const GRule &r : g.rules)
        if (r.min_len == UINT32_MAX)
            throw CompileError(keyword, "",
                               "rule '" + r.name +
                                   "' can never complete (recursion without a base case)");
    for (GAlt &a : g.alts) {
        a.suffix_min.assign(a.elems.size() + 1, 0);
        for (std::size_t i = a.elems.size(); i-- > 0;)
            a.suffix_min[i] = static_cast<uint32_t>(std::min<uint64_t>(
                uint64_t{a.suffix_min[i + 1]} + g.elem_min(a.elems[i]), UINT32_MAX - 1));
    }
    // Left recursion: rule A reaches B at a position whose prefix may be empty. A cycle would
    // make the parser's closure loop, so it is an error (rewrite as right recursion).
    std::vector<std::vector<int32_t>> edges(g.rules.size());
    for (const GAlt &a : g.alts)
        for (Elem e : a.elems) {
            if (elem_is_rule(e)) edges[a.rule].push_back(elem_rule(e));
            if (g.elem_min(e) != 0) break;
        }
    std::vector<uint8_t> color(g.rules.size(), 0);
    std::vector<std::pair<int32_t, std::size_t>> stack;
    for (std::size_t s = 0; s < g.rules.size(); ++s) {
        if (color[s]) continue;
        stack.push_back({static_cast<int32_t>(s), 0});
        color[s] = 1;
        while (!stack.empty()) {
            auto &[r, i] = stack.back();
            if (i < edges[r].size()) {
                int32_t t = edges[r][i++];
                if (color[t] == 1)
                    throw CompileError(keyword, "",
                                       "rule '" + g.rules[t].name + "' is left-recursive");
                if (color[t] == 0) {
                    color[t] = 1;
                    stack.push_back({t, 0});
                }
            } else {
                color[r] = 2;
                stack.pop_back();
            }
        }
    }
    return std::make_unique<GrammarImpl>(std::move(g_));
}

void GrammarImpl::shortest_from_dfa(int32_t dfa, int32_t state, std::string &out) const {
    const Dfa &d = dfas[dfa];
    while (!d.accepting[state]) {
        uint8_t b = d.min_byte[state];
        out.push_back(static_cast<char>(b));
        state = d.step(state, b);
    }
}

void GrammarImpl::shortest(Elem e, std::string &out) const {
    if (!elem_is_rule(e)) {
        shortest_from_dfa(e, dfas[e].start, out);
        return;
    }
    for (Elem x : alts[rules[elem_rule(e)].best_alt].elems) shortest(x, out);
}

std::string GrammarImpl::describe() const {
    std::string s;
    for (std::size_t r = 0; r < rules.size(); ++r) {
        s += rules[r].name + (static_cast<int32_t>(r) == root ? " (root)" : "") + " ::=";
        for (std::size_t k = 0; k < rules[r].alts.size(); ++k) {
            if (k) s += " |";
            for (Elem e : alts[rules[r].alts[k]].elems)
                s += " " + (elem_is_rule(e) ? rules[elem_rule(e)].name : dfas[e].label);
            if (alts[rules[r].alts[k]].elems.empty()) s += " ''";
        }
        s += "\n";
    }
    return s;
}

} // namespace llmhost::constraint
