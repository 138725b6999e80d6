#include "manifest.hpp"

#include "environment.hpp"
#include "secret_patterns.hpp"

#include <llmhost/host.hpp>

#include <cmath>
#include <regex>
#include <stdexcept>

namespace llmhost::detail {

namespace {

[[noreturn]] void bad(const std::string &what) { throw std::invalid_argument(what); }

std::string string_member(const nlohmann::json &obj, const char *key, const std::string &where) {
    if (!obj.contains(key)) return {};
    if (!obj[key].is_string()) bad(where + "." + key + " must be a string");
    return obj[key].get<std::string>();
}

bool valid_type(const std::string &t) {
    return t.empty() || t == "string" || t == "path" || t == "bool" || t == "number";
}

ManifestSource parse_source(const nlohmann::json &s, const std::string &where) {
    ManifestSource out;
    if (s.is_string()) { // shorthand: "HF_TOKEN" is {"env": "HF_TOKEN"}
        out.text = out.label = s.get<std::string>();
        return out;
    }
    if (!s.is_object()) bad(where + " must be a variable name or an object");
    if (s.contains("env")) {
        out.kind = ManifestSource::Kind::env;
        out.text = string_member(s, "env", where);
        out.label = out.text;
    } else if (s.contains("file")) {
        out.kind = ManifestSource::Kind::file;
        out.text = string_member(s, "file", where);
        out.label = s.contains("source") ? string_member(s, "source", where) : "file";
    } else if (s.contains("value")) {
        out.kind = ManifestSource::Kind::value;
        out.text = string_member(s, "value", where);
        out.label = s.contains("source") ? string_member(s, "source", where) : "default";
    } else {
        bad(where + " needs \"env\", \"file\" or \"value\"");
    }
    if (out.text.empty()) bad(where + " is empty");
    return out;
}

// The end of a ${...} starting at `open` (the index of '$'), nested ${...} included; npos if none.
size_t closing_brace(std::string_view s, size_t open) {
    int depth = 0;
    for (size_t i = open; i < s.size(); ++i) {
        if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
            ++depth;
            ++i;
        } else if (s[i] == '}' && --depth == 0) {
            return i;
        }
    }
    return std::string_view::npos;
}

} // namespace

std::optional<std::string> expand_environment(std::string_view expr) {
    std::string out;
    for (size_t i = 0; i < expr.size();) {
        if (expr[i] != '$' || i + 1 >= expr.size() || expr[i + 1] != '{') {
            out += expr[i++];
            continue;
        }
        size_t end = closing_brace(expr, i);
        if (end == std::string_view::npos) return std::nullopt; // malformed: does not apply
        std::string_view inner = expr.substr(i + 2, end - i - 2);
        size_t dash = inner.find(":-");
        std::string name(inner.substr(0, dash));
        if (auto v = env_value(name.c_str())) {
            out += *v;
        } else if (dash != std::string_view::npos) {
            auto d = expand_environment(inner.substr(dash + 2));
            if (!d) return std::nullopt;
            out += *d;
        } else {
            return std::nullopt;
        }
        i = end + 1;
    }
    return out;
}

Manifest parse_manifest(std::string_view text) {
    Manifest m;
    try {
        m.json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error &e) {
        bad(std::string("invalid JSON: ") + e.what());
    }
    const auto &j = m.json;
    if (!j.is_object()) bad("the manifest must be a JSON object");
    if (j.contains("from_environment")) {
        const auto &f = j["from_environment"];
        if (f.is_string())
            m.from_environment = f.get<std::string>();
        else if (f.is_object()) {
            m.from_environment = string_member(f, "provider", "from_environment");
            if (f.contains("default")) {
                if (!f["default"].is_boolean())
                    bad("from_environment.default must be true or false");
                m.default_provider = f["default"].get<bool>();
            }
        } else if (!f.is_null() && !(f.is_boolean() && !f.get<bool>()))
            bad("from_environment must be a provider name or {\"provider\": name}");
    }
    if (j.contains("env")) {
        if (!j["env"].is_array()) bad("env must be an array");
        for (size_t i = 0; i < j["env"].size(); ++i) {
            const auto &e = j["env"][i];
            const std::string where = "env[" + std::to_string(i) + "]";
            if (!e.is_object()) bad(where + " must be an object");
            ManifestEnv me;
            me.secret = e.contains("secret");
            me.target = string_member(e, me.secret ? "secret" : "config", where);
            if (me.target.empty()) bad(where + " needs \"config\" or \"secret\" (a key name)");
            if (e.contains("type")) me.type = string_member(e, "type", where);
            if (!valid_type(me.type) || me.type.empty())
                bad(where + ".type must be string, path, bool or number");
            if (!e.contains("from") || !e["from"].is_array() || e["from"].empty())
                bad(where + ".from must be a non-empty array");
            for (size_t k = 0; k < e["from"].size(); ++k)
                me.from.push_back(
                    parse_source(e["from"][k], where + ".from[" + std::to_string(k) + "]"));
            m.env.push_back(std::move(me));
        }
    }
    if (j.contains("secrets")) {
        if (!j["secrets"].is_object()) bad("secrets must be an object");
        for (const auto &[name, s] : j["secrets"].items()) {
            const std::string where = "secrets." + name;
            if (!s.is_object()) bad(where + " must be an object");
            ManifestSecret ms;
            if (s.contains("expected")) {
                if (!s["expected"].is_boolean()) bad(where + ".expected must be true or false");
                ms.expected = s["expected"].get<bool>();
            }
            ms.warning = string_member(s, "warning", where);
            ms.hint = string_member(s, "hint", where);
            ms.missing = string_member(s, "missing", where);
            m.secrets[name] = std::move(ms);
        }
    }
    if (j.contains("config")) {
        if (!j["config"].is_object()) bad("config must be an object");
        for (const auto &[key, c] : j["config"].items()) {
            const std::string where = "config." + key;
            if (!c.is_object()) bad(where + " must be an object");
            ManifestConfigKey k;
            k.type = string_member(c, "type", where);
            if (!valid_type(k.type)) bad(where + ".type must be string, path, bool or number");
            k.pattern = string_member(c, "pattern", where);
            if (!k.pattern.empty()) try {
                    std::regex check(k.pattern);
                } catch (const std::regex_error &) {
                    bad(where + ".pattern is not a valid regular expression");
                }
            if (c.contains("enum")) {
                if (!c["enum"].is_array()) bad(where + ".enum must be an array of strings");
                for (const auto &v : c["enum"]) {
                    if (!v.is_string()) bad(where + ".enum must be an array of strings");
                    k.values.push_back(v.get<std::string>());
                }
            }
            k.hint = string_member(c, "hint", where);
            m.config[key] = std::move(k);
        }
    }
    if (j.contains("additional_config")) {
        if (!j["additional_config"].is_boolean()) bad("additional_config must be true or false");
        m.closed_config = !j["additional_config"].get<bool>();
    }
    if (j.contains("flags")) {
        if (!j["flags"].is_object()) bad("flags must be an object");
        for (const auto &[flag, key] : j["flags"].items()) {
            if (!key.is_string()) bad("flags." + flag + " must be a config key");
            m.flags[flag] = key.get<std::string>();
        }
    }
    return m;
}

std::optional<EnvValue> resolve_env(const ManifestEnv &m, std::vector<std::string> *all) {
    std::optional<EnvValue> first;
    for (const auto &s : m.from) {
        std::optional<EnvValue> got;
        if (s.kind == ManifestSource::Kind::env) {
            if (auto v = env_value(s.text.c_str())) got = EnvValue{*v, s.label};
        } else if (s.kind == ManifestSource::Kind::value) {
            if (auto v = expand_environment(s.text); v && !v->empty()) got = EnvValue{*v, s.label};
        } else if (auto path = expand_environment(s.text); path && !path->empty()) {
            if (auto text = read_text_file(*path)) {
                if (all) all->push_back(trim_secret(*text));
                // The first non-blank line, trimmed: a second line is not glued onto the value.
                std::string t = first_line_trimmed(*text);
                if (!t.empty()) got = EnvValue{t, s.label + " " + *path};
            }
        }
        if (!got) continue;
        if (all) {
            all->push_back(got->value);
            all->push_back(trim_secret(got->value));
        }
        if (!first) first = std::move(got);
        if (!all) break;
    }
    return first;
}

nlohmann::json typed_env_value(const std::string &type, const std::string &text,
                               const std::string &source) {
    if (type == "bool") {
        auto b = parse_bool(text);
        if (!b)
            throw HostError(LLMHOST_ERR_CONFIG, source + "='" + text + "' is not a boolean",
                            "set " + source + " to 1 or 0");
        return *b;
    }
    if (type == "number") {
        char *end = nullptr;
        double d = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0' || !std::isfinite(d))
            throw HostError(LLMHOST_ERR_CONFIG, source + "='" + text + "' is not a number",
                            "set " + source + " to a number");
        return d;
    }
    if (type == "path" && (text == "~" || text.rfind("~/", 0) == 0))
        return home_dir() + text.substr(1);
    return text;
}

std::vector<std::string> manifest_secret_values(const Manifest &m) {
    std::vector<std::string> out;
    for (const auto &e : m.env)
        if (e.secret) resolve_env(e, &out);
    return out;
}

} // namespace llmhost::detail
