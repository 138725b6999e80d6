// UTF-8 helpers with JavaScript's notion of whitespace and case, because @huggingface/jinja (our
// parity reference) trims and compares with JS semantics (String.prototype.trim, /\s/).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::tmpl::detail {

// Decodes one code point at `i`; sets `len` to its byte length. Invalid bytes decode as
// U+FFFD with length 1, so a scan always makes progress.
uint32_t decode_utf8(std::string_view s, size_t i, size_t& len);
void append_utf8(std::string& out, uint32_t cp);
std::vector<uint32_t> to_code_points(std::string_view s);
std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t code_point_count(std::string_view s);

// JS /\s/ and String.prototype.trim whitespace (ASCII space/controls, NBSP, BOM, Unicode Zs,
// line and paragraph separators).
bool is_js_space(uint32_t cp);
// Byte length of the JS whitespace code point starting at `i` (0 if none).
size_t js_space_at(std::string_view s, size_t i);
std::string js_trim(std::string_view s);
std::string js_trim_start(std::string_view s);
std::string js_trim_end(std::string_view s);

// Unicode simple case mapping (toUpperCase/toLowerCase without the few one-to-many rules).
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
uint32_t upper_cp(uint32_t cp);

}  // namespace llmhost::tmpl::detail
