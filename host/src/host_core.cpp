#include "host_core.hpp"

#include <cstdio>

namespace llmhost::detail {

void HostCore::log(llmh_log_level level, std::string_view source, std::string_view message) {
    LogSink sink;
    {
        std::lock_guard lock(mu_);
        if (level < level_) return;
        sink = log_sink_; // called outside the lock: a sink may call back into the host
    }
    std::string line = source.empty() ? std::string(message)
                                      : "[" + std::string(source) + "] " + std::string(message);
    line = redactor.redact(line);
    if (sink) {
        sink(level, line);
    } else if (level >= LLMH_LOG_WARN) {
        std::fprintf(stderr, "llmhost: %s: %s\n", llmh_log_level_name(level), line.c_str());
    }
}

bool HostCore::progress(std::string_view task, uint64_t done, uint64_t total) {
    ProgressSink sink;
    {
        std::lock_guard lock(mu_);
        sink = progress_sink_;
    }
    return sink ? sink(redactor.redact(task), done, total) : false;
}

void HostCore::set_log_sink(LogSink sink) {
    std::lock_guard lock(mu_);
    log_sink_ = std::move(sink);
}

void HostCore::set_log_level(llmh_log_level level) {
    std::lock_guard lock(mu_);
    level_ = level;
}

void HostCore::set_progress_sink(ProgressSink sink) {
    std::lock_guard lock(mu_);
    progress_sink_ = std::move(sink);
}

HostError HostCore::redacted(const HostError &e) const {
    // what() already carries "file:line:col: "; rebuild without the location to avoid doubling.
    std::string msg = e.what();
    if (e.location()) {
        const auto &l = *e.location();
        std::string prefix = l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.column) + ": ";
        if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    }
    return HostError(e.code(), redactor.redact(msg), redactor.redact(e.hint()), e.location(),
                     e.retry_after_s(), e.http_status());
}

} // namespace llmhost::detail
