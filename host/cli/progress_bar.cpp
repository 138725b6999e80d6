#include "progress_bar.hpp"

#include "environment.hpp"

#include "terminal.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace llmhost::cli {

namespace {

// huggingface_hub's reading of boolean environment variables (1/true/yes/on, any case) is the
// host's one boolean parser; anything else is false here.
bool env_true(const char *name) {
    const char *v = std::getenv(name);
    return v && detail::parse_bool(v).value_or(false);
}

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

} // namespace

bool ProgressBar::wanted(std::FILE *stream) {
    if (env_true("HF_HUB_DISABLE_PROGRESS_BARS")) return false;
    return terminal::is_terminal(stream);
}

ProgressBar::ProgressBar(std::FILE *stream, bool enabled) : stream_(stream), enabled_(enabled) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::set_enabled(bool on) {
    std::lock_guard lock(mu_);
    if (!on) clear_locked();
    enabled_ = on;
}

void ProgressBar::set_filter(Filter f) {
    std::lock_guard lock(mu_);
    filter_ = std::move(f);
}

void ProgressBar::update(std::string_view task, uint64_t done, uint64_t total) {
    std::lock_guard lock(mu_);
    if (!enabled_) return;
    auto now = Clock::now();
    if (task != task_) {
        // A new task: keep the previous one's last line if it was drawn, start fresh.
        if (drawn_) {
            std::fputc('\n', stream_);
            drawn_ = false;
        }
        task_.assign(task);
        speed_ = 0;
        speed_done_ = done;
        speed_at_ = now;
        task_finished_ = false;
    }
    if (done < speed_done_) { // the task restarted (a retry): measure speed afresh
        speed_done_ = done;
        speed_at_ = now;
    }
    done_ = done;
    total_ = total;
    double dt = std::chrono::duration<double>(now - speed_at_).count();
    if (dt >= 0.25) {
        double inst = static_cast<double>(done - speed_done_) / dt;
        speed_ = speed_ == 0 ? inst : 0.7 * speed_ + 0.3 * inst; // smooth, but follow changes
        speed_done_ = done;
        speed_at_ = now;
    }
    bool finished = total > 0 && done >= total;
    if (finished && task_finished_) return; // already drew the final state
    draw_locked(finished);
    if (finished) {
        task_finished_ = true;
        std::fputc('\n', stream_);
        std::fflush(stream_);
        drawn_ = false;
    }
}

void ProgressBar::clear() {
    std::lock_guard lock(mu_);
    clear_locked();
}

void ProgressBar::redraw() {
    std::lock_guard lock(mu_);
    if (enabled_ && !task_.empty() && !task_finished_) draw_locked(true);
}

void ProgressBar::finish() {
    std::lock_guard lock(mu_);
    if (drawn_) {
        std::fputc('\n', stream_);
        std::fflush(stream_);
    }
    drawn_ = false;
    task_.clear();
    task_finished_ = false;
}

void ProgressBar::clear_locked() {
    if (!drawn_) return;
    std::fputs("\r\033[2K", stream_); // carriage return + erase the whole line
    std::fflush(stream_);
    drawn_ = false;
}

void ProgressBar::draw_locked(bool force) {
    auto now = Clock::now();
    if (!force && drawn_ && now - drawn_at_ < kRedrawInterval) return;
    std::string task = filter_ ? filter_(task_) : task_;
    std::string line = render(task, done_, total_, speed_, terminal_width());
    std::fputs("\r\033[2K", stream_);
    std::fputs(line.c_str(), stream_);
    std::fflush(stream_);
    drawn_ = true;
    drawn_at_ = now;
}

int ProgressBar::terminal_width() const {
    if (int n = terminal::columns(stream_); n > 0) return n;
    if (const char *c = std::getenv("COLUMNS")) {
        int n = std::atoi(c);
        if (n > 0) return n;
    }
    return 80;
}

std::string ProgressBar::format_bytes(double bytes) {
    static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 4) {
        bytes /= 1000.0;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%.0f %s", bytes, units[u]);
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", bytes, units[u]);
    return buf;
}

std::string ProgressBar::format_duration(double seconds) {
    if (!(seconds >= 0) || seconds > 99 * 3600.0) return "--:--";
    auto s = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

std::string ProgressBar::render(std::string_view task, uint64_t done, uint64_t total,
                                double bytes_per_s, int width) {
    // Right part first: it carries the numbers, the bar and the task name take what is left.
    std::string stats;
    if (total > 0) {
        char pct[8];
        double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
        std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(frac * 100.0));
        stats = std::string(pct) + "  " + format_bytes(static_cast<double>(done)) + " / " +
                format_bytes(static_cast<double>(total));
    } else {
        stats = format_bytes(static_cast<double>(done));
    }
    if (bytes_per_s > 0) stats += "  " + format_bytes(bytes_per_s) + "/s";
    if (total > 0 && done < total)
        stats += "  ETA " + (bytes_per_s > 0
                                 ? format_duration(static_cast<double>(total - done) / bytes_per_s)
                                 : std::string("--:--"));

    width = std::max(width - 1, 20); // never write the last column: some terminals wrap there
    int room = width - static_cast<int>(stats.size()) - 2;
    int name_w = std::clamp(room / 3, 0, static_cast<int>(task.size()));
    int bar_w = room - name_w - 2 - 2; // "  [" ... "]"
    std::string line;
    if (name_w > 0) {
        if (static_cast<int>(task.size()) > name_w)
            line = std::string(task.substr(0, std::max(0, name_w - 1))) + "~";
        else
            line = std::string(task);
        line += "  ";
    }
    if (bar_w >= 5 && total > 0) {
        double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
        int fill = static_cast<int>(frac * bar_w);
        line += "[" + std::string(fill, '#') + std::string(bar_w - fill, '-') + "]  ";
    }
    line += stats;
    if (static_cast<int>(line.size()) > width) line.resize(width);
    return line;
}

} // namespace llmhost::cli
