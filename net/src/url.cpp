// URL helpers: origins (who may see a token), Location resolution, percent-encoding.
#include <llmhost/net/http_client.hpp>

#include <algorithm>
#include <cctype>

namespace llmhost::net {

namespace {
struct UrlParts {
    std::string scheme, authority, path; // path includes query; may be empty
};

std::optional<UrlParts> split(std::string_view url) {
    auto p = url.find("://");
    if (p == std::string_view::npos || p == 0) return std::nullopt;
    UrlParts u;
    u.scheme = std::string(url.substr(0, p));
    auto rest = url.substr(p + 3);
    auto slash = rest.find_first_of("/?#");
    u.authority = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
    if (u.authority.empty()) return std::nullopt;
    return u;
}

std::string lower(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
} // namespace

std::string url_origin(std::string_view url) {
    auto u = split(url);
    if (!u) return {};
    std::string scheme = lower(u->scheme);
    std::string auth = u->authority;
    if (auto at = auth.rfind('@'); at != std::string::npos) auth = auth.substr(at + 1); // userinfo
    auth = lower(auth);
    // A port follows the last ':' unless it is inside an IPv6 literal's brackets.
    auto colon = auth.rfind(':');
    bool has_port = colon != std::string::npos && auth.find(']', colon) == std::string::npos;
    if (!has_port) auth += scheme == "https" ? ":443" : scheme == "http" ? ":80" : "";
    return scheme + "://" + auth;
}

std::string resolve_url(std::string_view base, std::string_view location) {
    if (location.find("://") != std::string_view::npos) {
        // Absolute only when the scheme is made of scheme characters (not "?next=http://...").
        auto p = location.find("://");
        bool scheme_ok = p > 0 && std::all_of(location.begin(), location.begin() + p, [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        });
        if (scheme_ok) return std::string(location);
    }
    auto b = split(base);
    if (!b) return std::string(location);
    if (location.substr(0, 2) == "//") return b->scheme + ":" + std::string(location);
    std::string prefix = b->scheme + "://" + b->authority;
    if (!location.empty() && location[0] == '/') return prefix + std::string(location);
    // Relative path: replace the last segment of the base path (query dropped).
    std::string path = b->path.substr(0, b->path.find_first_of("?#"));
    auto last = path.rfind('/');
    path = last == std::string::npos ? "/" : path.substr(0, last + 1);
    return prefix + path + std::string(location);
}

std::string percent_encode(std::string_view s, std::string_view keep) {
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            keep.find(static_cast<char>(c)) != std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::optional<std::string> link_next(const Headers &headers) {
    // Link: <url1>; rel="next", <url2>; rel="last"   (possibly several Link headers)
    for (const auto &value : headers.get_all("Link")) {
        std::size_t pos = 0;
        while (pos < value.size()) {
            auto lt = value.find('<', pos);
            if (lt == std::string::npos) break;
            auto gt = value.find('>', lt);
            if (gt == std::string::npos) break;
            auto end = value.find('<', gt); // params run until the next link
            std::string params = value.substr(gt + 1, end == std::string::npos ? std::string::npos
                                                                               : end - gt - 1);
            std::string lp = lower(params);
            if (lp.find("rel=\"next\"") != std::string::npos || lp.find("rel=next") != std::string::npos)
                return value.substr(lt + 1, gt - lt - 1);
            pos = gt + 1;
        }
    }
    return std::nullopt;
}

} // namespace llmhost::net
