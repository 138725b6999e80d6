#include "config_file.hpp"

#include "environment.hpp"
#include "platform.hpp"
#include "secret_patterns.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace fs = std::filesystem;

namespace llmhost::detail {

void config_error(const Locate &locate, const std::string &pointer, bool at_key,
                  const std::string &message, const std::string &hint) {
    throw HostError(LLMHOST_ERR_CONFIG, message, hint,
                    locate ? locate(pointer, at_key) : std::nullopt);
}

Locate ConfigFile::locate() const {
    auto loc = locator;
    auto file = path;
    auto txt = std::make_shared<std::string>(text);
    return [loc, file, txt](const std::string &pointer, bool key) -> std::optional<SourceLocation> {
        size_t off = key ? loc->key_offset(pointer) : loc->value_offset(pointer);
        LineColumn lc = line_column(*txt, off);
        return SourceLocation{file, lc.line, lc.column};
    };
}

std::optional<std::string> find_config_file(const HostOptions &options) {
    if (!options.use_config_file) return std::nullopt;
    auto must_exist = [](const std::string &path, const std::string &given_by) {
        if (!fs::is_regular_file(platform::u8path(path)))
            throw HostError(LLMHOST_ERR_CONFIG,
                            "configuration file '" + path + "' (" + given_by +
                                ") does not exist or is not a file",
                            "check the path, or leave it unset to use the default search "
                            "(./llmhost.json, " +
                                std::string(platform::config_location_hint) + ")");
        return path;
    };
    if (!options.config_path.empty()) return must_exist(options.config_path, "--config");
    if (auto v = env_value("LLMHOST_CONFIG")) return must_exist(*v, "$LLMHOST_CONFIG");
    if (fs::is_regular_file("llmhost.json")) return platform::to_utf8(fs::absolute("llmhost.json"));
    fs::path dir = platform::user_config_dir();
    if (dir.empty()) return std::nullopt;
    fs::path path = dir / "llmhost" / "config.json";
    if (fs::is_regular_file(path)) return platform::to_utf8(path);
    return std::nullopt;
}

std::string closest_match(std::string_view word, const std::vector<std::string> &candidates) {
    auto distance = [](std::string_view a, std::string_view b) {
        std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
        for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
        for (size_t i = 1; i <= a.size(); ++i) {
            cur[0] = i;
            for (size_t j = 1; j <= b.size(); ++j)
                cur[j] = std::min(
                    {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            std::swap(prev, cur);
        }
        return prev[b.size()];
    };
    std::string best;
    size_t best_d = SIZE_MAX;
    for (const auto &c : candidates) {
        size_t d = distance(word, c);
        if (d < best_d) best_d = d, best = c;
    }
    // A typo, not a different word: at most a third of the letters (and at least 2) differ.
    return best_d <= std::max<size_t>(2, word.size() / 3) ? best : std::string();
}

static void check_keys(const nlohmann::json &obj, const std::string &pointer,
                       const std::vector<std::string> &valid, const Locate &locate,
                       const std::string &where) {
    for (const auto &[key, value] : obj.items()) {
        if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
        std::string suggestion = closest_match(key, valid);
        std::string valid_list;
        for (const auto &v : valid) valid_list += (valid_list.empty() ? "'" : ", '") + v + "'";
        config_error(locate, pointer + "/" + json_pointer_escape(key), true,
                     "unknown key '" + key + "' in " + where +
                         (suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?"),
                     "valid keys here: " + valid_list);
    }
}

static void expect_type(const nlohmann::json &v, bool ok, const std::string &pointer,
                        const std::string &what, const Locate &locate) {
    if (!ok)
        config_error(locate, pointer, false,
                     "'" + pointer + "' must be " + what + ", not " + std::string(v.type_name()),
                     "see docs/configuration.md for the schema");
}

void validate_provider_entry(const nlohmann::json &entry, const std::string &pointer,
                             const Locate &locate) {
    // A route ({"route": ...}) has its own schema: parse_route (route_config.cpp) checks it.
    if (entry.is_object() && entry.contains("route")) return;
    expect_type(entry, entry.is_object(), pointer, "an object {\"plugin\": ..., \"config\": {...}}",
                locate);
    check_keys(entry, pointer, {"plugin", "config", "secrets"}, locate, "a provider entry");
    if (!entry.contains("plugin"))
        config_error(
            locate, pointer, true, "provider entry '" + pointer + "' has no \"plugin\"",
            "add \"plugin\": \"<plugin name>\" (see `llmhost plugins`) or a plugin file path");
    expect_type(entry["plugin"],
                entry["plugin"].is_string() && !entry["plugin"].get<std::string>().empty(),
                pointer + "/plugin", "a non-empty string", locate);
    if (entry.contains("config"))
        expect_type(entry["config"], entry["config"].is_object(), pointer + "/config", "an object",
                    locate);
    if (!entry.contains("secrets")) return;
    const auto &secrets = entry["secrets"];
    expect_type(secrets, secrets.is_object(), pointer + "/secrets", "an object", locate);
    for (const auto &[name, s] : secrets.items()) {
        const std::string p = pointer + "/secrets/" + json_pointer_escape(name);
        if (s.is_string()) continue;
        expect_type(s,
                    s.is_object() && s.size() == 1 &&
                        ((s.contains("env") && s["env"].is_string()) ||
                         (s.contains("file") && s["file"].is_string())),
                    p, "a string, {\"env\": \"VAR\"} or {\"file\": \"/path\"}", locate);
    }
}

// A value under "secrets", or under a key that looks like a credential at any depth.
static bool secret_location(const std::string &pointer) {
    if (pointer.find("/secrets/") != std::string::npos) return true;
    for (size_t start = 0; start < pointer.size();) {
        size_t end = pointer.find('/', start + 1);
        if (looks_like_secret_key(
                pointer.substr(start + 1, end == std::string::npos ? end : end - start - 1)))
            return true;
        start = end;
    }
    return false;
}

std::string expand_string(std::string_view text, const std::string &pointer, const Locate &locate) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 3, "$${") == 0) { // escaped: a literal ${
            out += "${";
            i += 2;
            continue;
        }
        if (text.compare(i, 2, "${") != 0) {
            out += text[i];
            continue;
        }
        size_t close = text.find('}', i + 2);
        // Never quote the value: it may be a secret (a literal token that happens to hold "${").
        if (close == std::string_view::npos)
            config_error(locate, pointer, false,
                         "unterminated '${' in the value of '" + pointer + "'",
                         "write ${VAR} or ${VAR:-default}; a literal '${' is written '$${'");
        std::string_view body = text.substr(i + 2, close - i - 2);
        size_t dflt = body.find(":-");
        std::string name(body.substr(0, dflt));
        bool valid_name = !name.empty() &&
                          std::all_of(name.begin(), name.end(),
                                      [](unsigned char c) { return std::isalnum(c) || c == '_'; });
        if (!valid_name)
            config_error(
                locate, pointer, false,
                "invalid variable name in ${...} in the value of '" + pointer + "'",
                "variable names use letters, digits and '_'; a literal '${' is written '$${'");
        if (auto v = env_value(name.c_str()))
            out += *v;
        else if (dflt != std::string_view::npos)
            out += body.substr(dflt + 2);
        else if (secret_location(pointer)) // the "name" may be part of a literal secret
            config_error(
                locate, pointer, false,
                "an environment variable used in the value of '" + pointer + "' is not set",
                "set it, or give a default: ${VAR:-value}; a literal '${' is written '$${'");
        else
            config_error(locate, pointer, false,
                         "environment variable " + name + " (used as ${" + name + "}) is not set",
                         "set it, or give a default: ${" + name + ":-value}");
        i = close;
    }
    return out;
}

void expand_variables(nlohmann::json &value, const std::string &pointer, const Locate &locate) {
    if (value.is_string()) {
        value = expand_string(value.get_ref<const std::string &>(), pointer, locate);
    } else if (value.is_object()) {
        for (auto &[k, v] : value.items())
            expand_variables(v, pointer + "/" + json_pointer_escape(k), locate);
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i)
            expand_variables(value[i], pointer + "/" + std::to_string(i), locate);
    }
}

std::string parse_error_description(std::string_view what) {
    // "[json.exception.parse_error.101] parse error at line 4, column 12: syntax error while
    // parsing value - invalid string: ...; last read: '<the text>'; expected '}'"
    std::string_view s = what;
    if (auto p = s.find("] "); p != std::string_view::npos && s.substr(0, 1) == "[")
        s = s.substr(p + 2);
    if (s.rfind("parse error", 0) == 0)
        if (auto p = s.find(": "); p != std::string_view::npos) s = s.substr(p + 2);
    auto lr = s.find("; last read: '");
    if (lr == std::string_view::npos) lr = s.find("last read: '");
    if (lr == std::string_view::npos) return std::string(s);
    std::string out(s.substr(0, lr));
    // What followed the quoted text is kept only when it is one of nlohmann's fixed token names.
    static const char *const kExpected[] = {"'['",
                                            "'{'",
                                            "']'",
                                            "'}'",
                                            "':'",
                                            "','",
                                            "end of input",
                                            "value",
                                            "string literal",
                                            "number literal",
                                            "true literal",
                                            "false literal",
                                            "null literal",
                                            "'[', '{', or a literal"};
    for (const char *t : kExpected) {
        std::string tail = std::string("'; expected ") + t;
        if (s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail) {
            out += tail.substr(1);
            break;
        }
    }
    return out;
}

ConfigFile load_config_file(const std::string &path) {
    ConfigFile cf;
    cf.path = path;
    auto text = read_text_file(path);
    if (!text)
        throw HostError(LLMHOST_ERR_CONFIG, "cannot read configuration file '" + path + "'",
                        "check that it exists and is readable");
    cf.text = std::move(*text);
    try {
        cf.raw = nlohmann::json::parse(cf.text);
    } catch (const nlohmann::json::parse_error &e) {
        // e.byte counts the bytes read, up to the end of the offending token: point at the
        // token's first byte instead (the opening quote of a string, the start of a literal).
        size_t offset = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, cf.text.size());
        auto literal = [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
        };
        if (offset < cf.text.size() && offset > 0 && cf.text[offset] == '"') {
            size_t open = offset - 1;
            while (open > 0 && !(cf.text[open] == '"' && cf.text[open - 1] != '\\')) --open;
            if (cf.text[open] == '"') offset = open;
        } else if (offset < cf.text.size() && literal(cf.text[offset])) {
            while (offset > 0 && literal(cf.text[offset - 1])) --offset;
        }
        LineColumn lc = line_column(cf.text, offset);
        // The text that failed may be a secret: nlohmann's message quotes it ("last read: '…'"),
        // so only its description is kept, and the line is shown with every value hidden.
        throw HostError(
            LLMHOST_ERR_CONFIG,
            "invalid JSON: " + parse_error_description(e.what()) + "\n" +
                redacted_excerpt(cf.text, offset),
            "fix the syntax at this position (JSON has no comments and no trailing commas)",
            SourceLocation{path, lc.line, lc.column});
    }
    cf.locator = std::make_shared<JsonLocator>(cf.text);
    const Locate locate = cf.locate();
    const auto &root = cf.raw;
    expect_type(root, root.is_object(), "", "an object", locate);
    check_keys(root, "", {"$schema", "default_provider", "plugin_dirs", "providers"}, locate,
               "the configuration");
    if (root.contains("default_provider"))
        expect_type(root["default_provider"], root["default_provider"].is_string(),
                    "/default_provider", "a string", locate);
    if (root.contains("plugin_dirs")) {
        const auto &dirs = root["plugin_dirs"];
        expect_type(dirs, dirs.is_array(), "/plugin_dirs", "an array of directory paths", locate);
        for (size_t i = 0; i < dirs.size(); ++i)
            expect_type(dirs[i], dirs[i].is_string(), "/plugin_dirs/" + std::to_string(i),
                        "a string", locate);
    }
    if (root.contains("providers")) {
        const auto &providers = root["providers"];
        expect_type(providers, providers.is_object(), "/providers", "an object", locate);
        for (const auto &[name, entry] : providers.items())
            validate_provider_entry(entry, "/providers/" + json_pointer_escape(name), locate);
    }
    cf.root = cf.raw;
    expand_variables(cf.root, "", locate);
    if (cf.root.contains("default_provider") && cf.root.contains("providers")) {
        const std::string dp = cf.root["default_provider"];
        std::vector<std::string> names;
        for (const auto &[n, e] : cf.root["providers"].items()) names.push_back(n);
        if (std::find(names.begin(), names.end(), dp) == names.end()) {
            std::string s = closest_match(dp, names);
            config_error(locate, "/default_provider", false,
                         "default_provider '" + dp + "' is not one of the configured providers" +
                             (s.empty() ? "" : "; did you mean '" + s + "'?"),
                         "name a provider defined under \"providers\"");
        }
    }
    return cf;
}

} // namespace llmhost::detail
