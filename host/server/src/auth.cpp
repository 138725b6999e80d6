#include "auth.hpp"

#include <cctype>

namespace llmhost::server {

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Walk the longer length so a prefix of the key takes as long as a wrong key.
    const std::size_t n = a.size() > b.size() ? a.size() : b.size();
    unsigned diff = static_cast<unsigned>(a.size() ^ b.size());
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned>(x ^ y);
    }
    return diff == 0;
}

int bearer_key_index(std::string_view authorization, const std::vector<std::string> &keys) {
    constexpr std::string_view prefix = "Bearer ";
    if (authorization.size() < prefix.size()) return -1;
    for (std::size_t i = 0; i < prefix.size(); ++i) // the scheme is case-insensitive
        if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i])))
            return -1;
    std::string_view presented = authorization.substr(prefix.size());
    int found = -1;
    for (std::size_t i = 0; i < keys.size(); ++i) // no early exit: every key is compared
        if (constant_time_equal(presented, keys[i]) && found < 0) found = static_cast<int>(i);
    return found;
}

bool bearer_matches(std::string_view authorization, const std::vector<std::string> &keys) {
    return bearer_key_index(authorization, keys) >= 0;
}

std::string key_name(const char *prefix, int index) {
    return std::string(prefix) + "_" + std::to_string(index + 1);
}

std::vector<std::string> split_keys(std::string_view list) {
    std::vector<std::string> keys;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t end = list.find(',', start);
        if (end == std::string_view::npos) end = list.size();
        std::string_view k = list.substr(start, end - start);
        while (!k.empty() && std::isspace(static_cast<unsigned char>(k.front()))) k.remove_prefix(1);
        while (!k.empty() && std::isspace(static_cast<unsigned char>(k.back()))) k.remove_suffix(1);
        if (!k.empty()) keys.emplace_back(k);
        start = end + 1;
    }
    return keys;
}

} // namespace llmhost::server
