#include "json_scanner.hpp"

namespace llmhost::toolcall::detail {
namespace {
bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
} // namespace

void JsonScanner::reset() {
    st_ = St::value;
    stack_.clear();
}

JsonScanner::Status JsonScanner::close_value() {
    if (stack_.empty()) {
        st_ = St::finished;
        return Status::done;
    }
    st_ = St::after_value;
    return Status::more;
}

JsonScanner::Status JsonScanner::begin_value(unsigned char c) {
    switch (c) {
    case '{':
        stack_.push_back(true);
        st_ = St::key_or_end;
        return Status::more;
    case '[':
        stack_.push_back(false);
        st_ = St::value_or_end;
        return Status::more;
    case '"':
        key_ = false;
        st_ = St::string;
        return Status::more;
    case 't':
        literal_ = "rue";
        st_ = St::literal;
        return Status::more;
    case 'f':
        literal_ = "alse";
        st_ = St::literal;
        return Status::more;
    case 'n':
        literal_ = "ull";
        st_ = St::literal;
        return Status::more;
    case '-':
        num_ = Num::minus;
        st_ = St::number;
        return Status::more;
    default:
        if (!is_digit(c)) return Status::error;
        num_ = c == '0' ? Num::zero : Num::integer;
        st_ = St::number;
        return Status::more;
    }
}

bool JsonScanner::number_accepts(unsigned char c) {
    switch (num_) {
    case Num::minus:
        if (!is_digit(c)) return false;
        num_ = c == '0' ? Num::zero : Num::integer;
        return true;
    case Num::zero:
    case Num::integer:
        if (num_ == Num::integer && is_digit(c)) return true;
        if (c == '.') return num_ = Num::dot, true;
        if (c == 'e' || c == 'E') return num_ = Num::e, true;
        return false;
    case Num::dot: return is_digit(c) && (num_ = Num::fraction, true);
    case Num::fraction:
        if (is_digit(c)) return true;
        if (c == 'e' || c == 'E') return num_ = Num::e, true;
        return false;
    case Num::e:
        if (c == '+' || c == '-') return num_ = Num::e_sign, true;
        return is_digit(c) && (num_ = Num::exponent, true);
    case Num::e_sign: return is_digit(c) && (num_ = Num::exponent, true);
    case Num::exponent: return is_digit(c);
    }
    return false;
}

bool JsonScanner::number_final() const {
    return num_ == Num::zero || num_ == Num::integer || num_ == Num::fraction ||
           num_ == Num::exponent;
}

JsonScanner::Status JsonScanner::feed(char ch) {
    const auto c = static_cast<unsigned char>(ch);
    switch (st_) {
    case St::value: return is_ws(c) ? Status::more : begin_value(c);
    case St::value_or_end:
        if (is_ws(c)) return Status::more;
        if (c == ']') return stack_.pop_back(), close_value();
        return begin_value(c);
    case St::key_or_end:
        if (is_ws(c)) return Status::more;
        if (c == '}') return stack_.pop_back(), close_value();
        [[fallthrough]];
    case St::key:
        if (is_ws(c)) return Status::more;
        if (c != '"') return Status::error;
        key_ = true;
        st_ = St::string;
        return Status::more;
    case St::colon:
        if (is_ws(c)) return Status::more;
        if (c != ':') return Status::error;
        st_ = St::value;
        return Status::more;
    case St::string:
        if (c == '"') {
            if (!key_) return close_value();
            st_ = St::colon;
            return Status::more;
        }
        if (c == '\\') st_ = St::escape;
        return c < 0x20 ? Status::error : Status::more;
    case St::escape:
        if (c == 'u') {
            hex_left_ = 4;
            st_ = St::hex;
            return Status::more;
        }
        if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' &&
            c != 't')
            return Status::error;
        st_ = St::string;
        return Status::more;
    case St::hex:
        if (!is_hex(c)) return Status::error;
        if (--hex_left_ == 0) st_ = St::string;
        return Status::more;
    case St::literal:
        if (c != static_cast<unsigned char>(*literal_)) return Status::error;
        if (*++literal_ == '\0') return close_value();
        return Status::more;
    case St::number: {
        if (number_accepts(c)) return Status::more;
        if (!number_final()) return Status::error;
        // The number ended before this byte: close it, then give the byte to the container.
        if (close_value() == Status::done) return Status::done_unconsumed;
        Status s = feed(ch);
        return s == Status::done ? Status::done : s;
    }
    case St::after_value:
        if (is_ws(c)) return Status::more;
        if (c == ',') {
            st_ = stack_.back() ? St::key : St::value;
            return Status::more;
        }
        if ((c == '}' && stack_.back()) || (c == ']' && !stack_.back()))
            return stack_.pop_back(), close_value();
        return Status::error;
    case St::finished: return Status::error;
    }
    return Status::error;
}

} // namespace llmhost::toolcall::detail
