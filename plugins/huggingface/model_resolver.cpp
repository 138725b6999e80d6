// Model directory / repo id resolution (see model_resolver.hpp).
#include "model_resolver.hpp"

#include <algorithm>
#include <cctype>

#ifdef LLMHOST_HF_WITH_HUB
#include <llmhost/hub/client.hpp>
#endif

namespace llmhost::hf {
namespace fs = std::filesystem;

namespace {

bool looks_like_path(const std::string &s) {
    return !s.empty() && (s[0] == '/' || s[0] == '.' || s[0] == '~');
}

bool looks_like_repo_id(const std::string &s) {
    if (s.empty() || s.size() > 96 || std::count(s.begin(), s.end(), '/') > 1) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/'))
            return false;
    return s.front() != '/' && s.back() != '/' && s.find("..") == std::string::npos;
}

} // namespace

fs::path resolve_model(const std::string &model, const ProviderConfig &cfg, const llmh::Host &host) {
    if (model.empty())
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "no model given to the huggingface provider",
                          "set HF_MODEL_PATH, config \"model_path\" or \"model\" (a repo id), "
                          "or pass -m DIR_OR_REPO");
    std::error_code ec;
    if (fs::is_directory(model, ec)) return fs::absolute(model);
    if (looks_like_path(model) || !looks_like_repo_id(model))
        throw llmh::Error(LLMH_ERR_NOT_FOUND, "model directory '" + model + "' does not exist",
                          "give an existing directory with config.json, model.safetensors and "
                          "tokenizer.json, or a Hub repo id like org/name");
#ifdef LLMHOST_HF_WITH_HUB
    if (cfg.cache_dir.empty())
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          "cannot download '" + model + "': no hub cache directory configured",
                          "set HF_HUB_CACHE or HF_HOME, or config \"cache_dir\"");
    hub::ClientOptions o;
    o.endpoint = cfg.endpoint;
    o.token = host.secret("token");
    o.cache_dir = cfg.cache_dir;
    o.offline = cfg.offline;
    bool cancel = false; // the host's progress service answers "cancel" on the next report
    hub::Client client(
        o, [&](llmh_log_level level, const std::string &m) { host.log(level, m); },
        [&](const hub::Progress &p) { cancel = cancel || host.progress(p.task, p.bytes_done, p.bytes_total); },
        [&] { return cancel; });
    hub::SnapshotOptions so;
    so.revision = cfg.revision;
    so.allow_patterns = {"*.json", "*.safetensors", "tokenizer.model"};
    host.info("resolving " + model + "@" + cfg.revision +
              (cfg.offline ? std::string(" from the cache only (offline)") : " through " + cfg.endpoint));
    return client.snapshot_download(model, so);
#else
    (void)cfg;
    (void)host;
    throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                      "'" + model + "' is not a local directory, and this build of the huggingface "
                      "plugin has no Hub client to download it",
                      "download it with `llmhost download " + model + "` and pass the printed path");
#endif
}

} // namespace llmhost::hf
