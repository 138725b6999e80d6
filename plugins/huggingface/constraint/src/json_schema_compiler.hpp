// The JSON Schema compiler's internals, split over json_schema.cpp (schema nodes, $ref,
// anyOf/oneOf, enum/const), json_schema_combine.cpp (allOf merging, "not") and
// json_schema_types.cpp (numbers, strings, arrays, objects).
#pragma once

#include "llmhost/constraint/constraint.hpp"

#include "grammar.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace llmhost::constraint::schema {

// ordered_json: the schema's property order is the order the grammar emits them in.
using json = nlohmann::ordered_json;

extern const std::set<std::string> kAnnotations;
std::string ptr_join(const std::string &p, const std::string &key);
// JSON text as Python's json.dumps(ensure_ascii=False) writes a scalar.
std::string dump(const json &v);

class SchemaCompiler {
public:
    SchemaCompiler(const json &doc, const JsonSchemaOptions &o)
        : doc_(doc), opt_(o), ref_overrides_(legacy_draft(doc) && !o.generation) {
        if (!o.compact)
            ws_ = b_.regex(re_rep(re_set({{'\t', '\n'}, {'\r', '\r'}, {' ', ' '}}), 0,
                                  static_cast<int>(o.max_whitespace)),
                           ReMode::Raw, "ws", "grammar", "");
    }

    std::unique_ptr<GrammarImpl> run();
    std::unique_ptr<GrammarImpl> run_object();

private:
    const json &doc_;
    JsonSchemaOptions opt_;
    // Drafts 3-7: "$ref" replaces the schema it sits in (its siblings are ignored, as validators
    // for those drafts do); from 2019-09 on, and without "$schema", it is one more constraint.
    // Generating, it is one more constraint in every draft: the output then satisfies both
    // readings (ajv applies the siblings in every draft).
    bool ref_overrides_ = false;
    static bool legacy_draft(const json &doc);
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
    Elem any_value();
    Elem any_object();

    // ---- $ref / allOf ---------------------------------------------------------------------
    const json &resolve(const std::string &ref, const std::string &ptr);
    Elem ref_rule(const std::string &ref, const std::string &ptr);
    static bool has_constraints(const json &s, const std::set<std::string> &except) {
        for (auto it = s.begin(); it != s.end(); ++it)
            if (!kAnnotations.count(it.key()) && !except.count(it.key())) return true;
        return false;
    }
    // Merges `add` into `into` (both objects, refs in `add` resolved by the caller).
    void merge(json &into, const json &add, const std::string &ptr);
    // additionalProperties is relative to its own schema's properties: in a conjunction, what one
    // side declares and the other does not must also satisfy the other's additionalProperties.
    json merge_object_sides(json &into, const json &add, const std::string &ptr);
    json flatten_all_of(const json &s, const std::string &ptr, int depth = 0);

    // ---- schema nodes --------------------------------------------------------------------
    Elem value(const json &s, const std::string &ptr);
    // Refuses keywords that are not implemented (CompileError naming the first).
    void check_keywords(const json &s, const std::string &ptr);
    // "not" where it has an exact positive form: not {not: X} (X, one more allOf member) and
    // not {type: ...} (the remaining types). nullopt otherwise (then refused).
    std::optional<json> rewrite_not(const json &s, const std::string &ptr);

    Elem value_checked(const json &s, const std::string &ptr);
    // What a schema can match, as far as oneOf's disjointness proof needs it.
    struct Sig {
        std::set<std::string> types; // "integer" counted as "number"
        std::optional<std::vector<json>> values;
        std::set<std::string> required, props;
        std::map<std::string, std::vector<json>> tags; // required properties with const/enum values
        bool closed = false;                           // no members beyond props
    };
    Sig signature(const json &schema, const std::string &ptr, int depth = 0);
    void check_one_of(const json &alts, const std::string &ptr);

    static bool matches_type(const json &v, const std::string &t);
    Elem enum_values(const json &s, const json &values, const std::string &ptr);

    Elem typed(const json &s, const std::string &t, const std::string &ptr, bool implicit);

    Elem number(const json &s, bool integer, const std::string &ptr);

    Elem string(const json &s, const std::string &ptr);

    Elem array(const json &s, const std::string &ptr);

    Elem object(const json &s, const std::string &ptr);
    struct Prop {
        std::string name;
        const json *schema;
        std::string ptr;
        bool required;
    };
    // Objects with at most this many required properties take their members in any order.
    static constexpr std::size_t kMaxUnorderedRequired = 8;
    static constexpr std::size_t kMaxUnorderedAlts = 1 << 14; // (properties + extras) << required
    void member(std::vector<Elem> &seq, Elem key, Elem val);
    Elem members_any_order(const std::vector<Prop> &props, const std::vector<Elem> &vals,
                           const std::vector<std::pair<Elem, Elem>> &extras);
    Elem members_in_order(const std::vector<Prop> &props, const std::vector<Elem> &vals,
                          const std::vector<std::pair<Elem, Elem>> &extras);
};

} // namespace llmhost::constraint::schema
