// StreamParser: the reasoning layer (a <think>...</think> block at the start of the output, as
// vLLM's qwen3 and deepseek_r1 reasoning parsers read it), then the family's tool-call parser
// on the content that follows.
#include "format_parser.hpp"
#include "sink.hpp"

namespace llmhost::toolcall {

using namespace detail;

namespace {
constexpr std::string_view think_open = "<think>";
constexpr std::string_view think_close = "</think>";
} // namespace

struct StreamParser::Impl {
    enum class St { lead, inside, content };

    Impl(ParserOptions o, EventCallback cb)
        : sink(std::move(cb), o.args, std::move(o.make_id)),
          tools(make_format_parser(o.tools, sink)) {
        if (!o.reasoning)
            st = St::content;
        else if (o.starts_in_reasoning)
            st = St::inside;
    }

    void run(bool final) {
        for (;;) {
            if (st == St::content) {
                tools->feed(buf, final);
                buf.clear();
                break;
            }
            if (st == St::lead ? !lead(final) : !inside(final)) break;
        }
        sink.flush(final);
    }

    // Start of output: leading whitespace then <think> opens reasoning; anything else is content.
    bool lead(bool final) {
        const auto k = buf.find_first_not_of(" \t\r\n");
        if (k == std::string::npos && !final) return false;
        std::string_view tail = k == std::string::npos ? "" : std::string_view(buf).substr(k);
        if (tail.substr(0, think_open.size()) == think_open) {
            buf.erase(0, k + think_open.size());
            st = St::inside;
            at_start = false;
        } else if (is_partial(tail, think_open) && !final) {
            return false;
        } else {
            st = St::content;
        }
        return true;
    }

    // Reasoning until </think>. A <think> the model repeats at the very start (its template
    // already opened one) is dropped, as vLLM does. Unclosed at the end: all reasoning.
    bool inside(bool final) {
        if (at_start) {
            if (is_partial(buf, think_open) && !final) return false;
            if (buf.compare(0, think_open.size(), think_open) == 0) buf.erase(0, think_open.size());
            if (!buf.empty() || final) at_start = false;
        }
        auto hit = find_marker(buf, {think_close});
        if (hit.marker < 0) {
            const std::size_t n = final ? buf.size() : hit.pos;
            sink.reasoning(std::string_view(buf).substr(0, n));
            buf.erase(0, n);
            return false;
        }
        sink.reasoning(std::string_view(buf).substr(0, hit.pos));
        buf.erase(0, hit.pos + think_close.size());
        st = St::content;
        return true;
    }

    Sink sink;
    std::unique_ptr<FormatParser> tools;
    std::string buf; // not yet given to the reasoning or tool layer
    St st = St::lead;
    bool at_start = true;
    bool finished = false;
};

StreamParser::StreamParser(ParserOptions options, EventCallback on_event)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(on_event))) {}

StreamParser::~StreamParser() = default;

void StreamParser::feed(std::string_view piece) {
    if (impl_->finished || piece.empty()) return;
    impl_->buf.append(piece);
    impl_->run(false);
}

void StreamParser::finish() {
    if (impl_->finished) return;
    impl_->finished = true;
    impl_->run(true);
}

int StreamParser::tool_calls() const { return impl_->sink.calls(); }

const char *to_string(ToolFormat f) {
    switch (f) {
    case ToolFormat::none: return "none";
    case ToolFormat::hermes: return "hermes";
    case ToolFormat::llama3_json: return "llama3_json";
    case ToolFormat::mistral: return "mistral";
    }
    return "?";
}

} // namespace llmhost::toolcall
