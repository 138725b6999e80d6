// The JSON Schema compiler's conjunctions: allOf (and $ref with siblings) flattened into one
// schema, with each keyword merged exactly or refused, and "not" in the forms that have an
// exact positive equivalent. See json_schema_compiler.hpp.
#include "json_schema_compiler.hpp"

#include <algorithm>

namespace llmhost::constraint::schema {

json SchemaCompiler::merge_object_sides(json &into, const json &add, const std::string &ptr) {
    static const json kTrue = true;
    const json ai = into.contains("additionalProperties") ? into["additionalProperties"] : kTrue;
    const json aa = add.contains("additionalProperties") ? add["additionalProperties"] : kTrue;
    auto open = [](const json &a) { return a == true || (a.is_object() && a.empty()); };
    json out = add;
    if (open(ai) && open(aa)) return out;
    auto props = [](const json &x) {
        return x.contains("properties") && x["properties"].is_object() ? x["properties"]
                                                                       : json::object();
    };
    const json pi = props(into), pa = props(add);
    bool differ = false;
    for (auto it = pa.begin(); it != pa.end(); ++it) differ = differ || !pi.contains(it.key());
    for (auto it = pi.begin(); it != pi.end(); ++it) differ = differ || !pa.contains(it.key());
    const bool ppi = into.contains("patternProperties"), ppa = add.contains("patternProperties");
    if ((ppi || ppa) && (differ || (!open(ai) && ppa) || (!open(aa) && ppi)))
        fail("allOf", ptr,
             "additionalProperties and patternProperties in different subschemas of allOf are "
             "not supported");
    for (auto it = pa.begin(); it != pa.end(); ++it) {
        if (open(ai) || pi.contains(it.key())) continue;
        if (ai == false)
            out["properties"].erase(it.key()); // the other side forbids it
        else
            out["properties"][it.key()] = json{{"allOf", json::array({it.value(), ai})}};
    }
    for (auto it = pi.begin(); it != pi.end(); ++it) {
        if (open(aa) || pa.contains(it.key())) continue;
        if (aa == false)
            into["properties"].erase(it.key());
        else
            into["properties"][it.key()] = json{{"allOf", json::array({it.value(), aa})}};
    }
    return out;
}

void SchemaCompiler::merge(json &into, const json &add_in, const std::string &ptr) {
    const json add = merge_object_sides(into, add_in, ptr);
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
        } else if (k == "additionalProperties") {
            // Both constrain the keys neither side declares (merge_object_sides did the rest).
            if (cur == false || it.value() == false)
                cur = false;
            else if (cur == true)
                cur = it.value();
            else if (it.value() != true)
                cur = json{{"allOf", json::array({cur, it.value()})}};
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

json SchemaCompiler::flatten_all_of(const json &s, const std::string &ptr, int depth) {
    if (depth > 32) fail("allOf", ptr, "allOf/$ref nesting too deep");
    json out = json::object();
    for (auto it = s.begin(); it != s.end(); ++it)
        if (it.key() != "allOf" && it.key() != "$ref") out[it.key()] = it.value();
    if (!s.at("allOf").is_array() || s.at("allOf").empty())
        fail("allOf", ptr, "must be a non-empty array");
    // A "$ref" beside "allOf" is one more member of it (kept as a plain key, it was ignored).
    json all = s.at("allOf");
    if (s.contains("$ref")) all.push_back(json{{"$ref", s["$ref"]}});
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
            if (ref_overrides_) rest = json::object();
            json target = resolve(sub["$ref"].get<std::string>(), p);
            if (!target.is_object()) fail("$ref", p, "reference to a non-object schema in allOf");
            merge(target, rest, p);
            sub = target;
        }
        if (sub.contains("allOf")) sub = flatten_all_of(sub, p, depth + 1);
        merge(out, sub, p);
    }
    return out;
}

std::optional<json> SchemaCompiler::rewrite_not(const json &s, const std::string &ptr) {
    if (!s.contains("not") || !s["not"].is_object()) return std::nullopt;
    const json &n = s["not"];
    std::vector<std::string> keys;
    for (auto it = n.begin(); it != n.end(); ++it)
        if (!kAnnotations.count(it.key())) keys.push_back(it.key());
    if (keys.size() != 1) return std::nullopt;
    json out = s;
    out.erase("not");
    if (keys[0] == "not") { // not(not X) = X, one more allOf member
        json all = out.contains("allOf") && out["allOf"].is_array() ? out["allOf"] : json::array();
        all.push_back(n["not"]);
        out["allOf"] = all;
        return out;
    }
    if (keys[0] != "type") return std::nullopt;
    auto types = [](const json &t) -> std::optional<std::set<std::string>> {
        std::set<std::string> r;
        if (t.is_string())
            r.insert(t.get<std::string>());
        else if (t.is_array())
            for (const auto &x : t) {
                if (!x.is_string()) return std::nullopt;
                r.insert(x.get<std::string>());
            }
        else
            return std::nullopt;
        return r;
    };
    auto neg = types(n["type"]);
    if (!neg) return std::nullopt;
    std::set<std::string> cur = {"null", "boolean", "object", "array", "number", "string"};
    if (s.contains("type")) {
        auto t = types(s["type"]);
        if (!t) return std::nullopt;
        cur = *t;
    }
    if (neg->count("number")) {
        cur.erase("number");
        cur.erase("integer");
    }
    if (neg->count("integer")) {
        if (cur.count("number")) return std::nullopt; // the non-integral numbers: no lexeme
        cur.erase("integer");
    }
    for (const auto &t : *neg) cur.erase(t);
    if (cur.empty()) fail("not", ptr_join(ptr, "not"), "no type is left: nothing is valid");
    out["type"] = json(std::vector<std::string>(cur.begin(), cur.end()));
    return out;
}

} // namespace llmhost::constraint::schema
