// OpenAI's `response_format` object -> ResponseFormat, and OpenAI's name rule, shared by the
// server, the C API and the Python module so that all of them accept and refuse the same things.
#include <llmhost/host.hpp>

namespace llmhost {

bool is_valid_openai_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    return true;
}

namespace {
HostError bad(const std::string &what) {
    return HostError(LLMH_ERR_INVALID_ARGUMENT, "response_format: " + what,
                     "send {\"type\": \"text\"}, {\"type\": \"json_object\"} or {\"type\": "
                     "\"json_schema\", \"json_schema\": {\"name\": ..., \"schema\": {...}}}");
}
} // namespace

ResponseFormat response_format_from_openai(const nlohmann::json &j) {
    ResponseFormat f;
    if (j.is_null()) return f;
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw bad("must be an object with a string \"type\"");
    const std::string type = j["type"].get<std::string>();
    if (type == "text") return f;
    if (type == "json_object") {
        f.type = LLMH_RESPONSE_JSON_OBJECT;
        return f;
    }
    if (type != "json_schema") throw bad("type '" + type.substr(0, 40) + "' is unknown");
    f.type = LLMH_RESPONSE_JSON_SCHEMA;
    if (!j.contains("json_schema") || !j["json_schema"].is_object())
        throw bad("type json_schema needs a \"json_schema\" object");
    const auto &s = j["json_schema"];
    if (!s.contains("name") || !s["name"].is_string())
        throw bad("json_schema.name is required (a string)");
    f.name = s["name"].get<std::string>();
    if (!is_valid_openai_name(f.name))
        throw bad("json_schema.name must be 1-64 characters of a-z, A-Z, 0-9, '_' and '-'");
    if (s.contains("schema")) {
        if (!s["schema"].is_object()) throw bad("json_schema.schema must be an object");
        f.schema_json = s["schema"].dump();
    } else {
        f.schema_json = "{}"; // OpenAI: no schema means any JSON value
    }
    if (s.contains("strict") && !s["strict"].is_null()) {
        if (!s["strict"].is_boolean()) throw bad("json_schema.strict must be a boolean");
        f.strict = s["strict"].get<bool>();
    }
    return f;
}

} // namespace llmhost
