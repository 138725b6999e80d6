#include "json_locator.hpp"

#include <algorithm>
#include <vector>

namespace llmhost::detail {

LineColumn line_column(std::string_view text, size_t offset) {
    LineColumn lc;
    if (offset > text.size()) offset = text.size();
    size_t line_start = 0;
    for (size_t i = 0; i < offset; ++i)
        if (text[i] == '\n') {
            ++lc.line;
            line_start = i + 1;
        }
    lc.column = static_cast<int>(offset - line_start) + 1;
    return lc;
}

std::string json_pointer_escape(std::string_view token) {
    std::string out;
    for (char c : token) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

namespace {

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool structural(char c) {
    return c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',';
}

// The last character before `pos` that is not whitespace ('\0' if none).
char previous_non_space(std::string_view text, size_t pos) {
    while (pos > 0 && json_space(text[pos - 1])) --pos;
    return pos > 0 ? text[pos - 1] : '\0';
}

char next_non_space(std::string_view text, size_t pos) {
    while (pos < text.size() && json_space(text[pos])) ++pos;
    return pos < text.size() ? text[pos] : '\0';
}

// One displayed character per cell (a key's UTF-8 sequence stays whole), so the caret lines up.
void push_text(std::vector<std::string> &cells, std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80 && !cells.empty())
            cells.back() += s[i];
        else
            cells.emplace_back(1, s[i]);
    }
}

} // namespace

std::string redacted_excerpt(std::string_view text, size_t offset) {
    offset = std::min(offset, text.size());
    size_t begin = text.rfind('\n', offset == 0 ? 0 : offset - 1);
    begin = (begin == std::string_view::npos || (offset == 0 && text.empty())) ? 0 : begin + 1;
    if (offset < begin) begin = offset;
    size_t end = text.find('\n', offset);
    if (end == std::string_view::npos) end = text.size();
    if (end > begin && text[end - 1] == '\r') --end;

    std::vector<std::string> cells;
    size_t caret = std::string::npos;
    for (size_t i = begin; i < end;) {
        if (caret == std::string::npos && i >= offset) caret = cells.size();
        char c = text[i];
        if (json_space(c) || structural(c)) {
            cells.emplace_back(1, c == '\t' ? ' ' : c);
            ++i;
            continue;
        }
        size_t tok_end = i + 1, first_cell = cells.size();
        if (c == '"') {
            while (tok_end < end && text[tok_end] != '"') tok_end += text[tok_end] == '\\' ? 2 : 1;
            bool closed = tok_end < end;
            tok_end = std::min(tok_end + (closed ? 1 : 0), end);
            bool key = closed && tok_end <= offset && next_non_space(text, tok_end) == ':' &&
                       (previous_non_space(text, i) == '{' || previous_non_space(text, i) == ',');
            if (key)
                push_text(cells, text.substr(i, tok_end - i));
            else
                push_text(cells, closed ? "\"…\"" : "\"…");
        } else {
            while (tok_end < end && !json_space(text[tok_end]) && !structural(text[tok_end]) &&
                   text[tok_end] != '"')
                ++tok_end;
            std::string_view word = text.substr(i, tok_end - i);
            push_text(cells, word == "true" || word == "false" || word == "null" ? word : "…");
        }
        if (caret == std::string::npos && tok_end > offset) caret = first_cell;
        i = tok_end;
    }
    if (caret == std::string::npos) caret = cells.size();
    // A minified file is one long line: keep a window around the caret.
    constexpr size_t kBefore = 60, kAfter = 40;
    size_t from = caret > kBefore ? caret - kBefore : 0;
    size_t to = std::min(cells.size(), caret + kAfter);
    std::string line = from > 0 ? "…" : "", marker(from > 0 ? 1 : 0, ' ');
    for (size_t k = from; k < to; ++k) line += cells[k];
    if (to < cells.size()) line += "…";
    marker.append(caret - from, ' ');
    const std::string number = std::to_string(line_column(text, offset).line);
    return "  " + number + " | " + line + "\n  " + std::string(number.size(), ' ') + " | " +
           marker + "^";
}

JsonLocator::JsonLocator(std::string_view text) : text_(text) { scan_value(skip_ws(0), ""); }

size_t JsonLocator::skip_ws(size_t pos) const {
    while (pos < text_.size() &&
           (text_[pos] == ' ' || text_[pos] == '\t' || text_[pos] == '\n' || text_[pos] == '\r'))
        ++pos;
    return pos;
}

// Returns the offset just past the closing quote; decodes simple escapes into *decoded.
size_t JsonLocator::scan_string(size_t pos, std::string *decoded) const {
    ++pos; // opening quote
    while (pos < text_.size() && text_[pos] != '"') {
        if (text_[pos] == '\\' && pos + 1 < text_.size()) {
            char e = text_[pos + 1];
            if (decoded) {
                switch (e) {
                case 'n': *decoded += '\n'; break;
                case 't': *decoded += '\t'; break;
                case 'r': *decoded += '\r'; break;
                case 'b': *decoded += '\b'; break;
                case 'f': *decoded += '\f'; break;
                case 'u': *decoded += '?'; break; // keys with \u escapes: approximate position only
                default: *decoded += e;
                }
            }
            pos += (e == 'u') ? 6 : 2;
            continue;
        }
        if (decoded) *decoded += text_[pos];
        ++pos;
    }
    return pos + 1;
}

size_t JsonLocator::scan_value(size_t pos, const std::string &pointer) {
    if (pos >= text_.size()) return pos;
    values_.emplace(pointer, pos);
    char c = text_[pos];
    if (c == '{') {
        pos = skip_ws(pos + 1);
        while (pos < text_.size() && text_[pos] != '}') {
            std::string key;
            size_t key_pos = pos;
            pos = skip_ws(scan_string(pos, &key));
            const std::string child = pointer + "/" + json_pointer_escape(key);
            keys_.emplace(child, key_pos);
            pos = skip_ws(pos + 1); // ':'
            pos = skip_ws(scan_value(pos, child));
            if (pos < text_.size() && text_[pos] == ',') pos = skip_ws(pos + 1);
        }
        return pos + 1;
    }
    if (c == '[') {
        pos = skip_ws(pos + 1);
        for (size_t i = 0; pos < text_.size() && text_[pos] != ']'; ++i) {
            pos = skip_ws(scan_value(pos, pointer + "/" + std::to_string(i)));
            if (pos < text_.size() && text_[pos] == ',') pos = skip_ws(pos + 1);
        }
        return pos + 1;
    }
    if (c == '"') return scan_string(pos, nullptr);
    while (pos < text_.size() && text_[pos] != ',' && text_[pos] != '}' && text_[pos] != ']' &&
           text_[pos] != ' ' && text_[pos] != '\n' && text_[pos] != '\r' && text_[pos] != '\t')
        ++pos;
    return pos;
}

size_t JsonLocator::closest(const std::map<std::string, size_t> &m, std::string pointer) const {
    for (;;) {
        if (auto it = m.find(pointer); it != m.end()) return it->second;
        if (auto it = values_.find(pointer); it != values_.end()) return it->second;
        if (pointer.empty()) return 0;
        pointer.erase(pointer.rfind('/'));
    }
}

size_t JsonLocator::key_offset(const std::string &pointer) const { return closest(keys_, pointer); }
size_t JsonLocator::value_offset(const std::string &pointer) const {
    return closest(values_, pointer);
}

} // namespace llmhost::detail
