#include "sink.hpp"

#include <random>

namespace llmhost::toolcall {

IdGenerator counter_ids(std::string prefix) {
    return [prefix = std::move(prefix), n = 0]() mutable { return prefix + std::to_string(n++); };
}

IdGenerator random_ids(std::uint64_t seed) {
    return [rng = std::mt19937_64(seed)]() mutable {
        static constexpr char alnum[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        std::string id = "call_";
        for (int i = 0; i < 24; ++i) id += alnum[rng() % (sizeof alnum - 1)];
        return id;
    };
}

} // namespace llmhost::toolcall

namespace llmhost::toolcall::detail {
namespace {
// Length of the prefix of `s` that ends on a UTF-8 character boundary: an incomplete trailing
// sequence (at most 3 bytes) is left for the next piece. Invalid bytes pass as they are.
std::size_t utf8_complete(std::string_view s) {
    const std::size_t n = s.size();
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto c = static_cast<unsigned char>(s[n - back]);
        if ((c & 0xC0) == 0x80) continue; // continuation byte: look further back
        const std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? n - back : n;
    }
    return n;
}
} // namespace

Sink::Sink(EventCallback on_event, ArgsStreaming mode, IdGenerator make_id)
    : on_event_(std::move(on_event)), mode_(mode), make_id_(std::move(make_id)) {
    if (!make_id_) make_id_ = random_ids(std::random_device{}());
}

void Sink::put(Chan chan, std::string_view s) {
    if (s.empty()) return;
    if (chan != chan_) {
        flush_all();
        chan_ = chan;
    }
    pending_.append(s);
}

void Sink::flush(bool final) {
    const std::size_t n = final ? pending_.size() : utf8_complete(pending_);
    if (n == 0) return;
    std::string out = pending_.substr(0, n);
    pending_.erase(0, n);
    switch (chan_) {
    case Chan::text: on_event_(TextDelta{std::move(out)}); break;
    case Chan::reasoning: on_event_(ReasoningDelta{std::move(out)}); break;
    case Chan::args: on_event_(ToolCallArgsDelta{next_index_, std::move(out)}); break;
    case Chan::none: break;
    }
}

void Sink::start_call() {
    flush_all();
    chan_ = Chan::none;
    started_ = true;
    on_event_(ToolCallStart{next_index_, make_id_(), *name_});
    put(Chan::args, args_);
    args_.clear();
}

void Sink::call_name(std::string name) {
    name_ = std::move(name);
    if (mode_ == ArgsStreaming::incremental && !started_ && !args_.empty()) start_call();
}

void Sink::call_args(std::string_view bytes) {
    if (started_) return put(Chan::args, bytes);
    args_.append(bytes);
    if (mode_ == ArgsStreaming::incremental && name_) start_call();
}

void Sink::call_commit() {
    if (!started_) {
        if (args_.empty()) args_ = "{}";
        start_call();
    }
    flush_all();
    chan_ = Chan::none;
    on_event_(ToolCallEnd{next_index_++, true});
    name_.reset();
    args_.clear();
    started_ = false;
}

bool Sink::call_abort() {
    const bool was_started = started_;
    if (was_started) {
        flush_all();
        chan_ = Chan::none;
        on_event_(ToolCallEnd{next_index_++, false});
    }
    name_.reset();
    args_.clear();
    started_ = false;
    return was_started;
}

bool is_json_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_partial(std::string_view s, std::string_view marker) {
    return !s.empty() && s.size() < marker.size() && marker.substr(0, s.size()) == s;
}

MarkerHit find_marker(std::string_view s, std::initializer_list<std::string_view> markers) {
    MarkerHit best{-1, std::string_view::npos};
    int i = 0;
    for (auto m : markers) {
        auto p = s.find(m);
        if (p != std::string_view::npos && p < best.pos) best = {i, p};
        ++i;
    }
    if (best.marker >= 0) return best;
    // No marker: hold back from the earliest position whose suffix may still grow into one.
    std::size_t longest = 0;
    for (auto m : markers) longest = std::max(longest, m.size());
    const std::size_t from = s.size() >= longest ? s.size() - longest + 1 : 0;
    for (std::size_t p = from; p < s.size(); ++p)
        for (auto m : markers)
            if (is_partial(s.substr(p), m)) return {-1, p};
    return {-1, s.size()};
}

} // namespace llmhost::toolcall::detail
