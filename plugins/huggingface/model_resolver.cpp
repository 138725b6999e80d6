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

ResolvedModel resolve_model(const std::string &model, const ProviderConfig &cfg, const llmh::Host &host) {
    if (model.empty())
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "no model given to the huggingface provider",
                          "set HF_MODEL_PATH, config \"model_path\" or \"model\" (a repo id), "
                          "or pass -m DIR_OR_REPO");
    std::error_code ec;
    if (fs::is_directory(model, ec)) {
        fs::path dir = fs::absolute(model).lexically_normal();
        if (!dir.has_filename()) dir = dir.parent_path(); // "/models/x/" -> "/models/x"
        return {dir, dir.filename().string()};
    }
    if (looks_like_path(model) || !looks_like_repo_id(model))
        throw llmh::Error(LLMH_ERR_NOT_FOUND, "model directory '" + model + "' does not exist",
                          "give an existing directory with config.json, model.safetensors and "
                          "tokenizer.json, or a Hub repo id like org/name");
#ifdef LLMHOST_HF_WITH_HUB
    // Not found rather than a config error: a client naming a model this server does not have
    // (a framework's default "gpt-4o-mini", say) gets a 404, as from any OpenAI endpoint.
    if (cfg.cache_dir.empty())
        throw llmh::Error(LLMH_ERR_NOT_FOUND,
                          "model '" + model + "' is not loaded, not a local directory, and cannot "
                          "be downloaded: no hub cache directory configured",
                          "name a model this server lists (/v1/models), or set HF_HUB_CACHE or "
                          "HF_HOME, or config \"cache_dir\", to allow downloads");
    hub::ClientOptions o;
    o.endpoint = cfg.endpoint;
    o.token = host.secret("token");
    o.cache_dir = cfg.cache_dir;
    o.offline = cfg.offline;
    for (const auto &[key, value] : cfg.hub_limits) hub::set_client_option(o, key, value);
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
    ResolvedModel r{client.snapshot_download(model, so), model};
    const hub::TransferStats t = client.stats();
    r.through_hub = true;
    r.downloaded_bytes = t.bytes_downloaded;
    r.downloaded_files = t.files_downloaded;
    r.cached_files = t.files_cached;
    return r;
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
