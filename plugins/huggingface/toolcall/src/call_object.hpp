// One tool call's JSON object, read byte by byte: {"name": "...", "arguments": {...}} (other
// keys are skipped). It says which bytes are the arguments object, so they can stream verbatim,
// and when the name is known, so the call can start before its arguments end.
#pragma once

#include "json_scanner.hpp"

#include <optional>
#include <string>

namespace llmhost::toolcall::detail {

class CallObject {
public:
    enum class Shape {
        named,     ///< {"name": .., "arguments"|"parameters": {..}}
        args_only, ///< the object is the arguments (Mistral's name[ARGS]{..})
    };
    enum class Status { more, done, error };

    explicit CallObject(Shape shape = Shape::named) : shape_(shape) {}
    /// Consumes `ch`; `args_byte` is set when it belongs to the arguments object text.
    Status feed(char ch, bool &args_byte);
    /// The decoded name once its string has closed (named shape).
    const std::optional<std::string> &name() const { return name_; }
    /// After done: the object had a non-empty name (named shape) and arguments, if any, were an
    /// object.
    bool valid() const;

private:
    enum class St {
        open,
        key_or_end,
        key,
        key_string,
        colon,
        value,
        name_string,
        args,
        skip,
        after_value,
        finished
    };
    enum class Field { name, args, other };
    Status begin_value(char ch, bool &args_byte);

    Shape shape_;
    St st_ = St::open;
    Field field_ = Field::other;
    JsonScanner scan_;
    std::string raw_; // key or name string as written, escapes included
    bool escape_ = false;
    std::optional<std::string> name_;
    bool have_args_ = false;
};

} // namespace llmhost::toolcall::detail
