#include "local_dir.hpp"

#include "cache_layout.hpp"
#include "endpoint.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

namespace llmhost::hub::detail {

namespace {
std::string unix_time_now() {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", std::chrono::duration<double>(now).count());
    return buf;
}

fs::path metadata_path(const fs::path &local_dir, const std::string &path) {
    validate_repo_path(path); // never outside local_dir, whatever the caller checked
    return local_dir / ".cache" / "huggingface" / "download" / fs::path(path + ".metadata");
}
} // namespace

void write_local_download_metadata(const fs::path &local_dir, const std::string &path, const std::string &commit,
                                   const std::string &etag) {
    fs::path hf = local_dir / ".cache" / "huggingface";
    std::error_code ec;
    if (!fs::exists(hf / ".gitignore", ec)) write_file_atomic(hf / ".gitignore", "*\n");
    write_file_atomic(metadata_path(local_dir, path), commit + "\n" + etag + "\n" + unix_time_now() + "\n");
}

bool local_download_is_current(const fs::path &local_dir, const std::string &path, const std::string &etag) {
    std::ifstream in(metadata_path(local_dir, path));
    std::string commit, meta_etag, ts;
    if (!std::getline(in, commit) || !std::getline(in, meta_etag) || !std::getline(in, ts)) return false;
    if (meta_etag != etag) return false;
    struct stat st {};
    if (::stat((local_dir / fs::path(path)).c_str(), &st) != 0) return false;
    return static_cast<double>(st.st_mtime) - 1 <= std::strtod(ts.c_str(), nullptr);
}

} // namespace llmhost::hub::detail
