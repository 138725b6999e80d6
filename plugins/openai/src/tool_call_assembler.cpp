#include "tool_call_assembler.hpp"

#include <algorithm>
#include <utility>

namespace llmhost::openai {
namespace {

[[noreturn]] void bad(const std::string &what) {
    throw llmh::Error(LLMH_ERR_NETWORK, "the endpoint sent a malformed tool call: " + what,
                      "the model or server produced a tool call llmhost cannot pass on; retry, or "
                      "check the server's tool-call parser");
}

} // namespace

ToolCallAssembler::ToolCallAssembler(llmh::EventSink &sink, std::function<uint32_t()> next_token)
    : sink_(sink), next_token_(std::move(next_token)) {}

std::size_t ToolCallAssembler::new_call(int64_t upstream) {
    if (calls_.size() >= static_cast<std::size_t>(kMaxCalls))
        bad("more than " + std::to_string(kMaxCalls) + " tool calls in one answer");
    calls_.push_back(Call{upstream, {}, {}, {}, {}});
    return calls_.size() - 1;
}

std::size_t ToolCallAssembler::slot_of(const ToolCallFragment &f) {
    const bool has_id = f.id && !f.id->empty();
    if (f.index) {
        if (*f.index < 0) bad("index " + std::to_string(*f.index) + " is negative");
        if (*f.index >= kMaxCalls)
            bad("index " + std::to_string(*f.index) + " is beyond the " +
                std::to_string(kMaxCalls) + " tool calls one answer may make");
        auto it = by_index_.find(*f.index);
        // A different id at a known index is another call (Ollama sends every call at index 0).
        if (it != by_index_.end() &&
            !(has_id && calls_[it->second].id && calls_[it->second].id != f.id))
            return it->second;
        const std::size_t pos = new_call(*f.index);
        by_index_[*f.index] = pos;
        return pos;
    }
    if (has_id) { // no index: the call with this id, else a new one
        for (std::size_t i = 0; i < calls_.size(); ++i)
            if (calls_[i].id == f.id) return i;
        return new_call(static_cast<int64_t>(calls_.size()));
    }
    return last_ ? *last_ : new_call(static_cast<int64_t>(calls_.size()));
}

void ToolCallAssembler::add(const ToolCallFragment &f) {
    const std::size_t pos = slot_of(f);
    last_ = pos;
    Call &c = calls_[pos];
    const std::string label = "tool call " + std::to_string(c.upstream);
    // Before the start a later fragment may fill in or correct the name (the SDKs keep the last);
    // after it the name is out with the caller, so a different one is an error.
    if (f.id && !f.id->empty()) c.id = f.id;
    if (f.name && !f.name->empty()) {
        if (c.dense && c.name != f.name) bad(label + " changed its name after it started");
        c.name = f.name;
    }
    if (!f.arguments.empty()) {
        argument_bytes_ += f.arguments.size();
        if (argument_bytes_ > kMaxArgumentBytes)
            bad("its arguments exceed " + std::to_string(kMaxArgumentBytes >> 20) +
                " MiB (the most llmhost accepts for one answer)");
        if (c.dense)
            sink_.tool_call_args(*c.dense, f.arguments, next_token_());
        else
            c.pending += f.arguments;
    }
    if (!c.dense && c.id && c.name) start(c, *c.id);
}

void ToolCallAssembler::start(Call &c, std::string id) {
    c.dense = next_dense_++;
    c.id = std::move(id);
    sink_.tool_call_start(*c.dense, *c.id, *c.name, next_token_());
    if (!c.pending.empty()) {
        std::string pending = std::move(c.pending);
        c.pending.clear();
        sink_.tool_call_args(*c.dense, pending, next_token_());
    }
}

std::size_t ToolCallAssembler::finish() {
    std::vector<std::size_t> waiting; // in upstream order, as the endpoint numbered them
    for (std::size_t i = 0; i < calls_.size(); ++i)
        if (!calls_[i].dense) waiting.push_back(i);
    std::stable_sort(waiting.begin(), waiting.end(), [&](std::size_t a, std::size_t b) {
        return calls_[a].upstream < calls_[b].upstream;
    });
    for (std::size_t i : waiting) {
        Call &c = calls_[i];
        if (!c.name) bad("tool call " + std::to_string(c.upstream) + " never got a function name");
        start(c, "call_" + std::to_string(next_dense_));
    }
    return next_dense_;
}

} // namespace llmhost::openai
