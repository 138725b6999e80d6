// Hermes / Qwen2.5 / Qwen3: text, then calls as
//   <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>
// (as vLLM's hermes_tool_parser and Qwen3's chat template write them). Text may come before,
// between and after the calls; whitespace between or after calls is dropped.
#include "format_parser.hpp"

namespace llmhost::toolcall::detail {
namespace {

constexpr std::string_view open_tag = "<tool_call>";
constexpr std::string_view close_tag = "</tool_call>";

class HermesParser final : public FormatParser {
public:
    explicit HermesParser(Sink &sink) : FormatParser(sink), call_(sink) {}

    void feed(std::string_view s, bool final) override {
        buf_.append(s);
        std::size_t i = 0;
        while (i < buf_.size()) {
            if (st_ == St::text) {
                if (!text(i, final)) break;
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
                    if (call_.valid()) {
                        st_ = St::close;
                        matched_ = 0;
                    } else {
                        fail();
                    }
                }
                break;
            }
            case St::close:
                if (matched_ == 0 && is_json_ws(c)) {
                    call_.raw(std::string_view(&c, 1));
                    ++i;
                } else if (c == close_tag[matched_]) {
                    call_.raw(std::string_view(&c, 1));
                    ++i;
                    if (++matched_ == close_tag.size()) {
                        call_.commit();
                        st_ = St::text;
                        after_call_ = true;
                    }
                } else {
                    fail();
                }
                break;
            case St::text: break;
            }
        }
        buf_.erase(0, i);
        if (final && st_ != St::text) {
            fail(); // unterminated: the call's text goes out as text
        }
    }

private:
    enum class St { text, pre_object, object, close };

    // Text from buf_[i]: emits what cannot be a marker, opens a call on <tool_call>. Returns
    // false when the rest must wait for more input.
    bool text(std::size_t &i, bool final) {
        if (!text_until_marker(buf_, i, final, open_tag, after_call_)) return false;
        call_.begin(open_tag);
        st_ = St::pre_object;
        return true;
    }

    // The call is malformed: its raw text is text; reading resumes at the byte that broke it.
    void fail() {
        call_.abort();
        st_ = St::text;
        after_call_ = false;
    }

    CallRegion call_;
    std::string buf_;
    St st_ = St::text;
    std::size_t matched_ = 0; // bytes of </tool_call> seen
    bool after_call_ = false;
};

} // namespace

std::unique_ptr<FormatParser> make_hermes_parser(Sink &sink) {
    return std::make_unique<HermesParser>(sink);
}

} // namespace llmhost::toolcall::detail
