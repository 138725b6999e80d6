// The tool-call layer: one parser per family, fed the content text (reasoning already split
// off), reporting to a Sink. Shared here: the raw bytes of the call being read, so that a call
// that turns out malformed can be given back as text.
#pragma once

#include "call_object.hpp"
#include "sink.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace llmhost::toolcall::detail {

class FormatParser {
public:
    explicit FormatParser(Sink &sink) : sink_(sink) {}
    virtual ~FormatParser() = default;
    /// Appends `s` and emits what can be decided; `final` = no more input will come.
    virtual void feed(std::string_view s, bool final) = 0;

protected:
    /// Text from buf[i] up to the call marker: emits what cannot be the start of `marker`. Right
    /// after a call (`after_call`), whitespace is dropped when another marker or the end follows.
    /// Returns true with `i` past the marker when one starts a call; false when the rest of buf
    /// must wait for more input.
    bool text_until_marker(std::string_view buf, std::size_t &i, bool final,
                           std::string_view marker, bool &after_call);

    Sink &sink_;
};

std::unique_ptr<FormatParser> make_format_parser(ToolFormat format, Sink &sink);

/// The call being read: its raw text (from its opening marker) and its object parser.
class CallRegion {
public:
    explicit CallRegion(Sink &sink) : sink_(sink) {}
    /// A new candidate whose raw text starts with `prefix` (the marker, say).
    void begin(std::string_view prefix, CallObject::Shape shape = CallObject::Shape::named);
    /// Bytes around the object (whitespace, closing tag): kept for the fallback only.
    void raw(std::string_view s) { raw_.append(s); }
    /// One byte of the object; on error the byte is not kept (it is re-read as text).
    CallObject::Status feed(char ch);
    bool valid() const { return object_.valid(); }
    /// Complete and closed.
    void commit();
    /// Malformed or unfinished: what was not already shown as the call becomes text.
    void abort();
    bool active() const { return active_; }
    /// The object that follows has another shape (Mistral: the name came before it).
    void reshape(CallObject::Shape shape) { object_ = CallObject(shape); }
    /// The region ended without a call (Mistral's closing ']'): nothing to show.
    void discard() { active_ = false; }

private:
    Sink &sink_;
    CallObject object_;
    std::string raw_;
    std::size_t raw_shown_ = 0; // raw_[0, raw_shown_) went out as the call's arguments
    bool name_sent_ = false;
    bool active_ = false;
};

} // namespace llmhost::toolcall::detail
