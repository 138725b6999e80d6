// Llama 3.1 / 3.2 JSON tool calls (the model card's "JSON based tool calling", vLLM's
// llama3_json parser): the *whole* message is the call(s),
//   [<|python_tag|>]{"name": "f", "parameters": {...}}[; {"name": ...}]...
// ("arguments" is accepted for "parameters"; calls may be separated by ';' or whitespace).
// As in vLLM's streaming parser, a message that does not start with '{' or <|python_tag|>
// (leading whitespace aside) is text from its first byte; text after the calls is text too.
#include "format_parser.hpp"

namespace llmhost::toolcall::detail {
namespace {

constexpr std::string_view python_tag = "<|python_tag|>";

class Llama3Parser final : public FormatParser {
public:
    explicit Llama3Parser(Sink &sink) : FormatParser(sink), call_(sink) {}

    void feed(std::string_view s, bool final) override {
        buf_.append(s);
        std::size_t i = 0;
        while (i < buf_.size()) {
            if (st_ == St::plain) {
                sink_.text(std::string_view(buf_).substr(i));
                i = buf_.size();
                break;
            }
            if (st_ == St::lead) {
                if (!lead(i, final)) break;
                continue;
            }
            const char c = buf_[i];
            switch (st_) {
            case St::pre_object:
                if (is_json_ws(c)) {
                    call_.raw(std::string_view(&c, 1));
                    ++i;
                } else if (c == '{') {
                    st_ = St::object;
                } else {
                    fail();
                }
                break;
            case St::object: {
                auto status = call_.feed(c);
                if (status == CallObject::Status::error) {
                    fail();
                    break;
                }
                ++i;
                if (status == CallObject::Status::done) {
                    if (!call_.valid()) {
                        fail();
                        break;
                    }
                    call_.commit(); // the object's end is unambiguous
                    st_ = St::between;
                }
                break;
            }
            case St::between:
                // After a call: separators, another call, or the end. Anything else is text.
                if (is_json_ws(c) || c == ';') {
                    ++i;
                } else if (c == '{') {
                    call_.begin({});
                    st_ = St::object;
                } else {
                    st_ = St::plain;
                }
                break;
            case St::lead:
            case St::plain: break;
            }
        }
        buf_.erase(0, i);
        if (final && call_.active()) fail(); // unfinished call: text
    }

private:
    enum class St { lead, pre_object, object, between, plain };

    // The start of the message decides: a call or text. Returns false to wait for more.
    bool lead(std::size_t &i, bool final) {
        std::string_view rest = std::string_view(buf_).substr(i);
        const auto k = rest.find_first_not_of(" \t\r\n");
        if (k == std::string_view::npos && !final) return false;
        auto tail = k == std::string_view::npos ? std::string_view{} : rest.substr(k);
        if (tail.substr(0, python_tag.size()) == python_tag) {
            call_.begin(rest.substr(0, k + python_tag.size()));
            i += k + python_tag.size();
            st_ = St::pre_object;
        } else if (!tail.empty() && tail[0] == '{') {
            call_.begin(rest.substr(0, k));
            i += k;
            st_ = St::object;
        } else if (is_partial(tail, python_tag) && !final) {
            return false;
        } else {
            st_ = St::plain;
        }
        return true;
    }

    // Malformed: this call's text and everything after it are text.
    void fail() {
        call_.abort();
        st_ = St::plain;
    }

    CallRegion call_;
    std::string buf_;
    St st_ = St::lead;
};

} // namespace

std::unique_ptr<FormatParser> make_llama3_parser(Sink &sink) {
    return std::make_unique<Llama3Parser>(sink);
}

} // namespace llmhost::toolcall::detail
