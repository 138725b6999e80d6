// Headers: an ordered list with case-insensitive names (HTTP/1.1 and HTTP/2 spell them differently).
#include <llmhost/net/http_client.hpp>

#include <algorithm>
#include <cctype>

namespace llmhost::net {

static bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

void Headers::add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
    remove(name);
    add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
    std::erase_if(items_, [&](const auto &kv) { return iequals(kv.first, name); });
}

std::optional<std::string> Headers::get(std::string_view name) const {
    for (const auto &[k, v] : items_)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto &[k, v] : items_)
        if (iequals(k, name)) out.push_back(v);
    return out;
}

const char *error_name(Error e) {
    switch (e) {
    case Error::none: return "none";
    case Error::network: return "network error";
    case Error::timeout: return "timeout";
    case Error::cancelled: return "cancelled";
    case Error::aborted: return "aborted";
    case Error::too_many_redirects: return "too many redirects";
    case Error::invalid_request: return "invalid request";
    }
    return "unknown";
}

} // namespace llmhost::net
