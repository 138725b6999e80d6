// options_from_env(): the huggingface_hub environment variables (spec §5, §6, §8) for callers
// without a host (tests, benches). Never reads a token.
#include <llmhost/hub/client.hpp>

#include <cctype>
#include <cstdlib>

namespace llmhost::hub {

namespace {
std::optional<std::string> env(const char *name) {
    const char *v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

bool truthy(const std::optional<std::string> &v) {
    if (!v) return false;
    std::string s;
    for (char c : *v) s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s == "1" || s == "ON" || s == "YES" || s == "TRUE";
}

std::filesystem::path expand_home(std::string p) {
    if (!p.empty() && p[0] == '~') {
        auto home = env("HOME");
        if (home) p = *home + p.substr(1);
    }
    return p;
}
} // namespace

ClientOptions options_from_env() {
    ClientOptions o;
    if (auto ep = env("HF_ENDPOINT")) o.endpoint = *ep;
    while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
    std::filesystem::path hf_home;
    if (auto h = env("HF_HOME")) hf_home = expand_home(*h);
    else if (auto x = env("XDG_CACHE_HOME")) hf_home = std::filesystem::path(expand_home(*x)) / "huggingface";
    else hf_home = expand_home("~/.cache/huggingface");
    if (auto c = env("HF_HUB_CACHE")) o.cache_dir = expand_home(*c);
    else if (auto c2 = env("HUGGINGFACE_HUB_CACHE")) o.cache_dir = expand_home(*c2);
    else o.cache_dir = hf_home / "hub";
    o.offline = truthy(env("HF_HUB_OFFLINE")) || truthy(env("TRANSFORMERS_OFFLINE"));
    auto seconds = [](const std::optional<std::string> &v, std::chrono::milliseconds d) {
        if (!v) return d;
        char *end = nullptr;
        double s = std::strtod(v->c_str(), &end);
        if (end == v->c_str() || s <= 0) return d;
        return std::chrono::milliseconds(static_cast<long long>(s * 1000));
    };
    o.etag_timeout = seconds(env("HF_HUB_ETAG_TIMEOUT"), o.etag_timeout);
    o.download_timeout = seconds(env("HF_HUB_DOWNLOAD_TIMEOUT"), o.download_timeout);
    return o;
}

} // namespace llmhost::hub
