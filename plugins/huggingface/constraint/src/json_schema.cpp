// JSON Schema -> grammar. Each schema node becomes a rule (or a single lexeme); $ref targets are
// compiled once per JSON pointer, which is what makes recursive schemas work. Object properties
// follow the schema's order (optional ones may be skipped); extra properties, when allowed, come
// after them. A keyword that would change which instances are valid and is not implemented is a
// CompileError naming it and its pointer; annotations are ignored.
#include "llmhost/constraint/constraint.hpp"

#include "grammar.hpp"
#include "int_range.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace llmhost::constraint {

namespace {

// ordered_json: the schema's property order is the order the grammar emits them in.
using json = nlohmann::ordered_json;

const std::set<std::string> kAnnotations = {
    "$schema",     "$id",         "id",         "$comment",         "title",
    "description", "default",     "examples",   "example",          "deprecated",
    "readOnly",    "writeOnly",   "$anchor",    "contentMediaType", "contentEncoding",
    "$defs",       "definitions", "$vocabulary"};
const std::set<std::string> kUnsupported = {"not",
                                            "if",
                                            "then",
                                            "else",
                                            "dependentRequired",
                                            "dependentSchemas",
                                            "dependencies",
                                            "minProperties",
                                            "maxProperties",
                                            "multipleOf",
                                            "contains",
                                            "minContains",
                                            "maxContains",
                                            "propertyNames",
                                            "unevaluatedProperties",
                                            "unevaluatedItems",
                                            "$dynamicRef",
                                            "$recursiveRef",
                                            "$dynamicAnchor",
                                            "$recursiveAnchor"};
const std::set<std::string> kTypes = {"null",   "boolean", "integer", "number",
                                      "string", "array",   "object"};

std::string ptr_join(const std::string &p, const std::string &key) {
    std::string k;
    for (char c : key) {
        if (c == '~')
            k += "~0";
        else if (c == '/')
            k += "~1";
        else
            k += c;
    }
    return p + "/" + k;
}

std::string dump(const json &v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// Python's json.dumps separators (", " and ": ") are what the whitespace rule must admit.
const char *kFormats[][2] = {
    {"date", "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"},
    {"time", "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3])"
             ":[0-5][0-9])"},
    {"date-time", "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt "
                  "]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
                  "(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"},
    {"uuid", "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"},
    {"email", "[A-Za-z0-9.!#$%&'*+/"
              "=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-"
              "Za-z0-9])?)*"},
    {"uri", "[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=%]*"},
};

class Compiler {
public:
    Compiler(const json &doc, const JsonSchemaOptions &o) : doc_(doc), opt_(o) {
        if (!o.compact)
            ws_ = b_.regex(re_rep(re_set({{'\t', '\n'}, {'\r', '\r'}, {' ', ' '}}), 0,
                                  static_cast<int>(o.max_whitespace)),
                           ReMode::Raw, "ws", "grammar", "");
    }

    std::unique_ptr<GrammarImpl> run() {
        int32_t root = b_.rule("root");
        std::vector<Elem> seq;
        add_ws(seq);
        seq.push_back(value(doc_, ""));
        add_ws(seq);
        b_.alt(root, seq);
        return b_.finish(root, "grammar");
    }
    std::unique_ptr<GrammarImpl> run_object() {
        int32_t root = b_.rule("root");
        std::vector<Elem> seq;
        add_ws(seq);
        seq.push_back(any_object());
        add_ws(seq);
        b_.alt(root, seq);
        return b_.finish(root, "grammar");
    }

private:
    const json &doc_;
    JsonSchemaOptions opt_;
    GrammarBuilder b_;
    Elem ws_ = 0;
    int depth_ = 0;
    std::map<std::string, int32_t> refs_;
    int32_t any_value_ = -1, any_object_ = -1;

    void add_ws(std::vector<Elem> &s) {
        if (!opt_.compact) s.push_back(ws_);
    }
    [[noreturn]] void fail(const std::string &kw, const std::string &ptr, const std::string &why) {
        throw CompileError(kw, ptr, why);
    }
    Elem lit(const std::string &s) { return b_.literal(s); }

    // ---- generic JSON ------------------------------------------------------------------
    Elem string_any() {
        return b_.regex(re_rep(re_any_char(), 0, -1), ReMode::JsonString, "any", "type", "", true);
    }
    Elem number_any() {
        return b_.regex(
            parse_regex("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?", false, "type", ""),
            ReMode::Raw, "number", "type", "");
    }
    Elem any_value() {
        if (any_value_ >= 0) return b_.ref(any_value_);
        any_value_ = b_.rule("any");
        int32_t arr = b_.rule("any_array"), items = b_.rule("any_items");
        b_.alt(any_value_, {any_object()});
        b_.alt(any_value_, {b_.ref(arr)});
        b_.alt(any_value_, {string_any()});
        b_.alt(any_value_, {number_any()});
        b_.alt(any_value_, {b_.regex(parse_regex("true|false|null", false, "type", ""), ReMode::Raw,
                                     "tfn", "type", "")});
        std::vector<Elem> open{lit("[")}, empty{lit("[")}, more{lit(",")};
        add_ws(open);
        open.push_back(b_.ref(any_value_));
        add_ws(open);
        open.push_back(b_.ref(items));
        add_ws(empty);
        empty.push_back(lit("]"));
        b_.alt(arr, open);
        b_.alt(arr, empty);
        add_ws(more);
        more.push_back(b_.ref(any_value_));
        add_ws(more);
        more.push_back(b_.ref(items));
        b_.alt(items, more);
        b_.alt(items, {lit("]")});
        return b_.ref(any_value_);
    }
    Elem any_object() {
        if (any_object_ >= 0) return b_.ref(any_object_);
        any_object_ = b_.rule("any_object");
        int32_t members = b_.rule("any_members");
        auto kv = [&](std::vector<Elem> &s) {
            s.push_back(string_any());
            add_ws(s);
            s.push_back(lit(":"));
            add_ws(s);
            s.push_back(any_value());
            add_ws(s);
            s.push_back(b_.ref(members));
        };
        std::vector<Elem> open{lit("{")}, empty{lit("{")}, more{lit(",")};
        add_ws(open);
        kv(open);
        add_ws(empty);
        empty.push_back(lit("}"));
        b_.alt(any_object_, open);
        b_.alt(any_object_, empty);
        add_ws(more);
        kv(more);
        b_.alt(members, more);
        b_.alt(members, {lit("}")});
        return b_.ref(any_object_);
    }

    // ---- $ref / allOf ---------------------------------------------------------------------
    const json &resolve(const std::string &ref, const std::string &ptr) {
        if (ref.empty() || ref[0] != '#')
            fail("$ref", ptr, "only local references (#...) are supported: " + ref);
        std::string p = ref.substr(1);
        // Percent-decoding of the fragment (as in "#/definitions/a%20b").
        std::string dec;
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (p[i] == '%' && i + 2 < p.size() &&
                std::isxdigit(static_cast<unsigned char>(p[i + 1])) &&
                std::isxdigit(static_cast<unsigned char>(p[i + 2]))) {
                dec += static_cast<char>(std::stoi(p.substr(i + 1, 2), nullptr, 16));
                i += 2;
            } else
                dec += p[i];
        }
        try {
            const json &t = doc_.at(json::json_pointer(dec));
            return t;
        } catch (const std::exception &) {
            fail("$ref", ptr, "unresolvable reference " + ref);
        }
    }
    Elem ref_rule(const std::string &ref, const std::string &ptr) {
        std::string target = ref.size() > 1 ? ref.substr(1) : "";
        auto it = refs_.find(target);
        if (it != refs_.end()) return b_.ref(it->second);
        const json &t = resolve(ref, ptr);
        int32_t r = b_.rule("ref" + target);
        refs_[target] = r;
        b_.alt(r, {value(t, target)});
        return b_.ref(r);
    }
    static bool has_constraints(const json &s, const std::set<std::string> &except) {
        for (auto it = s.begin(); it != s.end(); ++it)
            if (!kAnnotations.count(it.key()) && !except.count(it.key())) return true;
        return false;
    }
    // Merges `add` into `into` (both objects, refs in `add` resolved by the caller).
    void merge(json &into, const json &add, const std::string &ptr) {
        for (auto it = add.begin(); it != add.end(); ++it) {
            const std::string &k = it.key();
            if (kAnnotations.count(k)) continue;
            if (!into.contains(k)) {
                into[k] = it.value();
                continue;
            }
            json &cur = into[k];
            if (cur == it.value()) continue;
            if (k == "properties" && cur.is_object() && it.value().is_object()) {
                for (auto p = it.value().begin(); p != it.value().end(); ++p) {
                    if (!cur.contains(p.key()))
                        cur[p.key()] = p.value();
                    else if (cur[p.key()] != p.value())
                        cur[p.key()] = json{{"allOf", json::array({cur[p.key()], p.value()})}};
                }
            } else if (k == "required" && cur.is_array() && it.value().is_array()) {
                for (const auto &r : it.value())
                    if (std::find(cur.begin(), cur.end(), r) == cur.end()) cur.push_back(r);
            } else if (k == "type") {
                auto types = [](const json &t) {
                    std::set<std::string> s;
                    if (t.is_string())
                        s.insert(t.get<std::string>());
                    else if (t.is_array())
                        for (const auto &x : t)
                            if (x.is_string()) s.insert(x.get<std::string>());
                    if (s.count("number")) s.insert("integer");
                    return s;
                };
                auto a = types(cur), bb = types(it.value());
                json both = json::array();
                for (const auto &t : a)
                    if (bb.count(t)) both.push_back(t);
                if (both.empty()) fail("allOf", ptr, "the subschemas' types do not intersect");
                cur = both;
            } else if ((k == "minimum" || k == "minLength" || k == "minItems") && cur.is_number() &&
                       it.value().is_number()) {
                if (it.value() > cur) cur = it.value();
            } else if ((k == "maximum" || k == "maxLength" || k == "maxItems") && cur.is_number() &&
                       it.value().is_number()) {
                if (it.value() < cur) cur = it.value();
            } else {
                fail(k, ptr, "allOf combines two different values of '" + k + "'");
            }
        }
    }
    json flatten_all_of(const json &s, const std::string &ptr, int depth = 0) {
        if (depth > 32) fail("allOf", ptr, "allOf/$ref nesting too deep");
        json out = json::object();
        for (auto it = s.begin(); it != s.end(); ++it)
            if (it.key() != "allOf") out[it.key()] = it.value();
        const json &all = s.at("allOf");
        if (!all.is_array() || all.empty()) fail("allOf", ptr, "must be a non-empty array");
        for (std::size_t i = 0; i < all.size(); ++i) {
            std::string p = ptr_join(ptr_join(ptr, "allOf"), std::to_string(i));
            json sub = all[i];
            if (sub.is_boolean()) {
                if (!sub.get<bool>()) fail("allOf", p, "false schema: nothing is valid");
                continue;
            }
            if (!sub.is_object()) fail("allOf", p, "subschema must be an object");
            for (int guard = 0; sub.contains("$ref"); ++guard) {
                if (guard > 32) fail("$ref", p, "reference chain too long");
                json rest = sub;
                rest.erase("$ref");
                json target = resolve(sub["$ref"].get<std::string>(), p);
                if (!target.is_object())
                    fail("$ref", p, "reference to a non-object schema in allOf");
                merge(target, rest, p);
                sub = target;
            }
            if (sub.contains("allOf")) sub = flatten_all_of(sub, p, depth + 1);
            merge(out, sub, p);
        }
        return out;
    }

    // ---- schema nodes --------------------------------------------------------------------
    Elem value(const json &s, const std::string &ptr) {
        if (++depth_ > 256) fail("schema", ptr, "nesting too deep");
        struct Guard {
            int &d;
            ~Guard() { --d; }
        } g{depth_};
        if (s.is_boolean()) {
            if (s.get<bool>()) return any_value();
            fail("false", ptr, "false schema: nothing is valid");
        }
        if (!s.is_object()) fail("schema", ptr, "a schema must be an object or a boolean");
        for (auto it = s.begin(); it != s.end(); ++it) {
            if (kUnsupported.count(it.key())) {
                // A few trivially true forms are honoured rather than refused.
                if (it.key() == "minProperties" && it.value() == 0) continue;
                fail(it.key(), ptr_join(ptr, it.key()), "keyword not supported");
            }
            if (it.key() == "uniqueItems" && it.value() == true)
                fail("uniqueItems", ptr_join(ptr, "uniqueItems"), "keyword not supported");
            if (it.key() == "additionalItems" && !s.contains("items")) continue;
        }
        if (s.contains("allOf")) return value_checked(flatten_all_of(s, ptr), ptr);
        if (s.contains("$ref")) {
            if (!s["$ref"].is_string()) fail("$ref", ptr_join(ptr, "$ref"), "must be a string");
            if (!has_constraints(s, {"$ref"}))
                return ref_rule(s["$ref"].get<std::string>(), ptr_join(ptr, "$ref"));
            json wrapped = s;
            wrapped.erase("$ref");
            wrapped["allOf"] = json::array({json{{"$ref", s["$ref"]}}});
            return value_checked(flatten_all_of(wrapped, ptr), ptr);
        }
        return value_checked(s, ptr);
    }

    Elem value_checked(const json &s, const std::string &ptr) {
        for (const char *k : {"anyOf", "oneOf"}) {
            if (!s.contains(k)) continue;
            const json &alts = s.at(k);
            if (!alts.is_array() || alts.empty())
                fail(k, ptr_join(ptr, k), "must be a non-empty array");
            // oneOf is compiled as anyOf: exact when the branches are disjoint, which is how
            // real schemas use it (tagged unions); documented in docs/structured-output.md.
            json rest = s;
            rest.erase(k);
            bool plain = !has_constraints(rest, {});
            int32_t r = b_.rule(k);
            for (std::size_t i = 0; i < alts.size(); ++i) {
                std::string p = ptr_join(ptr_join(ptr, k), std::to_string(i));
                if (plain) {
                    b_.alt(r, {value(alts[i], p)});
                } else {
                    json both = rest;
                    both["allOf"] = json::array({alts[i]});
                    b_.alt(r, {value(both, p)});
                }
            }
            return b_.ref(r);
        }
        if (s.contains("const"))
            return enum_values(s, json::array({s["const"]}), ptr_join(ptr, "const"));
        if (s.contains("enum")) {
            if (!s["enum"].is_array() || s["enum"].empty())
                fail("enum", ptr_join(ptr, "enum"), "must be a non-empty array");
            return enum_values(s, s["enum"], ptr_join(ptr, "enum"));
        }
        std::vector<std::string> types;
        if (s.contains("type")) {
            const json &t = s["type"];
            if (t.is_string())
                types.push_back(t.get<std::string>());
            else if (t.is_array())
                for (const auto &x : t) types.push_back(x.is_string() ? x.get<std::string>() : "?");
            for (const auto &x : types)
                if (!kTypes.count(x))
                    fail("type", ptr_join(ptr, "type"), "unknown type '" + x + "'");
            if (types.empty()) fail("type", ptr_join(ptr, "type"), "empty type list");
        } else {
            types = {"object", "array", "string", "number", "boolean", "null"};
        }
        bool has_number = std::find(types.begin(), types.end(), "number") != types.end();
        std::vector<Elem> alts;
        for (const auto &t : types) {
            if (t == "integer" && has_number) continue; // number covers it
            alts.push_back(typed(s, t, ptr, !s.contains("type")));
        }
        if (alts.size() == 1) return alts[0];
        int32_t r = b_.rule("types");
        for (Elem e : alts) b_.alt(r, {e});
        return b_.ref(r);
    }

    static bool matches_type(const json &v, const std::string &t) {
        if (t == "null") return v.is_null();
        if (t == "boolean") return v.is_boolean();
        if (t == "integer")
            return v.is_number_integer() ||
                   (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
        if (t == "number") return v.is_number();
        if (t == "string") return v.is_string();
        if (t == "array") return v.is_array();
        return v.is_object();
    }
    Elem enum_values(const json &s, const json &values, const std::string &ptr) {
        std::vector<std::string> alts;
        for (const auto &v : values) {
            if (s.contains("type")) {
                bool ok = false;
                const json &t = s["type"];
                if (t.is_string())
                    ok = matches_type(v, t.get<std::string>());
                else if (t.is_array())
                    for (const auto &x : t)
                        ok = ok || (x.is_string() && matches_type(v, x.get<std::string>()));
                if (!ok) continue;
            }
            if (v.is_object() || v.is_array()) {
                if (!opt_.compact)
                    fail(ptr.substr(ptr.rfind('/') + 1), ptr,
                         "object or array values need the compact option");
            }
            alts.push_back(v.is_object() || v.is_array() ? v.dump() : dump(v));
        }
        if (alts.empty())
            fail(ptr.substr(ptr.rfind('/') + 1), ptr, "no value matches the schema's type");
        Dfa d = dfa_literals(alts);
        return b_.dfa_terminal(std::move(d), "enum" + ptr);
    }

    Elem typed(const json &s, const std::string &t, const std::string &ptr, bool implicit) {
        (void)implicit;
        if (t == "null") return lit("null");
        if (t == "boolean")
            return b_.regex(parse_regex("true|false", false, "type", ""), ReMode::Raw, "bool",
                            "type", "");
        if (t == "integer" || t == "number") return number(s, t == "integer", ptr);
        if (t == "string") return string(s, ptr);
        if (t == "array") return array(s, ptr);
        return object(s, ptr);
    }

    Elem number(const json &s, bool integer, const std::string &ptr) {
        bool ranged = s.contains("minimum") || s.contains("maximum") ||
                      s.contains("exclusiveMinimum") || s.contains("exclusiveMaximum");
        if (!ranged) {
            if (!integer) return number_any();
            return b_.regex(parse_regex("-?(0|[1-9][0-9]*)", false, "type", ""), ReMode::Raw,
                            "integer", "type", "");
        }
        const char *kw = s.contains("minimum")            ? "minimum"
                         : s.contains("maximum")          ? "maximum"
                         : s.contains("exclusiveMinimum") ? "exclusiveMinimum"
                                                          : "exclusiveMaximum";
        if (!integer) fail(kw, ptr_join(ptr, kw), "bounds are supported for integers only");
        std::optional<long double> lo, hi;
        auto num = [&](const char *k) -> long double {
            const json &v = s[k];
            if (!v.is_number()) fail(k, ptr_join(ptr, k), "must be a number");
            return v.get<long double>();
        };
        if (s.contains("minimum")) lo = std::ceil(num("minimum"));
        if (s.contains("maximum")) hi = std::floor(num("maximum"));
        for (const char *k : {"exclusiveMinimum", "exclusiveMaximum"}) {
            if (!s.contains(k)) continue;
            const json &v = s[k];
            bool is_min = k[9] == 'M' && k[10] == 'i';
            if (v.is_boolean()) { // draft-04
                if (!v.get<bool>()) continue;
                std::optional<long double> &b = is_min ? lo : hi;
                if (!b) fail(k, ptr_join(ptr, k), "needs minimum/maximum");
                long double base = num(is_min ? "minimum" : "maximum");
                b = is_min ? std::floor(base) + 1 : std::ceil(base) - 1;
            } else {
                long double x = num(k);
                long double bound = is_min ? std::floor(x) + 1 : std::ceil(x) - 1;
                std::optional<long double> &b = is_min ? lo : hi;
                if (!b || (is_min ? bound > *b : bound < *b)) b = bound;
            }
        }
        const long double lim = 9.0e18L;
        if ((lo && std::fabs(*lo) > lim) || (hi && std::fabs(*hi) > lim))
            fail(kw, ptr_join(ptr, kw), "bound out of the 64-bit range");
        if (lo && hi && *lo > *hi) fail(kw, ptr_join(ptr, kw), "empty integer range");
        std::string re =
            int_range_regex(lo ? std::optional<int64_t>(static_cast<int64_t>(*lo)) : std::nullopt,
                            hi ? std::optional<int64_t>(static_cast<int64_t>(*hi)) : std::nullopt);
        return b_.regex(parse_regex(re, false, kw, ptr), ReMode::Raw, re, kw, ptr);
    }

    Elem string(const json &s, const std::string &ptr) {
        int n = 0;
        for (const char *k : {"pattern", "format"}) n += s.contains(k);
        bool len = s.contains("minLength") || s.contains("maxLength");
        if (n > 1 || (n == 1 && len)) {
            const char *k = s.contains("pattern") ? "pattern" : "format";
            fail(k, ptr_join(ptr, k),
                 "combining pattern, format and minLength/maxLength is not supported");
        }
        if (s.contains("pattern")) {
            if (!s["pattern"].is_string())
                fail("pattern", ptr_join(ptr, "pattern"), "must be a string");
            std::string p = s["pattern"].get<std::string>();
            Re re = parse_regex(p, true, "pattern", ptr_join(ptr, "pattern"));
            return b_.regex(re, ReMode::JsonString, p, "pattern", ptr_join(ptr, "pattern"), true);
        }
        if (s.contains("format")) {
            std::string f = s["format"].is_string() ? s["format"].get<std::string>() : "";
            for (auto &fm : kFormats)
                if (f == fm[0])
                    return b_.regex(parse_regex(fm[1], false, "format", ""), ReMode::JsonString, f,
                                    "format", ptr_join(ptr, "format"), true);
            fail("format", ptr_join(ptr, "format"), "unsupported format '" + f + "'");
        }
        if (len) {
            auto get = [&](const char *k, int def) {
                if (!s.contains(k)) return def;
                const json &v = s[k];
                if (!v.is_number_integer() || v.get<int64_t>() < 0)
                    fail(k, ptr_join(ptr, k), "must be a non-negative integer");
                if (v.get<int64_t>() > 2000)
                    fail(k, ptr_join(ptr, k), "length bounds over 2000 are not supported");
                return static_cast<int>(v.get<int64_t>());
            };
            int lo = get("minLength", 0), hi = get("maxLength", -1);
            if (hi >= 0 && hi < lo)
                fail("maxLength", ptr_join(ptr, "maxLength"), "maxLength < minLength");
            std::string key = "len" + std::to_string(lo) + "," + std::to_string(hi);
            return b_.regex(re_rep(re_any_char(), lo, hi), ReMode::JsonString, key, "maxLength",
                            ptr, true);
        }
        return string_any();
    }

    Elem array(const json &s, const std::string &ptr) {
        std::vector<std::pair<const json *, std::string>> prefix;
        const json *items = nullptr;
        std::string items_ptr;
        bool items_allowed = true;
        auto add_prefix = [&](const json &arr, const std::string &p) {
            if (!arr.is_array()) fail(p.substr(p.rfind('/') + 1), p, "must be an array");
            for (std::size_t i = 0; i < arr.size(); ++i)
                prefix.push_back({&arr[i], ptr_join(p, std::to_string(i))});
        };
        if (s.contains("prefixItems")) add_prefix(s["prefixItems"], ptr_join(ptr, "prefixItems"));
        if (s.contains("items")) {
            if (s["items"].is_array()) {
                add_prefix(s["items"], ptr_join(ptr, "items"));
                if (s.contains("additionalItems")) {
                    items = &s["additionalItems"];
                    items_ptr = ptr_join(ptr, "additionalItems");
                }
            } else {
                items = &s["items"];
                items_ptr = ptr_join(ptr, "items");
            }
        }
        if (items && items->is_boolean()) {
            items_allowed = items->get<bool>();
            items = nullptr;
        }
        auto count = [&](const char *k, int64_t def) {
            if (!s.contains(k)) return def;
            const json &v = s[k];
            if (!v.is_number_integer() || v.get<int64_t>() < 0)
                fail(k, ptr_join(ptr, k), "must be a non-negative integer");
            return v.get<int64_t>();
        };
        int64_t mn = count("minItems", 0), mx = count("maxItems", -1);
        if (!items_allowed && (mx < 0 || mx > static_cast<int64_t>(prefix.size())))
            mx = static_cast<int64_t>(prefix.size());
        if (mx >= 0 && mx < mn) fail("maxItems", ptr_join(ptr, "maxItems"), "maxItems < minItems");
        if (mn > 1000 || (mx > 1000))
            fail(mn > 1000 ? "minItems" : "maxItems", ptr,
                 "item counts over 1000 are not supported");
        auto elem_at = [&](int64_t i) -> Elem {
            if (i < static_cast<int64_t>(prefix.size()))
                return value(*prefix[i].first, prefix[i].second);
            return items ? value(*items, items_ptr) : any_value();
        };
        const int64_t k = static_cast<int64_t>(prefix.size());
        const int64_t steady = std::max(k, mn); // from here on every element is alike and optional
        // tail(i): after i elements, "]" or ", elem tail(i+1)".
        int32_t loop = -1;
        std::vector<int32_t> tails;
        std::function<Elem(int64_t)> tail = [&](int64_t i) -> Elem {
            if (mx < 0 && i >= steady) {
                if (loop >= 0) return b_.ref(loop);
                loop = b_.rule("items_loop");
                std::vector<Elem> more{lit(",")};
                add_ws(more);
                more.push_back(elem_at(i));
                add_ws(more);
                more.push_back(b_.ref(loop));
                b_.alt(loop, more);
                b_.alt(loop, {lit("]")});
                return b_.ref(loop);
            }
            int32_t r = b_.rule("items_" + std::to_string(i));
            if (mx < 0 || i < mx) {
                std::vector<Elem> more{lit(",")};
                add_ws(more);
                more.push_back(elem_at(i));
                add_ws(more);
                more.push_back(tail(i + 1));
                b_.alt(r, more);
            }
            if (i >= mn) b_.alt(r, {lit("]")});
            return b_.ref(r);
        };
        int32_t r = b_.rule("array");
        if (mn == 0) {
            std::vector<Elem> e{lit("[")};
            add_ws(e);
            e.push_back(lit("]"));
            b_.alt(r, e);
        }
        if (mx != 0) {
            std::vector<Elem> e{lit("[")};
            add_ws(e);
            e.push_back(elem_at(0));
            add_ws(e);
            e.push_back(tail(1));
            b_.alt(r, e);
        }
        return b_.ref(r);
    }

    Elem object(const json &s, const std::string &ptr) {
        struct Prop {
            std::string name;
            const json *schema;
            std::string ptr;
            bool required;
        };
        std::vector<Prop> props;
        std::set<std::string> req;
        if (s.contains("required")) {
            if (!s["required"].is_array())
                fail("required", ptr_join(ptr, "required"), "must be an array");
            for (const auto &r : s["required"]) {
                if (!r.is_string())
                    fail("required", ptr_join(ptr, "required"), "must list strings");
                req.insert(r.get<std::string>());
            }
        }
        static const json kTrue = true;
        const json *additional = &kTrue;
        std::string add_ptr = ptr_join(ptr, "additionalProperties");
        if (s.contains("additionalProperties")) additional = &s["additionalProperties"];
        if (s.contains("properties")) {
            const json &p = s["properties"];
            if (!p.is_object())
                fail("properties", ptr_join(ptr, "properties"), "must be an object");
            for (auto it = p.begin(); it != p.end(); ++it)
                props.push_back({it.key(), &it.value(),
                                 ptr_join(ptr_join(ptr, "properties"), it.key()),
                                 req.count(it.key()) > 0});
        }
        for (const auto &r : req) {
            bool known = false;
            for (const auto &p : props) known = known || p.name == r;
            if (!known) {
                if (additional->is_boolean() && !additional->get<bool>() &&
                    !s.contains("patternProperties"))
                    fail("required", ptr_join(ptr, "required"),
                         "'" + r + "' is required but not allowed");
                props.push_back({r, additional, add_ptr, true});
            }
        }
        // Extra members: pattern properties, then additionalProperties (keys matching no name
        // and no pattern).
        std::vector<std::pair<Elem, Elem>> extras; // key lexeme, value
        std::vector<std::string> taken;
        std::vector<Dfa> pattern_keys; // keys these patterns match are not additionalProperties
        for (const auto &p : props) taken.push_back(dump(json(p.name)));
        if (s.contains("patternProperties")) {
            const json &pp = s["patternProperties"];
            if (!pp.is_object())
                fail("patternProperties", ptr_join(ptr, "patternProperties"), "must be an object");
            for (auto it = pp.begin(); it != pp.end(); ++it) {
                std::string pptr = ptr_join(ptr_join(ptr, "patternProperties"), it.key());
                Re re = parse_regex(it.key(), true, "patternProperties", pptr);
                Dfa key =
                    compile_re(re, ReMode::JsonString, "patternProperties", pptr, 20000, true);
                Dfa names = dfa_literals(taken);
                Dfa d = dfa_difference(key, names, 50000, "patternProperties", pptr);
                if (!d.empty_language()) {
                    Elem k = b_.dfa_terminal(std::move(d), "key" + pptr);
                    extras.push_back({k, value(it.value(), pptr)});
                }
                pattern_keys.push_back(std::move(key));
            }
        }
        if (!(additional->is_boolean() && !additional->get<bool>())) {
            Dfa any = compile_re(re_rep(re_any_char(), 0, -1), ReMode::JsonString,
                                 "additionalProperties", add_ptr, 20000, true);
            if (!taken.empty()) {
                Dfa names = dfa_literals(taken);
                any = dfa_difference(any, names, 200000, "additionalProperties", add_ptr);
            }
            for (const Dfa &pk : pattern_keys)
                any = dfa_difference(any, pk, 200000, "additionalProperties", add_ptr);
            if (!any.empty_language()) {
                Elem k = b_.dfa_terminal(std::move(any), "key" + add_ptr);
                extras.push_back({k, value(*additional, add_ptr)});
            }
        }
        if (props.size() > 20000)
            fail("properties", ptr_join(ptr, "properties"), "too many properties");
        auto kv = [&](std::vector<Elem> &seq, Elem key, Elem val) {
            seq.push_back(key);
            add_ws(seq);
            seq.push_back(lit(":"));
            add_ws(seq);
            seq.push_back(val);
            add_ws(seq);
        };
        // extra tail: "}" or ", extra tail"
        int32_t etail = b_.rule("extra_tail");
        for (auto &[k, v] : extras) {
            std::vector<Elem> seq{lit(",")};
            add_ws(seq);
            kv(seq, k, v);
            seq.push_back(b_.ref(etail));
            b_.alt(etail, seq);
        }
        b_.alt(etail, {lit("}")});
        // after[i]: something was emitted; members i.. follow, each with a leading comma.
        // first[i]: nothing emitted yet.
        const std::size_t n = props.size();
        std::vector<Elem> vals(n);
        for (std::size_t i = 0; i < n; ++i) vals[i] = value(*props[i].schema, props[i].ptr);
        std::vector<Elem> after(n + 1), first(n + 1);
        after[n] = b_.ref(etail);
        {
            int32_t r = b_.rule("members_" + std::to_string(n));
            for (auto &[k, v] : extras) {
                std::vector<Elem> seq;
                kv(seq, k, v);
                seq.push_back(b_.ref(etail));
                b_.alt(r, seq);
            }
            b_.alt(r, {lit("}")});
            first[n] = b_.ref(r);
        }
        for (std::size_t i = n; i-- > 0;) {
            Elem key = lit(dump(json(props[i].name)));
            int32_t a = b_.rule("after_" + std::to_string(i));
            std::vector<Elem> with{lit(",")};
            add_ws(with);
            kv(with, key, vals[i]);
            with.push_back(after[i + 1]);
            b_.alt(a, with);
            if (!props[i].required) b_.alt(a, {after[i + 1]});
            after[i] = b_.ref(a);
            int32_t f = b_.rule("first_" + std::to_string(i));
            std::vector<Elem> lead;
            kv(lead, key, vals[i]);
            lead.push_back(after[i + 1]);
            b_.alt(f, lead);
            if (!props[i].required) b_.alt(f, {first[i + 1]});
            first[i] = b_.ref(f);
        }
        int32_t r = b_.rule("object");
        std::vector<Elem> seq{lit("{")};
        add_ws(seq);
        seq.push_back(first[0]);
        b_.alt(r, seq);
        return b_.ref(r);
    }
};

json parse_schema(std::string_view text) {
    try {
        return json::parse(text);
    } catch (const json::exception &e) {
        throw CompileError("schema", "", std::string("invalid JSON: ") + e.what());
    }
}

} // namespace

std::shared_ptr<const Grammar> Grammar::from_json_schema(std::string_view schema_json,
                                                         const JsonSchemaOptions &options) {
    json doc = parse_schema(schema_json);
    Compiler c(doc, options);
    return std::make_shared<const Grammar>(c.run());
}

std::shared_ptr<const Grammar> Grammar::json_object(const JsonSchemaOptions &options) {
    json doc = json::object();
    Compiler c(doc, options);
    return std::make_shared<const Grammar>(c.run_object());
}

} // namespace llmhost::constraint
