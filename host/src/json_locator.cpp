#include "json_locator.hpp"

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
