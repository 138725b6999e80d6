// Positions inside a JSON text. nlohmann::json keeps no source positions, so configuration
// errors found after parsing (unknown key, wrong type, unset ${VAR}) are located by re-scanning
// the (already valid) text once and recording where every key and value starts.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace llmhost::detail {

struct LineColumn {
    int line = 1;   // 1-based
    int column = 1; // 1-based, in bytes
};

// Line and column of a 0-based byte offset.
LineColumn line_column(std::string_view text, size_t offset);

class JsonLocator {
public:
    // `text` must be valid JSON (parse it first).
    explicit JsonLocator(std::string_view text);
    // Offset of the key of the member at `pointer` ("/providers/hf/plugin"), else of its value,
    // else of the closest enclosing value that was found.
    size_t key_offset(const std::string &pointer) const;
    size_t value_offset(const std::string &pointer) const;

private:
    size_t scan_value(size_t pos, const std::string &pointer);
    size_t scan_string(size_t pos, std::string *decoded) const;
    size_t skip_ws(size_t pos) const;
    size_t closest(const std::map<std::string, size_t> &m, std::string pointer) const;

    std::string_view text_;
    std::map<std::string, size_t> keys_, values_;
};

// The line of `text` holding `offset` and a caret line under it, for a syntax error: every string
// literal and bare word is shown as "…" (it may be a secret); only keys that were fully read before
// the error (a string between '{' or ',' and ':') and JSON's punctuation are shown as written.
// Long lines are cut around the caret. Two lines, each starting with two blanks, no final '\n'.
std::string redacted_excerpt(std::string_view text, size_t offset);

// "a/b" -> "a~1b" (RFC 6901)
std::string json_pointer_escape(std::string_view token);

} // namespace llmhost::detail
