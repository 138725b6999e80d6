// Turns the tool-call fragments an endpoint sends (ToolCallFragment, wire.hpp) into the ABI's
// events: TOOL_CALL_START with a dense index 0, 1, 2... in the order the calls become known, then
// TOOL_CALL_ARGS pieces. The host refuses anything else, and endpoints do not all behave:
//   - indices may skip or come out of order: each call gets the next dense index when it starts;
//   - an index may be reused for another call (Ollama and some servers send every call of an
//     answer with index 0): a new id at a known index is a new call;
//   - the id or the name may come in a later fragment than the first: a call starts once it has
//     both, its arguments buffered until then (at the end, a named call still without an id
//     starts with the id "call_<dense index>");
//   - a call may have no index (some servers send whole calls): it is matched by its id, else it
//     continues the last call.
// Hostile input is an llmh::Error, never a crash or a silent drop: a negative index, more than
// kMaxCalls calls, more than kMaxArgumentBytes of arguments, a call whose name changes after it
// started, and (at finish) a call that never got a name.
#pragma once

#include "wire.hpp"

#include <llmhost/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::openai {

class ToolCallAssembler {
public:
    static constexpr int64_t kMaxCalls = 128;
    static constexpr std::size_t kMaxArgumentBytes = 4u << 20; // all calls of one answer together

    // `next_token` numbers the events (EventSink's n_tokens), shared with the text and reasoning.
    ToolCallAssembler(llmh::EventSink &sink, std::function<uint32_t()> next_token);

    void add(const ToolCallFragment &fragment);
    // The answer is over: starts the calls that still wait for an id; throws for a call without
    // a name. Returns the number of calls started.
    std::size_t finish();
    std::size_t started() const { return next_dense_; }

private:
    struct Call {
        int64_t upstream = 0; // the endpoint's index (its position when it sent none)
        std::optional<std::string> id;
        std::optional<std::string> name;
        std::string pending; // arguments received before the call started
        std::optional<uint32_t> dense;
    };
    std::size_t slot_of(const ToolCallFragment &f);
    std::size_t new_call(int64_t upstream);
    void start(Call &c, std::string id);

    llmh::EventSink &sink_;
    std::function<uint32_t()> next_token_;
    std::vector<Call> calls_;                 // in the order they first appeared
    std::map<int64_t, std::size_t> by_index_; // upstream index -> its latest call in calls_
    std::optional<std::size_t> last_;
    uint32_t next_dense_ = 0;
    std::size_t argument_bytes_ = 0;
};

} // namespace llmhost::openai
