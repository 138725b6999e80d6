// One generation's tokens -> decoded, stop-checked, parsed events (output_stream.hpp).
#include "output_stream.hpp"

namespace llmhost::hf {

OutputStream::OutputStream(const tok::Tokenizer &tokenizer, const TokenBytes &bytes,
                           llmh::EventSink &sink, OutputOptions options)
    : tok_(tokenizer), sink_(sink), opts_(std::move(options)),
      decoder_(tokenizer, /*skip_special_tokens=*/true), stops_(opts_.stop),
      logprobs_(sink, bytes, opts_.logprobs) {
    if (opts_.parser) {
        opts_.parser->args = toolcall::ArgsStreaming::buffered;
        parser_.emplace(*opts_.parser, [this](const toolcall::Event &e) { on_parsed(e); });
    }
}

engine::StepAction OutputStream::token(std::int32_t id) {
    ++produced_;
    std::string piece;
    if (opts_.marker_ids.count(id)) // a format marker: its text, after what the decoder holds
        piece = decoder_.flush() + tok_.id_to_token(id);
    else
        piece = decoder_.push(id);
    decoded_ += piece.size();
    auto r = stops_.push(piece);
    release(r);
    stopped_by_string_ = r.stopped;
    if (r.stopped) return engine::StepAction::Stop;
    if (opts_.stop_after_first_call && calls_done_ > 0) return engine::StepAction::Stop;
    return engine::StepAction::Continue;
}

void OutputStream::logprobs(const engine::TokenLogprobs &lp) { logprobs_.queue(lp, decoded_); }

void OutputStream::release(const engine::StopStringMatcher::Result &r) {
    if (r.stopped) logprobs_.stop_at(emitted_ + r.text.size());
    deliver(r.text);
}

void OutputStream::deliver(const std::string &text) {
    logprobs_.before_emit(emitted_ + text.size());
    emitted_ += text.size();
    if (text.empty()) return;
    if (parser_)
        parser_->feed(text);
    else
        sink_.text(text, produced_);
}

void OutputStream::on_parsed(const toolcall::Event &e) {
    if (std::holds_alternative<toolcall::ReasoningDelta>(e)) {
        reasoning_seen_ = true;
        sink_.reasoning(std::get<toolcall::ReasoningDelta>(e).text, produced_);
        return;
    }
    // Anything else is the answer: the reasoning, if any, ended with the previous token.
    if (reasoning_seen_ && !content_from_) content_from_ = produced_;
    if (const auto *t = std::get_if<toolcall::TextDelta>(&e)) {
        sink_.text(t->text, produced_);
    } else if (const auto *s = std::get_if<toolcall::ToolCallStart>(&e)) {
        sink_.tool_call_start(static_cast<std::uint32_t>(s->index), s->id, s->name, produced_);
    } else if (const auto *a = std::get_if<toolcall::ToolCallArgsDelta>(&e)) {
        sink_.tool_call_args(static_cast<std::uint32_t>(a->index), a->json_fragment, produced_);
    } else if (const auto *end = std::get_if<toolcall::ToolCallEnd>(&e)) {
        if (end->complete) ++calls_done_;
    }
}

OutputStream::Outcome OutputStream::finish(engine::Finish finish) {
    if (!stopped_by_string_) {
        auto tail = stops_.push(decoder_.flush());
        release(tail);
        if (!tail.stopped)
            deliver(stops_.flush());
        else
            finish = engine::Finish::Stop;
        if (!tail.stopped) logprobs_.finish();
    }
    if (parser_) parser_->finish();
    Outcome o;
    o.tool_calls = calls_done_;
    o.finish = finish == engine::Finish::Stop ? LLMH_FINISH_STOP : LLMH_FINISH_LENGTH;
    // The answer ends with calls for the caller to run (a cut-off answer stays "length").
    if (calls_done_ > 0 && finish == engine::Finish::Stop) o.finish = LLMH_FINISH_TOOL_CALLS;
    if (reasoning_seen_) {
        // Reasoning closed: the tokens before the first answer token (the </think> marker
        // included); never closed: all of them.
        const std::uint32_t n = content_from_ ? *content_from_ - 1 : produced_;
        o.reasoning_tokens = std::min(n, produced_);
    }
    return o;
}

} // namespace llmhost::hf
