// JSON Schema -> grammar. Each schema node becomes a rule (or a single lexeme); $ref targets are
// compiled once per JSON pointer, which is what makes recursive schemas work. A keyword that
// would change which instances are valid and is not implemented is a CompileError naming it and
// its pointer; annotations are ignored. Types: json_schema_types.cpp.
#include "json_schema_compiler.hpp"

#include <algorithm>
#include <cmath>

namespace llmhost::constraint {

namespace schema {

const std::set<std::string> kAnnotations = {
    "$schema",     "$id",         "id",         "$comment",         "title",
    "description", "default",     "examples",   "example",          "deprecated",
    "readOnly",    "writeOnly",   "$anchor",    "contentMediaType", "contentEncoding",
    "$defs",       "definitions", "$vocabulary"};
static const std::set<std::string> kUnsupported = {"not",
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
static const std::set<std::string> kTypes = {"null",   "boolean", "integer", "number",
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

bool SchemaCompiler::legacy_draft(const json &doc) {
    if (!doc.is_object() || !doc.contains("$schema") || !doc["$schema"].is_string()) return false;
    const std::string u = doc["$schema"].get<std::string>();
    for (const char *d : {"draft-03", "draft-04", "draft-06", "draft-07"})
        if (u.find(d) != std::string::npos) return true;
    return false;
}

std::unique_ptr<GrammarImpl> SchemaCompiler::run() {
    int32_t root = b_.rule("root");
    std::vector<Elem> seq;
    if (!opt_.prefix.empty()) seq.push_back(lit(opt_.prefix));
    add_ws(seq);
    seq.push_back(value(doc_, ""));
    add_ws(seq);
    if (!opt_.suffix.empty()) seq.push_back(lit(opt_.suffix));
    b_.alt(root, seq);
    return b_.finish(root, "grammar");
}

std::unique_ptr<GrammarImpl> SchemaCompiler::run_object() {
    int32_t root = b_.rule("root");
    std::vector<Elem> seq;
    if (!opt_.prefix.empty()) seq.push_back(lit(opt_.prefix));
    add_ws(seq);
    seq.push_back(any_object());
    add_ws(seq);
    if (!opt_.suffix.empty()) seq.push_back(lit(opt_.suffix));
    b_.alt(root, seq);
    return b_.finish(root, "grammar");
}

Elem SchemaCompiler::any_value() {
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

Elem SchemaCompiler::any_object() {
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

const json &SchemaCompiler::resolve(const std::string &ref, const std::string &ptr) {
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

Elem SchemaCompiler::ref_rule(const std::string &ref, const std::string &ptr) {
    std::string target = ref.size() > 1 ? ref.substr(1) : "";
    auto it = refs_.find(target);
    if (it != refs_.end()) return b_.ref(it->second);
    const json &t = resolve(ref, ptr);
    int32_t r = b_.rule("ref" + target);
    refs_[target] = r;
    b_.alt(r, {value(t, target)});
    return b_.ref(r);
}

void SchemaCompiler::check_keywords(const json &s, const std::string &ptr) {
    for (auto it = s.begin(); it != s.end(); ++it) {
        if (kUnsupported.count(it.key())) {
            // A few trivially true forms are honoured rather than refused.
            if (it.key() == "minProperties" && it.value() == 0) continue;
            fail(it.key(), ptr_join(ptr, it.key()), "keyword not supported");
        }
        if (it.key() == "uniqueItems" && it.value() == true)
            fail("uniqueItems", ptr_join(ptr, "uniqueItems"), "keyword not supported");
    }
}

Elem SchemaCompiler::value(const json &s, const std::string &ptr) {
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
    if (ref_overrides_ && s.contains("$ref")) {
        if (!s["$ref"].is_string()) fail("$ref", ptr_join(ptr, "$ref"), "must be a string");
        return ref_rule(s["$ref"].get<std::string>(), ptr_join(ptr, "$ref"));
    }
    if (auto r = rewrite_not(s, ptr)) return value(*r, ptr);
    check_keywords(s, ptr);
    // A flattened allOf is checked again: keywords merged from its subschemas must not slip by.
    auto flattened = [&](const json &x) {
        json f = flatten_all_of(x, ptr);
        if (f.contains("not")) return value(f, ptr); // rewritten there, or refused
        check_keywords(f, ptr);
        return value_checked(f, ptr);
    };
    if (s.contains("allOf")) return flattened(s);
    if (s.contains("$ref")) {
        if (!s["$ref"].is_string()) fail("$ref", ptr_join(ptr, "$ref"), "must be a string");
        if (!has_constraints(s, {"$ref"}))
            return ref_rule(s["$ref"].get<std::string>(), ptr_join(ptr, "$ref"));
        json wrapped = s;
        wrapped.erase("$ref");
        wrapped["allOf"] = json::array({json{{"$ref", s["$ref"]}}});
        return flattened(wrapped);
    }
    return value_checked(s, ptr);
}

SchemaCompiler::Sig SchemaCompiler::signature(const json &schema, const std::string &ptr,
                                              int depth) {
    Sig sig;
    sig.types = {"null", "boolean", "number", "string", "array", "object"};
    if (depth > 3) return sig; // recursive schemas: claim nothing
    json s = schema;
    for (int guard = 0; s.is_object() && s.contains("$ref") && s["$ref"].is_string(); ++guard) {
        if (guard > 32) return sig;
        json rest = s;
        rest.erase("$ref");
        json target = resolve(s["$ref"].get<std::string>(), ptr);
        if (!target.is_object()) return sig;
        if (!ref_overrides_ && has_constraints(rest, {})) return sig; // a combination: no claim
        s = target;
    }
    if (!s.is_object()) return sig;
    if (s.contains("allOf")) s = flatten_all_of(s, ptr);
    auto type_of = [](const json &v) -> std::string {
        if (v.is_null()) return "null";
        if (v.is_boolean()) return "boolean";
        if (v.is_number()) return "number";
        if (v.is_string()) return "string";
        if (v.is_array()) return "array";
        return "object";
    };
    if (s.contains("type")) {
        std::set<std::string> t;
        auto add = [&](const json &x) {
            if (x.is_string())
                t.insert(x.get<std::string>() == "integer" ? "number" : x.get<std::string>());
        };
        if (s["type"].is_array())
            for (const auto &x : s["type"]) add(x);
        else
            add(s["type"]);
        sig.types = t;
    }
    const json *values = s.contains("const")
                             ? nullptr
                             : (s.contains("enum") && s["enum"].is_array() ? &s["enum"] : nullptr);
    if (s.contains("const"))
        sig.values = std::vector<json>{s["const"]};
    else if (values)
        sig.values = std::vector<json>(values->begin(), values->end());
    if (sig.values) {
        std::set<std::string> t;
        for (const auto &v : *sig.values)
            if (sig.types.count(type_of(v))) t.insert(type_of(v));
        sig.types = t;
    }
    if (s.contains("required") && s["required"].is_array())
        for (const auto &r : s["required"])
            if (r.is_string()) sig.required.insert(r.get<std::string>());
    if (s.contains("properties") && s["properties"].is_object()) {
        for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it) {
            sig.props.insert(it.key());
            if (sig.required.count(it.key())) {
                Sig p = signature(it.value(), ptr, depth + 1);
                if (p.values) sig.tags[it.key()] = *p.values;
            }
        }
    }
    sig.closed = s.contains("additionalProperties") && s["additionalProperties"] == false &&
                 !s.contains("patternProperties");
    return sig;
}

void SchemaCompiler::check_one_of(const json &alts, const std::string &ptr) {
    if (alts.size() < 2) return;
    std::vector<Sig> sigs;
    for (std::size_t i = 0; i < alts.size(); ++i)
        sigs.push_back(signature(alts[i], ptr_join(ptr, std::to_string(i))));
    auto disjoint = [](const Sig &a, const Sig &b) {
        bool common_type = false;
        for (const auto &t : a.types) common_type = common_type || b.types.count(t);
        if (!common_type) return true;
        if (a.values && b.values) {
            bool shared = false;
            for (const auto &x : *a.values)
                for (const auto &y : *b.values) shared = shared || x == y;
            if (!shared) return true;
        }
        // From here only objects can be in common; other shared types make them overlap.
        for (const auto &t : a.types)
            if (b.types.count(t) && t != "object") return false;
        for (const auto &[k, va] : a.tags) {
            auto it = b.tags.find(k);
            if (it == b.tags.end()) continue;
            bool shared = false;
            for (const auto &x : va)
                for (const auto &y : it->second) shared = shared || x == y;
            if (!shared) return true;
        }
        for (const auto &r : a.required)
            if (b.closed && !b.props.count(r)) return true;
        for (const auto &r : b.required)
            if (a.closed && !a.props.count(r)) return true;
        return false;
    };
    for (std::size_t i = 0; i < sigs.size(); ++i)
        for (std::size_t j = i + 1; j < sigs.size(); ++j)
            if (!disjoint(sigs[i], sigs[j]))
                fail("oneOf", ptr,
                     "branches " + std::to_string(i) + " and " + std::to_string(j) +
                         " may both match (oneOf needs exactly one); use anyOf if overlap is "
                         "intended");
}

Elem SchemaCompiler::value_checked(const json &s, const std::string &ptr) {
    for (const char *k : {"anyOf", "oneOf"}) {
        if (!s.contains(k)) continue;
        const json &alts = s.at(k);
        if (!alts.is_array() || alts.empty())
            fail(k, ptr_join(ptr, k), "must be a non-empty array");
        // oneOf is compiled as anyOf, which is exact only when no instance can match two
        // branches: refused unless that is provable (types, values, tags, closed objects).
        if (std::string(k) == "oneOf") check_one_of(alts, ptr_join(ptr, k));
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
            if (!kTypes.count(x)) fail("type", ptr_join(ptr, "type"), "unknown type '" + x + "'");
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

bool SchemaCompiler::matches_type(const json &v, const std::string &t) {
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

Elem SchemaCompiler::enum_values(const json &s, const json &values, const std::string &ptr) {
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
        // Numbers compare by value: 2.0 also matches the integer 2 (json.dumps writes "2").
        // Other spellings of the value (2.00, 2e0) are not generated.
        if (v.is_number_float() && std::isfinite(v.get<double>()) &&
            std::floor(v.get<double>()) == v.get<double>() && std::fabs(v.get<double>()) < 1e15)
            alts.push_back(dump(json(static_cast<int64_t>(v.get<double>()))));
    }
    if (alts.empty())
        fail(ptr.substr(ptr.rfind('/') + 1), ptr, "no value matches the schema's type");
    Dfa d = dfa_literals(alts);
    return b_.dfa_terminal(std::move(d), "enum" + ptr);
}

} // namespace schema

namespace {

schema::json parse_schema(std::string_view text) {
    try {
        return schema::json::parse(text);
    } catch (const schema::json::exception &e) {
        throw CompileError("schema", "", std::string("invalid JSON: ") + e.what());
    }
}

} // namespace

std::shared_ptr<const Grammar> Grammar::from_json_schema(std::string_view schema_json,
                                                         const JsonSchemaOptions &options) {
    schema::json doc = parse_schema(schema_json);
    schema::SchemaCompiler c(doc, options);
    return std::make_shared<const Grammar>(c.run());
}

std::shared_ptr<const Grammar> Grammar::json_object(const JsonSchemaOptions &options) {
    schema::json doc = schema::json::object();
    schema::SchemaCompiler c(doc, options);
    return std::make_shared<const Grammar>(c.run_object());
}

} // namespace llmhost::constraint
