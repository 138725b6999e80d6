#include "tool_call_assembler.hpp"

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

int64_t ToolCallAssembler::key_of(const ToolCallFragment &f) {
    if (f.index) {
        if (*f.index < 0) bad("index " + std::to_string(*f.index) + " is negative");
        if (*f.index >= kMaxCalls)
            bad("index " + std::to_string(*f.index) + " is beyond the " +
                std::to_string(kMaxCalls) + " tool calls one answer may make");
        return *f.index;
    }
    if (f.id && !f.id->empty()) { // no index: the call with this id, else a new one
        for (const auto &[key, c] : calls_)
            if (c.id == f.id) return key;
        const int64_t key = calls_.empty() ? 0 : calls_.rbegin()->first + 1;
        if (key >= kMaxCalls)
            bad("more than " + std::to_string(kMaxCalls) + " tool calls in one answer");
        return key;
    }
    return last_key_ >= 0 ? last_key_ : 0;
}

void ToolCallAssembler::add(const ToolCallFragment &f) {
    const int64_t key = key_of(f);
    last_key_ = key;
    Call &c = calls_[key];
    const std::string label = "tool call " + std::to_string(key);
    // Before the start a later fragment may fill in or correct id and name (the SDKs keep the
    // last); after it they are out with the caller, so a different one is an error.
    if (f.id && !f.id->empty()) {
        if (c.dense && c.id != f.id) bad(label + " changed its id after it started");
        c.id = f.id;
    }
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
    for (auto &[key, c] : calls_) {
        if (c.dense) continue;
        if (!c.name) bad("tool call " + std::to_string(key) + " never got a function name");
        start(c, "call_" + std::to_string(next_dense_));
    }
    return next_dense_;
}

} // namespace llmhost::openai
