// Where the format parsers send what they found. The sink turns it into events: it keeps text
// from being cut inside a UTF-8 character, numbers the calls, gives them ids, and applies the
// ArgsStreaming policy (when a call's Start and arguments may leave).
#pragma once

#include "llmhost/toolcall/toolcall.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace llmhost::toolcall::detail {

class Sink {
public:
    Sink(EventCallback on_event, ArgsStreaming mode, IdGenerator make_id);

    void text(std::string_view s) { put(Chan::text, s); }
    void reasoning(std::string_view s) { put(Chan::reasoning, s); }

    // The current call candidate: nothing is visible until the policy allows it.
    void call_name(std::string name);
    void call_args(std::string_view bytes);
    /// The call is complete and closed: Start (if not yet), its arguments ("{}" when the model
    /// wrote none), End.
    void call_commit();
    /// The candidate is not a call after all. Returns true when its Start was already sent (the
    /// call then ends with complete = false); false when nothing of it was visible.
    bool call_abort();

    /// End of a feed(): emit what is pending, all of it when `final`, else up to the last whole
    /// UTF-8 character.
    void flush(bool final);
    int calls() const { return next_index_; }

private:
    enum class Chan { none, text, reasoning, args };
    void put(Chan chan, std::string_view s);
    void flush_all() { flush(true); }
    void start_call();

    EventCallback on_event_;
    ArgsStreaming mode_;
    IdGenerator make_id_;
    Chan chan_ = Chan::none;
    std::string pending_;
    int next_index_ = 0;
    // Candidate call.
    std::optional<std::string> name_;
    std::string args_; // not yet visible
    bool started_ = false;
};

/// Where text may be emitted up to while looking for `markers` in `s`: the first full marker
/// (index into markers, position), or marker = -1 and the position of the longest suffix that
/// could still become a marker (held back).
struct MarkerHit {
    int marker = -1;
    std::size_t pos = 0;
};
MarkerHit find_marker(std::string_view s, std::initializer_list<std::string_view> markers);
/// `s` is a proper, non-empty prefix of `marker`.
bool is_partial(std::string_view s, std::string_view marker);
bool is_json_ws(char c);

} // namespace llmhost::toolcall::detail
