// An incremental JSON value scanner: fed one byte at a time, it says when the value ends or
// where it stops being JSON. It validates the grammar (strings, escapes, numbers, literals,
// nesting) but builds nothing, so a tool call's arguments can stream while they are checked.
#pragma once

#include <cstdint>
#include <vector>

namespace llmhost::toolcall::detail {

class JsonScanner {
public:
    enum class Status {
        more,            ///< byte consumed, the value goes on
        done,            ///< byte consumed, it ended the value
        done_unconsumed, ///< the value (a number) ended before this byte, which is not part of it
        error,           ///< this byte cannot follow: not JSON
    };
    Status feed(char ch);
    void reset();

private:
    enum class St : std::uint8_t {
        value,        // leading whitespace, then a value
        value_or_end, // after '['
        key_or_end,   // after '{'
        key,          // after ',' in an object
        colon,
        string,
        escape,
        hex,
        number,
        literal,
        after_value,
        finished,
    };
    enum class Num : std::uint8_t { minus, zero, integer, dot, fraction, e, e_sign, exponent };

    Status begin_value(unsigned char c);
    Status close_value();
    bool number_accepts(unsigned char c);
    bool number_final() const;

    St st_ = St::value;
    Num num_ = Num::minus;
    bool key_ = false;              // the string being scanned is an object key
    int hex_left_ = 0;              // \uXXXX digits still expected
    const char *literal_ = nullptr; // the rest of true/false/null still expected
    std::vector<bool> stack_;       // true = object, false = array
};

} // namespace llmhost::toolcall::detail
