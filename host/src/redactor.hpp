// Redactor: replaces every known secret value, and the userinfo of every URL, in a text. Every
// string the host lets out (log lines, error messages, hints, displayed config) goes through it.
#pragma once

#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::detail {

class Redactor {
public:
    static constexpr std::string_view kMask = "[redacted]";
    // Secrets shorter than this are not redacted (they would shred ordinary text); the config
    // resolver refuses to accept such a secret in the first place.
    static constexpr size_t kMinSecretLength = 4;

    void add(std::string_view secret);
    std::string redact(std::string_view text) const;

private:
    mutable std::shared_mutex mu_;
    std::vector<std::string> secrets_; // longest first, so a secret containing another goes whole
};

} // namespace llmhost::detail
