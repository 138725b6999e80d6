#include "redactor.hpp"

#include "secret_patterns.hpp"

#include <algorithm>
#include <mutex>

namespace llmhost::detail {

void Redactor::add(std::string_view secret) {
    if (secret.size() < kMinSecretLength) return;
    std::unique_lock lock(mu_);
    if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
    secrets_.emplace_back(secret);
    std::stable_sort(secrets_.begin(), secrets_.end(),
                     [](const std::string &a, const std::string &b) { return a.size() > b.size(); });
}

std::string Redactor::redact(std::string_view text) const {
    // Credentials in a URL ("https://user:pass@host") are hidden even when nobody declared them.
    std::string out = redact_url_userinfo(text, kMask);
    std::shared_lock lock(mu_);
    for (const auto &s : secrets_) {
        for (size_t pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos + kMask.size()))
            out.replace(pos, s.size(), kMask);
    }
    return out;
}

} // namespace llmhost::detail
