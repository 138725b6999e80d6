// The keys of `llmhost serve --keys-file` in a running server: the current set, swapped whole on
// reload (a request keeps the entry it was admitted with; a bad file keeps the previous set),
// verification of a presented key, the rpm/tpm windows, and the key values seen, which the
// redactor removes from logged text.
#pragma once

#include "key_limits.hpp"

#include <llmhost/server/keys_file.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace llmhost::server {

class KeyRegistry {
public:
    explicit KeyRegistry(std::string path) : path_(std::move(path)) {}
    bool enabled() const { return !path_.empty(); }
    const std::string &path() const { return path_; }

    // (Re)reads the file. Throws KeysFileError and keeps the current set. Returns the
    // warnings (e.g. the file is readable by every user).
    std::vector<std::string> load();
    std::size_t size() const;

    // The entry whose key is "Bearer <key>" in `authorization`, or null.
    std::shared_ptr<const KeyEntry> find(std::string_view authorization);

    // See KeyLimits.
    double admit(const KeyEntry &e) { return limits_.admit(e.name, e.rpm, e.tpm); }
    void add_tokens(const std::string &name, uint64_t n) { limits_.add_tokens(name, n); }

    // `text` with every key value verified so far replaced by "[redacted]".
    std::string redact(std::string text) const;

private:
    struct Set {
        std::vector<KeyEntry> entries;
        std::vector<std::pair<std::string, std::string>> decoded; // (salt, digest) per entry
        std::mutex mu;
        std::unordered_map<std::string, std::size_t> verified; // SHA-256(key) -> entry
    };
    std::shared_ptr<const KeyEntry> scan(const std::shared_ptr<Set> &set, std::string_view key);

    std::string path_;
    mutable std::mutex mu_;
    std::shared_ptr<Set> set_;
    std::set<std::string> seen_; // key values that verified (bounded: see find)
    KeyLimits limits_;
};

} // namespace llmhost::server
