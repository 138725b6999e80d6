// What every part of the host shares and what outlives a Host while an old provider instance
// finishes its last request: the redactor and the log / progress sinks.
#pragma once

#include "redactor.hpp"

#include <llmhost/host.hpp>

#include <mutex>

namespace llmhost::detail {

class HostCore {
public:
    Redactor redactor;

    // Redacts, prefixes "[source] " when source is not empty, and hands the line to the sink.
    void log(llmh_log_level level, std::string_view source, std::string_view message);
    // True when the user asked to cancel.
    bool progress(std::string_view task, uint64_t done, uint64_t total);

    void set_log_sink(LogSink sink);
    void set_log_level(llmh_log_level level);
    void set_progress_sink(ProgressSink sink);

    // A HostError with message and hint redacted.
    HostError redacted(const HostError &e) const;

private:
    std::mutex mu_;
    LogSink log_sink_;
    llmh_log_level level_ = LLMH_LOG_INFO;
    ProgressSink progress_sink_;
};

} // namespace llmhost::detail
