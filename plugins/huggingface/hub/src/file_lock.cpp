#include "file_lock.hpp"

#include <llmhost/plugin.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llmhost::hub::detail {

FileLock::FileLock(std::filesystem::path path) : path_(std::move(path)) {}

FileLock::~FileLock() { unlock(); }

bool FileLock::try_lock() {
    if (held_) return true;
    if (fd_ < 0) {
        std::error_code ec;
        std::filesystem::create_directories(path_.parent_path(), ec);
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0664);
        if (fd_ < 0)
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              "cannot open lock file " + path_.string() + ": " + std::strerror(errno),
                              "check that the cache folder is writable (HF_HUB_CACHE / HF_HOME)");
        ::fchmod(fd_, 0664); // as filelock: group members sharing a cache can lock too
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
        held_ = true;
        return true;
    }
    if (errno == EWOULDBLOCK || errno == EINTR) return false;
    throw llmh::Error(LLMH_ERR_INTERNAL, "cannot lock " + path_.string() + ": " + std::strerror(errno),
                      "the cache filesystem must support flock()");
}

void FileLock::unlock() {
    if (fd_ >= 0) {
        if (held_) ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
    fd_ = -1;
    held_ = false;
}

} // namespace llmhost::hub::detail
