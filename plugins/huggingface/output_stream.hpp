// The text side of one generation: generated token ids -> events on the sink.
//
//   token id -> StreamDecoder -> StopStringMatcher -> [toolcall::StreamParser] -> EventSink
//
// Stop strings apply to the model's raw text (markers included), before any parsing, as vLLM
// does: a stop string inside a tool call cuts the call, which then comes out as text. Without a
// parser (no tools, a model that does not reason) text goes straight to the sink, exactly as
// before ABI 2. With one, TEXT, REASONING, TOOL_CALL_START and TOOL_CALL_ARGS come from the
// parser's events; the tool-call arguments are BUFFERED (toolcall::ArgsStreaming::buffered): a
// call is sent only once complete and valid, so a malformed call becomes text and never a
// half-sent call the client cannot take back.
//
// Logprobs keep their promise (logprob_stream.hpp): a token's LOGPROB event precedes any event
// carrying its text. With a parser, tokens are reported when their text enters the parser.
#pragma once

#include "logprob_stream.hpp"

#include <llmhost/engine/engine.hpp>
#include <llmhost/engine/stop_strings.hpp>
#include <llmhost/plugin.hpp>
#include <llmhost/tokenizer/tokenizer.hpp>
#include <llmhost/toolcall/toolcall.hpp>

#include <optional>
#include <unordered_set>

namespace llmhost::hf {

struct OutputOptions {
    std::vector<std::string> stop;
    bool logprobs = false;
    // Set: the output is parsed for tool calls and/or reasoning with these options.
    std::optional<toolcall::ParserOptions> parser;
    // parallel_tool_calls false: the generation stops after the first complete call.
    bool stop_after_first_call = false;
    // Special tokens that are part of the format (<|python_tag|>, [TOOL_CALLS], ...): decoded as
    // their text, where other special tokens are skipped.
    std::unordered_set<std::int32_t> marker_ids;
};

class OutputStream {
public:
    OutputStream(const tok::Tokenizer &tokenizer, const TokenBytes &bytes, llmh::EventSink &sink,
                 OutputOptions options);
    // The engine's per-token callback: Stop on a stop string or after the one allowed call.
    engine::StepAction token(std::int32_t id);
    void logprobs(const engine::TokenLogprobs &lp);

    struct Outcome {
        llmh_finish_reason finish = LLMH_FINISH_STOP;
        std::uint32_t reasoning_tokens = 0;
        int tool_calls = 0;
    };
    // End of generation (`finish` as the engine reports it): flushes what was held back.
    Outcome finish(engine::Finish finish);

private:
    void release(const engine::StopStringMatcher::Result &r);
    void deliver(const std::string &text);
    void on_parsed(const toolcall::Event &e);

    const tok::Tokenizer &tok_;
    llmh::EventSink &sink_;
    OutputOptions opts_;
    tok::StreamDecoder decoder_;
    engine::StopStringMatcher stops_;
    LogprobStream logprobs_;
    std::optional<toolcall::StreamParser> parser_;
    std::size_t decoded_ = 0, emitted_ = 0; // bytes out of the decoder / released downstream
    std::uint32_t produced_ = 0;
    bool stopped_by_string_ = false;
    // Reasoning accounting: the tokens up to the one whose text first left the <think> block.
    bool reasoning_seen_ = false;
    std::optional<std::uint32_t> content_from_; // token count when content began
    int calls_done_ = 0;
};

} // namespace llmhost::hf
