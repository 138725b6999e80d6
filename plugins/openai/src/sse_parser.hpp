// Incremental decoder for Server-Sent Events (text/event-stream), the way the OpenAI SDKs read
// them (see shared/reference/openai-wire.md §3): lines end at \n, \r\n or \r; a blank line ends an
// event; lines starting with ':' are comments; `field:value` drops one leading space of value;
// `data:` lines are joined with '\n'; `event:` names the event; other fields are ignored.
// Bytes may arrive split anywhere, including between '\r' and '\n' or inside a UTF-8 character.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace llmhost::openai {

struct SseEvent {
    std::string event; // empty when the event had no `event:` line
    std::string data;  // data lines joined with '\n'
};

class SseParser {
public:
    using EventFn = std::function<void(const SseEvent &)>;

    // Decodes `bytes` and calls on_event for every event they complete.
    void feed(std::string_view bytes, const EventFn &on_event);

    // True when bytes of an unfinished event are buffered: at end of stream this means the
    // connection dropped in the middle of an event (the SDKs silently discard it).
    bool has_partial_event() const;

    // Largest line accepted; a longer one is a protocol error (protects against a runaway peer).
    static constexpr std::size_t kMaxLineBytes = 16u << 20;

private:
    void on_line(std::string_view line, const EventFn &on_event);

    std::string line_;      // the current, unterminated line
    bool skip_lf_ = false;  // the previous byte was '\r': a following '\n' belongs to it
    std::string event_;
    std::string data_;
    bool has_data_ = false; // at least one data: line (possibly empty) in the current event
};

} // namespace llmhost::openai
