#include "format_parser.hpp"

namespace llmhost::toolcall::detail {

std::unique_ptr<FormatParser> make_hermes_parser(Sink &sink);
std::unique_ptr<FormatParser> make_llama3_parser(Sink &sink);
std::unique_ptr<FormatParser> make_mistral_parser(Sink &sink);

namespace {
// ToolFormat::none: everything is text.
class PlainParser final : public FormatParser {
public:
    using FormatParser::FormatParser;
    void feed(std::string_view s, bool) override { sink_.text(s); }
};
} // namespace

std::unique_ptr<FormatParser> make_format_parser(ToolFormat format, Sink &sink) {
    switch (format) {
    case ToolFormat::hermes: return make_hermes_parser(sink);
    case ToolFormat::llama3_json: return make_llama3_parser(sink);
    case ToolFormat::mistral: return make_mistral_parser(sink);
    case ToolFormat::none: break;
    }
    return std::make_unique<PlainParser>(sink);
}

bool FormatParser::text_until_marker(std::string_view buf, std::size_t &i, bool final,
                                     std::string_view marker, bool &after_call) {
    std::string_view rest = buf.substr(i);
    if (after_call) {
        const auto k = rest.find_first_not_of(" \t\r\n");
        if (k == std::string_view::npos) {
            if (final) i = buf.size();
            return false;
        }
        auto tail = rest.substr(k);
        if (tail.substr(0, marker.size()) == marker) {
            i += k;
            rest = tail;
        } else if (is_partial(tail, marker) && !final) {
            return false;
        }
        after_call = false;
    }
    auto hit = find_marker(rest, {marker});
    if (hit.marker < 0) {
        const std::size_t n = final ? rest.size() : hit.pos;
        sink_.text(rest.substr(0, n));
        i += n;
        return false;
    }
    sink_.text(rest.substr(0, hit.pos));
    i += hit.pos + marker.size();
    return true;
}

void CallRegion::begin(std::string_view prefix, CallObject::Shape shape) {
    object_ = CallObject(shape);
    raw_.assign(prefix);
    raw_shown_ = 0;
    name_sent_ = false;
    active_ = true;
}

CallObject::Status CallRegion::feed(char ch) {
    bool args_byte = false;
    auto status = object_.feed(ch, args_byte);
    if (status == CallObject::Status::error) return status;
    raw_ += ch;
    if (!name_sent_ && object_.name()) {
        name_sent_ = true;
        sink_.call_name(*object_.name());
    }
    if (args_byte) {
        sink_.call_args(std::string_view(&ch, 1));
        raw_shown_ = raw_.size();
    }
    return status;
}

void CallRegion::commit() {
    sink_.call_commit();
    active_ = false;
}

void CallRegion::abort() {
    const bool started = sink_.call_abort();
    sink_.text(std::string_view(raw_).substr(started ? raw_shown_ : 0));
    active_ = false;
}

} // namespace llmhost::toolcall::detail
