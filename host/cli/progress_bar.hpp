// One progress bar on stderr, for the host's progress service (downloads, model loading).
//
// Drawn only when stderr is a terminal and HF_HUB_DISABLE_PROGRESS_BARS is not true (the
// variable huggingface_hub users already set in CI and notebooks); otherwise every call is a
// no-op, so commands can report progress unconditionally. Thread-safe: plugins report from
// their worker threads. Redraws at most every 100 ms, so a plugin may report per chunk.
//
//   download gpt2   [##########--------------]  42%  212.3 MB / 503.1 MB  48.2 MB/s  ETA 0:06
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace llmhost::cli {

class ProgressBar {
public:
    using Clock = std::chrono::steady_clock;
    using Filter = std::function<std::string(std::string_view)>;

    // True when a bar should be drawn on `stream` given the environment (tty, HF variable).
    static bool wanted(std::FILE *stream = stderr);

    // enabled = false gives a bar that never draws (tests, pipes, -q).
    explicit ProgressBar(std::FILE *stream = stderr, bool enabled = wanted(stderr));
    ~ProgressBar();
    ProgressBar(const ProgressBar &) = delete;
    ProgressBar &operator=(const ProgressBar &) = delete;

    bool enabled() const { return enabled_; }
    void set_enabled(bool on);
    // Applied to the task name before drawing (the CLI passes Host::redact).
    void set_filter(Filter f);

    // Reports `done` of `total` bytes (total = 0: unknown) for `task`. A new task name replaces
    // the bar; a finished task (done >= total > 0) leaves its final line on screen.
    void update(std::string_view task, uint64_t done, uint64_t total);

    // Erases the bar so a log line can be printed, then redraw() puts it back.
    // Both are no-ops when nothing is drawn. Callers hold no lock of ours between them: a line
    // printed by another thread in between is fine, the bar is simply redrawn under it.
    void clear();
    void redraw();

    // Ends the current bar (final line kept) so later output starts on a fresh line.
    void finish();

    // Formatting helpers, public for tests and other commands ("1.5 GB", "12.0 MB/s", "1:02:03").
    static std::string format_bytes(double bytes);
    static std::string format_duration(double seconds);
    // The bar line for the given state, exactly `width` columns or less.
    static std::string render(std::string_view task, uint64_t done, uint64_t total,
                              double bytes_per_s, int width);

private:
    void draw_locked(bool force);
    void clear_locked();
    int terminal_width() const;

    std::FILE *stream_;
    bool enabled_;
    Filter filter_;
    std::mutex mu_;
    std::string task_;
    uint64_t done_ = 0, total_ = 0;
    bool drawn_ = false;        // a bar is on screen (cursor at its end)
    bool task_finished_ = false;
    double speed_ = 0;          // bytes/s, exponentially smoothed
    uint64_t speed_done_ = 0;   // done at the last speed sample
    Clock::time_point speed_at_{};
    Clock::time_point drawn_at_{};
};

} // namespace llmhost::cli
