#include "download_checks.hpp"

#include "validate.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>

namespace llmhost::hub::detail {

std::optional<llmh::Error> check_file_metadata(const std::string &endpoint, const std::string &path,
                                               const FileMetadata &m) {
    const std::string of = " of " + endpoint + " for '" + path + "'";
    try {
        require_commit(m.commit, "the X-Repo-Commit header" + of);
        require_blob_name(m.etag, "the ETag (or X-Linked-Etag) header" + of);
    } catch (const llmh::Error &e) {
        return e;
    }
    return std::nullopt;
}

bool same_hex(const std::string &digest, const std::string &etag) {
    if (digest.size() != etag.size()) return false;
    for (std::size_t i = 0; i < digest.size(); ++i)
        if (digest[i] != std::tolower(static_cast<unsigned char>(etag[i]))) return false;
    return true;
}

llmh::Error retry_budget_error(const std::string &repo_id, const std::string &path, int retries,
                               const std::string &last, std::uint64_t written, std::uint64_t size) {
    return llmh::Error(LLMH_ERR_TIMEOUT,
                       "gave up on '" + path + "' of '" + repo_id + "' after " + std::to_string(retries) +
                           " retries in all (last: " + last + "; " + std::to_string(written) + " of " +
                           std::to_string(size) + " bytes)",
                       "the server is too slow or keeps stalling; run the command again to resume, or raise the "
                       "huggingface provider's `max_file_retries`, `download_timeout` (HF_HUB_DOWNLOAD_TIMEOUT) "
                       "or lower `min_download_speed`");
}

llmh::Error download_disk_error(const std::string &path, const std::filesystem::path &dir, std::uint64_t size,
                                int err) {
    if (err == ENOSPC || err == EDQUOT)
        return llmh::Error(LLMH_ERR_OUT_OF_MEMORY, "disk full while downloading '" + path + "' into " + dir.string(),
                           "free space in " + dir.string() + " (the file needs " + std::to_string(size) +
                               " bytes) or point HF_HUB_CACHE / --local-dir to a larger disk; nothing was published");
    return llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                       "cannot write '" + path + "' into " + dir.string() + ": " + std::strerror(err),
                       "check that " + dir.string() + " is writable");
}

} // namespace llmhost::hub::detail
