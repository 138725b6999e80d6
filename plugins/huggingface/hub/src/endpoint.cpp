// Hub URL building, exactly as huggingface_hub's hf_hub_url / HfApi do it (spec §1).
#include "endpoint.hpp"

#include "validate.hpp"

#include <cctype>

namespace llmhost::hub::detail {

const char *const kTokenHelp = "https://huggingface.co/settings/tokens";

std::string type_prefix(RepoType t) {
    switch (t) {
    case RepoType::model: return "";
    case RepoType::dataset: return "datasets/";
    case RepoType::space: return "spaces/";
    }
    return "";
}

std::string api_segment(RepoType t) {
    switch (t) {
    case RepoType::model: return "models";
    case RepoType::dataset: return "datasets";
    case RepoType::space: return "spaces";
    }
    return "models";
}

bool is_commit_hash(const std::string &s) {
    if (s.size() != 40) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

void validate_repo_id(const std::string &repo_id) {
    auto bad = [&](const std::string &why) {
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "invalid repo id '" + repo_id + "': " + why,
                          "use the form 'name' or 'org/name' with letters, digits, '-', '_' and '.', "
                          "as shown on the model's Hugging Face page");
    };
    if (repo_id.empty()) bad("it is empty");
    if (repo_id.size() > 96) bad("it is longer than 96 characters");
    int slashes = 0;
    for (char c : repo_id) {
        if (c == '/') ++slashes;
        else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            bad(std::string("character '") + c + "' is not allowed");
    }
    if (slashes > 1) bad("it has more than one '/'");
    if (repo_id.front() == '/' || repo_id.back() == '/') bad("it starts or ends with '/'");
    if (repo_id.find("--") != std::string::npos) bad("'--' is not allowed");
    if (repo_id.find("..") != std::string::npos) bad("'..' is not allowed");
    if (repo_id.front() == '-' || repo_id.front() == '.' || repo_id.back() == '-' || repo_id.back() == '.')
        bad("it cannot start or end with '-' or '.'");
}

void validate_repo_path(const std::string &path) {
    auto bad = [&](const std::string &why) {
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "invalid file path " + excerpt(path, 200) + " in repo: " + why,
                          "file paths are relative, use '/' and never contain '..'");
    };
    if (path.empty()) bad("it is empty");
    if (path.front() == '/') bad("it is absolute");
    if (path.find('\\') != std::string::npos) bad("it contains a backslash");
    if (path.find('\0') != std::string::npos) bad("it contains a NUL byte");
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        std::string seg = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (seg == ".." || seg == ".") bad("it contains a '" + seg + "' segment");
        if (seg.empty()) bad("it contains an empty segment");
        if (seg.size() >= 2 && seg[1] == ':' && std::isalpha(static_cast<unsigned char>(seg[0])))
            bad("a segment starts with a drive letter"); // as huggingface_hub: no escape on Windows either
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

Endpoint::Endpoint(std::string base) : base_(std::move(base)) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    if (base_.empty()) base_ = "https://huggingface.co";
}

std::string Endpoint::resolve_url(RepoType t, const std::string &repo_id, const std::string &revision,
                                  const std::string &path) const {
    return base_ + "/" + type_prefix(t) + repo_id + "/resolve/" + net::percent_encode(revision) + "/" +
           net::percent_encode(path, "/");
}

std::string Endpoint::repo_info_url(RepoType t, const std::string &repo_id,
                                    const std::string &revision) const {
    std::string url = base_ + "/api/" + api_segment(t) + "/" + repo_id;
    if (!revision.empty()) url += "/revision/" + net::percent_encode(revision);
    return url;
}

std::string Endpoint::tree_url(RepoType t, const std::string &repo_id, const std::string &revision) const {
    return base_ + "/api/" + api_segment(t) + "/" + repo_id + "/tree/" + net::percent_encode(revision) +
           "?recursive=true&expand=false";
}

std::string Endpoint::web_url(RepoType t, const std::string &repo_id) const {
    return base_ + "/" + type_prefix(t) + repo_id;
}

std::string Endpoint::settings_tokens_url() const { return kTokenHelp; }

} // namespace llmhost::hub::detail
