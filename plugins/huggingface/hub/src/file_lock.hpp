// An advisory lock per blob (flock on <cache>/.locks/<repo>/<etag>.lock, mode 0664), compatible
// with Python's filelock: two processes on one cache share the work and never write one blob
// together. The kernel drops the lock when its holder dies (kill -9), so a stale lock never blocks.
#pragma once

#include <filesystem>

namespace llmhost::hub::detail {

class FileLock {
public:
    explicit FileLock(std::filesystem::path path);
    ~FileLock(); // unlocks
    FileLock(const FileLock &) = delete;
    FileLock &operator=(const FileLock &) = delete;

    // Non-blocking attempt. Throws llmh::Error when the lock file cannot be opened.
    bool try_lock();
    void unlock();
    bool locked() const { return fd_ >= 0 && held_; }
    const std::filesystem::path &path() const { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    bool held_ = false;
};

} // namespace llmhost::hub::detail
