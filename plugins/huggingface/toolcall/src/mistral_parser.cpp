// Mistral: text, then [TOOL_CALLS] and either
//   - a JSON array (tokenizer v3, Mistral-7B-Instruct-v0.3, vLLM's pre-v11 path):
//       [TOOL_CALLS][{"name": "f", "arguments": {...}}, {...}]
//   - or, per call, the name outside the JSON (v11+: Mistral Small 3.x, Magistral, Devstral):
//       [TOOL_CALLS]f[ARGS]{...}[TOOL_CALLS]g[ARGS]{...}
//     also with [CALL_ID]xxxxxxxxx before [ARGS] (v11; the id is not used) or no [ARGS] at all
//     (vLLM's `[TOOL_CALLS]add{"a": 3.5}`).
#include "format_parser.hpp"

namespace llmhost::toolcall::detail {
namespace {

constexpr std::string_view marker = "[TOOL_CALLS]";
constexpr std::string_view args_tag = "[ARGS]";
constexpr std::string_view call_id_tag = "[CALL_ID]";
constexpr std::size_t max_head = 256; // name + [CALL_ID]id + [ARGS]

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

// "name", "name[ARGS]" or "name[CALL_ID]id[ARGS]", surrounding whitespace allowed → the name.
std::string parse_head(std::string_view head) {
    auto trim = [](std::string_view v) {
        const auto b = v.find_first_not_of(" \t\r\n");
        if (b == std::string_view::npos) return std::string_view{};
        return v.substr(b, v.find_last_not_of(" \t\r\n") - b + 1);
    };
    head = trim(head);
    if (head.size() >= args_tag.size() && head.substr(head.size() - args_tag.size()) == args_tag)
        head = trim(head.substr(0, head.size() - args_tag.size()));
    if (auto p = head.find(call_id_tag); p != std::string_view::npos) {
        for (char c : head.substr(p + call_id_tag.size()))
            if (!is_name_char(c)) return {};
        head = trim(head.substr(0, p));
    }
    for (char c : head)
        if (!is_name_char(c)) return {};
    return std::string(head);
}

class MistralParser final : public FormatParser {
public:
    explicit MistralParser(Sink &sink) : FormatParser(sink), call_(sink) {}

    void feed(std::string_view s, bool final) override {
        buf_.append(s);
        std::size_t i = 0;
        while (i < buf_.size()) {
            if (st_ == St::text) {
                if (!text(i, final)) break;
                continue;
            }
            if (!step(buf_[i], i)) fail();
        }
        buf_.erase(0, i);
        if (final && call_.active()) fail(); // unfinished: text
    }

private:
    enum class St { text, decide, head, array_item, object, array_next };

    // One byte in a call state; false = malformed at this byte (not consumed).
    bool step(char c, std::size_t &i) {
        switch (st_) {
        case St::decide: // after [TOOL_CALLS]: '[' = array form, else a name
            if (is_json_ws(c)) break;
            if (c == '[') {
                array_ = true;
                st_ = St::array_item;
                break;
            }
            array_ = false;
            st_ = St::head;
            head_.clear();
            return step(c, i);
        case St::head:
            if (c == '{') {
                auto name = parse_head(head_);
                if (name.empty()) return false;
                call_.reshape(CallObject::Shape::args_only);
                sink_.call_name(std::move(name));
                st_ = St::object;
                return step(c, i);
            }
            if (!(is_name_char(c) || is_json_ws(c) || c == '[' || c == ']') ||
                head_.size() >= max_head)
                return false;
            head_ += c;
            break;
        case St::array_item:
            if (is_json_ws(c)) break;
            if (c != '{') return false;
            st_ = St::object;
            return step(c, i);
        case St::object: {
            auto status = call_.feed(c);
            if (status == CallObject::Status::error) return false;
            ++i;
            if (status == CallObject::Status::done) {
                if (!call_.valid()) return false;
                call_.commit();
                if (array_) {
                    call_.begin({});
                    st_ = St::array_next;
                } else {
                    st_ = St::text;
                    after_call_ = true;
                }
            }
            return true;
        }
        case St::array_next:
            if (c == ',') {
                st_ = St::array_item;
            } else if (c == ']') {
                call_.raw(std::string_view(&c, 1));
                ++i;
                call_.discard(); // the array closed: no call, no text
                st_ = St::text;
                after_call_ = true;
                return true;
            } else if (!is_json_ws(c)) {
                return false;
            }
            break;
        case St::text: break;
        }
        call_.raw(std::string_view(&c, 1));
        ++i;
        return true;
    }

    bool text(std::size_t &i, bool final) {
        if (!text_until_marker(buf_, i, final, marker, after_call_)) return false;
        call_.begin(marker);
        st_ = St::decide;
        return true;
    }

    void fail() {
        call_.abort();
        st_ = St::text;
        after_call_ = false;
    }

    CallRegion call_;
    std::string buf_;
    std::string head_;
    St st_ = St::text;
    bool array_ = false;
    bool after_call_ = false;
};

} // namespace

std::unique_ptr<FormatParser> make_mistral_parser(Sink &sink) {
    return std::make_unique<MistralParser>(sink);
}

} // namespace llmhost::toolcall::detail
