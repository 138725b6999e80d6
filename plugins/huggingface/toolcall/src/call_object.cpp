#include "call_object.hpp"

#include <nlohmann/json.hpp>

namespace llmhost::toolcall::detail {
namespace {
bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A JSON string's body as written → its value; nullopt when the escapes are invalid.
std::optional<std::string> decode_string(const std::string &body) {
    try {
        auto v = nlohmann::json::parse("\"" + body + "\"");
        return v.get<std::string>();
    } catch (const nlohmann::json::exception &) {
        return std::nullopt;
    }
}
} // namespace

bool CallObject::valid() const {
    if (st_ != St::finished) return false;
    return shape_ == Shape::args_only || (name_ && !name_->empty());
}

CallObject::Status CallObject::begin_value(char ch, bool &args_byte) {
    if (field_ == Field::name) {
        if (ch != '"' || name_) return Status::error; // not a string, or a second name
        raw_.clear();
        escape_ = false;
        st_ = St::name_string;
        return Status::more;
    }
    if (field_ == Field::args) {
        if (ch != '{' || have_args_) return Status::error; // arguments must be one object
        have_args_ = true;
        st_ = St::args;
    } else {
        st_ = St::skip;
    }
    scan_.reset();
    args_byte = field_ == Field::args;
    auto s = scan_.feed(ch);
    return s == JsonScanner::Status::error ? Status::error : Status::more;
}

CallObject::Status CallObject::feed(char ch, bool &args_byte) {
    args_byte = false;
    switch (st_) {
    case St::open:
        if (is_ws(ch)) return Status::more;
        if (ch != '{') return Status::error;
        if (shape_ == Shape::args_only) {
            have_args_ = true;
            st_ = St::args;
            scan_.reset();
            args_byte = true;
            scan_.feed(ch);
            return Status::more;
        }
        st_ = St::key_or_end;
        return Status::more;
    case St::key_or_end:
    case St::key:
        if (is_ws(ch)) return Status::more;
        if (ch == '}' && st_ == St::key_or_end) {
            st_ = St::finished;
            return Status::done;
        }
        if (ch != '"') return Status::error;
        raw_.clear();
        escape_ = false;
        st_ = St::key_string;
        return Status::more;
    case St::key_string:
    case St::name_string: {
        if (static_cast<unsigned char>(ch) < 0x20) return Status::error;
        if (escape_ || ch != '"') {
            escape_ = !escape_ && ch == '\\';
            raw_ += ch;
            return Status::more;
        }
        auto text = decode_string(raw_);
        if (!text) return Status::error;
        if (st_ == St::name_string) {
            if (text->empty()) return Status::error; // a call needs a name
            name_ = std::move(*text);
            st_ = St::after_value;
            return Status::more;
        }
        field_ = *text == "name"                                   ? Field::name
                 : (*text == "arguments" || *text == "parameters") ? Field::args
                                                                   : Field::other;
        st_ = St::colon;
        return Status::more;
    }
    case St::colon:
        if (is_ws(ch)) return Status::more;
        if (ch != ':') return Status::error;
        st_ = St::value;
        return Status::more;
    case St::value:
        if (is_ws(ch)) return Status::more;
        return begin_value(ch, args_byte);
    case St::args:
    case St::skip: {
        const bool args = st_ == St::args;
        auto s = scan_.feed(ch);
        if (s == JsonScanner::Status::error) return Status::error;
        if (s == JsonScanner::Status::more) {
            args_byte = args;
            return Status::more;
        }
        if (s == JsonScanner::Status::done) {
            args_byte = args;
            if (shape_ == Shape::args_only) {
                st_ = St::finished;
                return Status::done;
            }
            st_ = St::after_value;
            return Status::more;
        }
        st_ = St::after_value; // a number ended before this byte: it belongs to the object
        [[fallthrough]];
    }
    case St::after_value:
        if (is_ws(ch)) return Status::more;
        if (ch == ',') {
            st_ = St::key;
            return Status::more;
        }
        if (ch == '}') {
            st_ = St::finished;
            return Status::done;
        }
        return Status::error;
    case St::finished: return Status::error;
    }
    return Status::error;
}

} // namespace llmhost::toolcall::detail
