#include "sse_parser.hpp"

#include <llmhost/plugin.hpp>

namespace llmhost::openai {

void SseParser::feed(std::string_view bytes, const EventFn &on_event) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (skip_lf_) {
            skip_lf_ = false;
            if (c == '\n') { // second half of a \r\n split across (or within) chunks
                start = i + 1;
                continue;
            }
        }
        if (c != '\n' && c != '\r') continue;
        std::string_view piece = bytes.substr(start, i - start);
        if (line_.empty()) {
            on_line(piece, on_event);
        } else {
            line_.append(piece);
            std::string line = std::move(line_);
            line_.clear();
            on_line(line, on_event);
        }
        skip_lf_ = (c == '\r');
        start = i + 1;
    }
    line_.append(bytes.substr(start));
    if (line_.size() > kMaxLineBytes)
        throw llmh::Error(LLMH_ERR_NETWORK,
                          "the endpoint sent an event-stream line longer than 16 MiB",
                          "check that base_url points at an OpenAI-compatible server");
}

bool SseParser::has_partial_event() const { return !line_.empty() || has_data_ || !event_.empty(); }

void SseParser::on_line(std::string_view line, const EventFn &on_event) {
    if (line.empty()) { // blank line: dispatch
        if (has_data_ || !event_.empty()) {
            SseEvent ev{std::move(event_), std::move(data_)};
            event_.clear();
            data_.clear();
            has_data_ = false;
            on_event(ev);
        }
        return;
    }
    if (line.front() == ':') return; // comment / keep-alive
    std::string_view field = line, value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (has_data_) data_.push_back('\n');
        data_.append(value);
        has_data_ = true;
    } else if (field == "event") {
        event_.assign(value);
    }
    // id:, retry: and unknown fields (e.g. llama.cpp's old `error:`) are dropped, as the SDKs do.
}

} // namespace llmhost::openai
