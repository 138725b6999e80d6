#include "validate.hpp"

#include "endpoint.hpp"

#include <llmhost/plugin.hpp>

namespace llmhost::hub::detail {

std::string excerpt(std::string_view value, std::size_t max) {
    std::string out = "'";
    for (std::size_t i = 0; i < value.size() && i < max; ++i) {
        auto c = static_cast<unsigned char>(value[i]);
        out += c >= 0x20 && c < 0x7f && c != '\'' ? static_cast<char>(c) : '?';
    }
    out += value.size() > max ? "...' (" + std::to_string(value.size()) + " bytes)" : "'";
    return out;
}

void validate_revision(const std::string &rev) {
    auto bad = [&](const std::string &why) {
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "invalid revision " + excerpt(rev) + ": " + why,
                          "give a branch or tag name (e.g. main, v1.0, refs/pr/1) or a 40-character commit hash");
    };
    if (rev.empty()) bad("it is empty");
    if (rev.size() > 255) bad("it is longer than 255 characters");
    if (is_commit_hash(rev)) return;
    for (unsigned char c : rev) {
        if (c < 0x20 || c == 0x7f) bad("it contains a control character");
        if (c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' || c == '\\')
            bad(std::string("character '") + static_cast<char>(c) + "' is not allowed");
    }
    if (rev.front() == '/' || rev.front() == '-') bad("it cannot start with '/' or '-'");
    if (rev.back() == '/' || rev.back() == '.') bad("it cannot end with '/' or '.'");
    if (rev.find("..") != std::string::npos) bad("'..' is not allowed");
    if (rev.find("//") != std::string::npos) bad("'//' is not allowed");
    if (rev.find("@{") != std::string::npos || rev == "@") bad("'@{' and '@' are not allowed");
    std::size_t start = 0;
    while (true) { // per '/'-separated component
        auto end = rev.find('/', start);
        std::string comp = rev.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (comp.front() == '.') bad("a component cannot start with '.'");
        if (comp.size() >= 5 && comp.compare(comp.size() - 5, 5, ".lock") == 0)
            bad("a component cannot end with '.lock'");
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

const std::string &require_commit(const std::string &commit, const std::string &source) {
    if (!is_commit_hash(commit))
        throw llmh::Error(LLMH_ERR_NETWORK,
                          source + " holds an invalid commit " + excerpt(commit) +
                              " (expected 40 lower-case hex digits)",
                          "check HF_ENDPOINT: it must point to the Hugging Face Hub or a trusted mirror; "
                          "nothing was written for this answer");
    return commit;
}

bool is_blob_name(const std::string &etag) {
    if (etag.size() != 40 && etag.size() != 64) return false;
    for (char c : etag)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    return true;
}

const std::string &require_blob_name(const std::string &etag, const std::string &source) {
    if (!is_blob_name(etag))
        throw llmh::Error(LLMH_ERR_NETWORK,
                          source + " holds an invalid ETag " + excerpt(etag) +
                              " (expected a git sha1 of 40 or a sha256 of 64 hex digits)",
                          "check HF_ENDPOINT: it must point to the Hugging Face Hub or a trusted mirror; "
                          "nothing was written for this file");
    return etag;
}

} // namespace llmhost::hub::detail
