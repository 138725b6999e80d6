#include "key_registry.hpp"

#include <openssl/crypto.h>

#include <cctype>

namespace llmhost::server {

namespace {

constexpr std::size_t kMaxSeen = 4 * kMaxKeyEntries;

std::string_view bearer_token(std::string_view authorization) {
    constexpr std::string_view prefix = "Bearer ";
    if (authorization.size() <= prefix.size()) return {};
    for (std::size_t i = 0; i < prefix.size(); ++i) // the scheme is case-insensitive
        if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i])))
            return {};
    return authorization.substr(prefix.size());
}

} // namespace

std::vector<std::string> KeyRegistry::load() {
    KeysFile kf = load_keys_file(path_);
    auto set = std::make_shared<Set>();
    std::set<std::string> names;
    for (auto &e : kf.entries) {
        std::string salt, digest;
        decode_key_hash(e.hash, salt, digest); // validated by the parser
        set->decoded.emplace_back(std::move(salt), std::move(digest));
        names.insert(e.name);
    }
    set->entries = std::move(kf.entries);
    {
        std::lock_guard lk(mu_);
        set_ = std::move(set);
    }
    limits_.retain(names);
    return kf.warnings;
}

std::size_t KeyRegistry::size() const {
    std::lock_guard lk(mu_);
    return set_ ? set_->entries.size() : 0;
}

std::shared_ptr<const KeyEntry> KeyRegistry::scan(const std::shared_ptr<Set> &set,
                                                  std::string_view key) {
    // Every entry is hashed and compared, so the time does not say which entry matched.
    std::size_t found = set->entries.size();
    for (std::size_t i = 0; i < set->entries.size(); ++i) {
        const auto &[salt, digest] = set->decoded[i];
        std::string d = salted_digest(salt, key);
        if (CRYPTO_memcmp(d.data(), digest.data(), digest.size()) == 0 &&
            found == set->entries.size())
            found = i;
    }
    if (found == set->entries.size()) return nullptr;
    return std::shared_ptr<const KeyEntry>(set, &set->entries[found]);
}

std::shared_ptr<const KeyEntry> KeyRegistry::find(std::string_view authorization) {
    std::string_view key = bearer_token(authorization);
    if (key.empty() || key.size() > 4096) return nullptr;
    std::shared_ptr<Set> set;
    {
        std::lock_guard lk(mu_);
        set = set_;
    }
    if (!set) return nullptr;
    // A verified key is found again by its unsalted SHA-256 (kept in memory only): one hash per
    // request instead of one per entry.
    const std::string fingerprint = salted_digest({}, key);
    {
        std::lock_guard lk(set->mu);
        auto it = set->verified.find(fingerprint);
        if (it != set->verified.end())
            return std::shared_ptr<const KeyEntry>(set, &set->entries[it->second]);
    }
    auto entry = scan(set, key);
    if (!entry) return nullptr;
    {
        std::lock_guard lk(set->mu);
        set->verified[fingerprint] = static_cast<std::size_t>(entry.get() - set->entries.data());
    }
    std::lock_guard lk(mu_);
    if (seen_.size() < kMaxSeen) seen_.emplace(key);
    return entry;
}

std::string KeyRegistry::redact(std::string out) const {
    std::lock_guard lk(mu_);
    for (const auto &k : seen_)
        for (std::size_t at = out.find(k); at != std::string::npos; at = out.find(k, at))
            out.replace(at, k.size(), "[redacted]");
    return out;
}

} // namespace llmhost::server
