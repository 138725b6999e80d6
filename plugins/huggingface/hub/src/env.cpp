// options_from_env(): the huggingface_hub environment variables (spec §5, §6, §8) for callers
// without a host (tests, benches). Never reads a token.
#include <llmhost/hub/client.hpp>

#include <cctype>
#include <initializer_list>
#include <cstdlib>

namespace llmhost::hub {

namespace {
std::optional<std::string> env(const char *name) {
    const char *v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

// huggingface_hub: HF_HUB_OFFLINE = _is_true(os.environ.get("HF_HUB_OFFLINE") or
// os.environ.get("TRANSFORMERS_OFFLINE")): the first variable that is set decides, so
// HF_HUB_OFFLINE=0 wins over TRANSFORMERS_OFFLINE=1, exactly as the provider's manifest reads them.
bool first_set_is_true(std::initializer_list<const char *> names) {
    for (const char *n : names)
        if (auto v = env(n)) return llmh::parse_bool(*v).value_or(false);
    return false;
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
    o.offline = first_set_is_true({"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"});
    auto seconds = [](const std::optional<std::string> &v, std::chrono::milliseconds d) {
        if (!v) return d;
        char *end = nullptr;
        double s = std::strtod(v->c_str(), &end);
        if (end == v->c_str() || !(s > 0 && s <= 86400.0 * 365)) return d; // garbage, NaN, 1e300: default
        return std::chrono::milliseconds(static_cast<long long>(s * 1000));
    };
    o.etag_timeout = seconds(env("HF_HUB_ETAG_TIMEOUT"), o.etag_timeout);
    o.download_timeout = seconds(env("HF_HUB_DOWNLOAD_TIMEOUT"), o.download_timeout);
    return o;
}

bool set_client_option(ClientOptions &o, const std::string &key, double v) {
    auto range = [&](double lo, double hi) {
        if (!(v >= lo && v <= hi)) // also NaN
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              "huggingface provider config: \"" + key + "\" must be between " +
                                  std::to_string(static_cast<long long>(lo)) + " and " +
                                  std::to_string(static_cast<long long>(hi)),
                              "see docs/huggingface-token.md, \"Hub client limits\"");
    };
    auto ms = [&] { return std::chrono::milliseconds(static_cast<long long>(v * 1000)); };
    if (key == "download_timeout") range(0.001, 86400), o.download_timeout = ms();
    else if (key == "etag_timeout") range(0.001, 86400), o.etag_timeout = ms();
    else if (key == "max_retry_after") range(0, 86400), o.retry.max_retry_after = ms();
    else if (key == "min_download_speed") range(0, 1e12), o.min_download_speed = static_cast<std::uint64_t>(v);
    else if (key == "max_retries") range(0, 100), o.retry.max_retries = static_cast<int>(v);
    else if (key == "max_file_retries") range(0, 10000), o.max_file_retries = static_cast<int>(v);
    else if (key == "max_tree_pages") range(1, 1e7), o.max_tree_pages = static_cast<std::size_t>(v);
    else return false;
    return true;
}

} // namespace llmhost::hub
