// llama.cpp GBNF -> grammar. Runs of terminals (literals, classes, '.') inside a sequence become
// one regex lexeme; groups and repeated non-terminals become helper rules (right recursive).
#include "llmhost/constraint/constraint.hpp"

#include "grammar.hpp"

#include <map>
#include <variant>

namespace llmhost::constraint {

namespace {

struct Item {
    bool is_re = true;
    Re re;
    Elem ref = 0;
};

class GbnfParser {
public:
    explicit GbnfParser(std::string_view t) : t_(t) {}

    std::unique_ptr<GrammarImpl> run(std::string_view root) {
        space(true);
        while (i_ < t_.size()) {
            std::size_t at = i_;
            std::string name = ident();
            if (name.empty()) fail(at, "expected a rule name");
            space(false);
            if (t_.substr(i_, 3) != "::=") fail(i_, "expected ::=");
            i_ += 3;
            space(true);
            int32_t r = rule_id(name);
            if (defined_[name]) fail(at, "rule '" + name + "' defined twice");
            defined_[name] = true;
            alternates(r, false);
            space(false);
            if (i_ < t_.size() && t_[i_] != '\n' && t_[i_] != '\r')
                fail(i_, "unexpected character");
            space(true);
        }
        for (auto &[name, ok] : defined_)
            if (!ok) fail(first_use_[name], "undefined rule '" + name + "'");
        auto it = ids_.find(std::string(root));
        if (it == ids_.end()) fail(0, "no rule named '" + std::string(root) + "'");
        return b_.finish(it->second, "gbnf");
    }

private:
    std::string_view t_;
    std::size_t i_ = 0;
    GrammarBuilder b_;
    std::map<std::string, int32_t> ids_;
    std::map<std::string, bool> defined_;
    std::map<std::string, std::size_t> first_use_;

    [[noreturn]] void fail(std::size_t at, const std::string &why) {
        std::size_t line = 1, col = 1;
        for (std::size_t k = 0; k < at && k < t_.size(); ++k) {
            if (t_[k] == '\n') {
                ++line;
                col = 1;
            } else
                ++col;
        }
        throw CompileError("gbnf", std::to_string(line) + ":" + std::to_string(col), why);
    }
    void space(bool newlines) {
        while (i_ < t_.size()) {
            char c = t_[i_];
            if (c == '#') {
                while (i_ < t_.size() && t_[i_] != '\n') ++i_;
            } else if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
                ++i_;
            } else
                break;
        }
    }
    std::string ident() {
        std::size_t s = i_;
        while (i_ < t_.size() &&
               (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '-' || t_[i_] == '_'))
            ++i_;
        return std::string(t_.substr(s, i_ - s));
    }
    int32_t rule_id(const std::string &name) {
        auto it = ids_.find(name);
        if (it != ids_.end()) return it->second;
        int32_t r = b_.rule(name);
        ids_[name] = r;
        defined_.emplace(name, false);
        return r;
    }
    uint32_t hex(int n) {
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
            if (i_ >= t_.size() || !std::isxdigit(static_cast<unsigned char>(t_[i_])))
                fail(i_, "bad hex escape");
            char c = t_[i_++];
            v = v * 16 + (std::isdigit(static_cast<unsigned char>(c))
                              ? c - '0'
                              : (std::tolower(c) - 'a' + 10));
        }
        return v;
    }
    uint32_t character() {
        if (i_ >= t_.size()) fail(i_, "unexpected end");
        uint8_t c = static_cast<uint8_t>(t_[i_]);
        if (c == '\\') {
            ++i_;
            if (i_ >= t_.size()) fail(i_, "unexpected end");
            char e = t_[i_++];
            switch (e) {
            case 'n': return '\n';
            case 't': return '\t';
            case 'r': return '\r';
            case 'x': return hex(2);
            case 'u': return hex(4);
            case 'U': return hex(8);
            case '\\':
            case '"':
            case '[':
            case ']':
            case '-':
            case '^': return static_cast<uint8_t>(e);
            default: fail(i_ - 1, std::string("unknown escape \\") + e);
            }
        }
        if (c < 0x80) {
            ++i_;
            return c;
        }
        int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i_ + n > t_.size()) fail(i_, "invalid UTF-8");
        uint32_t cp = c & (0x3F >> (n - 1));
        for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(t_[i_ + k]) & 63u);
        i_ += n;
        return cp;
    }
    void alternates(int32_t r, bool nested) {
        sequence(r, nested);
        while (i_ < t_.size() && t_[i_] == '|') {
            ++i_;
            space(true);
            sequence(r, nested);
        }
    }
    void sequence(int32_t r, bool nested) {
        std::vector<Item> items;
        while (i_ < t_.size()) {
            char c = t_[i_];
            Item it;
            std::size_t at = i_;
            if (c == '"') {
                ++i_;
                std::vector<Re> cs;
                while (i_ < t_.size() && t_[i_] != '"') {
                    uint32_t cp = character();
                    cs.push_back(re_set({{cp, cp}}));
                }
                if (i_ >= t_.size()) fail(at, "unterminated literal");
                ++i_;
                it.re = re_cat(std::move(cs));
                if (it.re.kind != Re::Cat) {
                    Re w;
                    w.kind = Re::Cat;
                    w.kids.push_back(std::move(it.re));
                    it.re = std::move(w);
                }
            } else if (c == '[') {
                ++i_;
                bool neg = i_ < t_.size() && t_[i_] == '^';
                if (neg) ++i_;
                CpSet set;
                while (i_ < t_.size() && t_[i_] != ']') {
                    uint32_t lo = character(), hi = lo;
                    if (i_ + 1 < t_.size() && t_[i_] == '-' && t_[i_ + 1] != ']') {
                        ++i_;
                        hi = character();
                        if (hi < lo) fail(at, "class range out of order");
                    }
                    set.push_back({lo, hi});
                }
                if (i_ >= t_.size()) fail(at, "unterminated character class");
                ++i_;
                set = cpset_normalize(set);
                it.re = re_set(neg ? cpset_negate(set) : set);
            } else if (c == '.') {
                ++i_;
                it.re = re_any_char();
            } else if (c == '(') {
                ++i_;
                space(true);
                int32_t g = b_.rule("group");
                alternates(g, true);
                if (i_ >= t_.size() || t_[i_] != ')') fail(at, "missing )");
                ++i_;
                it.is_re = false;
                it.ref = b_.ref(g);
            } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
                std::size_t save = i_;
                std::string name = ident();
                std::size_t after = i_;
                space(true);
                if (t_.substr(i_, 3) == "::=") { // the next rule starts: this sequence ended
                    i_ = save;
                    break;
                }
                i_ = after;
                if (!ids_.count(name)) first_use_[name] = at;
                it.is_re = false;
                it.ref = b_.ref(rule_id(name));
            } else {
                break;
            }
            postfix(it);
            items.push_back(std::move(it));
            space(nested);
        }
        // Runs of terminals become one lexeme.
        std::vector<Elem> elems;
        std::vector<Re> run;
        auto flush = [&] {
            if (run.empty()) return;
            elems.push_back(b_.regex(re_cat(std::move(run)), ReMode::Raw, "", "gbnf", ""));
            run.clear();
        };
        for (auto &it : items) {
            if (it.is_re)
                run.push_back(std::move(it.re));
            else {
                flush();
                elems.push_back(it.ref);
            }
        }
        flush();
        b_.alt(r, std::move(elems));
    }
    int number() {
        std::size_t s = i_;
        long v = 0;
        while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_]))) {
            v = v * 10 + (t_[i_++] - '0');
            if (v > 10000) fail(s, "repetition count too large");
        }
        if (i_ == s) fail(s, "expected a number");
        return static_cast<int>(v);
    }
    void postfix(Item &it) {
        while (i_ < t_.size()) {
            char c = t_[i_];
            int lo, hi;
            if (c == '*')
                lo = 0, hi = -1, ++i_;
            else if (c == '+')
                lo = 1, hi = -1, ++i_;
            else if (c == '?')
                lo = 0, hi = 1, ++i_;
            else if (c == '{') {
                std::size_t at = i_++;
                space(false);
                lo = number();
                hi = lo;
                space(false);
                if (i_ < t_.size() && t_[i_] == ',') {
                    ++i_;
                    space(false);
                    hi = (i_ < t_.size() && t_[i_] == '}') ? -1 : number();
                    space(false);
                }
                if (i_ >= t_.size() || t_[i_] != '}') fail(at, "bad {m,n}");
                ++i_;
                if (hi >= 0 && hi < lo) fail(at, "{m,n} with n < m");
            } else
                return;
            if (it.is_re) {
                it.re = re_rep(std::move(it.re), lo, hi);
                continue;
            }
            // X{lo,hi} over a rule: X^lo then a right-recursive optional tail.
            Elem x = it.ref;
            int32_t r = b_.rule("rep");
            std::vector<Elem> head(static_cast<std::size_t>(lo), x);
            if (hi < 0) {
                int32_t star = b_.rule("star");
                b_.alt(star, {x, b_.ref(star)});
                b_.alt(star, {});
                head.push_back(b_.ref(star));
            } else if (hi > lo) {
                Elem tail = 0;
                bool have = false;
                for (int k = lo; k < hi; ++k) {
                    int32_t opt = b_.rule("opt");
                    if (have)
                        b_.alt(opt, {x, tail});
                    else
                        b_.alt(opt, {x});
                    b_.alt(opt, {});
                    tail = b_.ref(opt);
                    have = true;
                }
                head.push_back(tail);
            }
            b_.alt(r, head);
            it.ref = b_.ref(r);
        }
    }
};

} // namespace

std::shared_ptr<const Grammar> Grammar::from_gbnf(std::string_view text, std::string_view root) {
    GbnfParser p(text);
    return std::make_shared<const Grammar>(p.run(root));
}

} // namespace llmhost::constraint
