// Reading tokenizer.json fields with errors that say where in the json the problem is
// (a JSON pointer such as /pre_tokenizer/pretokenizers/1/pattern). The file name is added by the
// loader when it rethrows.
#pragma once

#include "llmhost/tokenizer/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace llmhost::tok::json_util {

using nlohmann::json;

[[noreturn]] inline void fail(const std::string &where, const std::string &what) {
    throw TokenizerError(where + ": " + what);
}

inline const json &member(const json &j, const std::string &where, const char *key) {
    if (!j.is_object()) fail(where, "expected an object");
    auto it = j.find(key);
    if (it == j.end()) fail(where + "/" + key, "missing");
    return *it;
}

inline std::string get_string(const json &j, const std::string &where, const char *key) {
    const json &v = member(j, where, key);
    if (!v.is_string()) fail(where + "/" + key, "expected a string");
    return v.get<std::string>();
}

// Missing or null -> fallback.
inline bool get_bool(const json &j, const std::string &where, const char *key, bool fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(where + "/" + key, "expected true or false");
    return it->get<bool>();
}

inline std::string type_of(const json &j, const std::string &where) {
    return get_string(j, where, "type");
}

// {"String": "x"} or {"Regex": "x"}: returns the regex source (a String is escaped).
std::string pattern_source(const json &j, const std::string &where);

} // namespace llmhost::tok::json_util
