// huggingface_hub's local_dir mode bookkeeping (spec §5): <local_dir>/.cache/huggingface/
//   .gitignore                         "*"
//   download/<path>.metadata           commit \n etag \n unix time \n
// A file is up to date when its metadata names the expected etag and the file was not modified
// after the metadata was written (mtime - 1 <= timestamp).
#pragma once

#include <filesystem>
#include <string>

namespace llmhost::hub::detail {

void write_local_download_metadata(const std::filesystem::path &local_dir, const std::string &path,
                                   const std::string &commit, const std::string &etag);
bool local_download_is_current(const std::filesystem::path &local_dir, const std::string &path,
                               const std::string &etag);

} // namespace llmhost::hub::detail
