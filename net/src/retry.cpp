// Retry policy helpers: exponential backoff with jitter, and the server's own wait hints
// (Retry-After, OpenAI's retry-after-ms, the Hub's RateLimit header).
#include <llmhost/net/http_client.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

namespace llmhost::net {

Millis backoff_delay(const RetryPolicy &policy, int attempt, std::mt19937_64 &rng) {
    if (attempt < 1) attempt = 1;
    double base = static_cast<double>(policy.initial_delay.count()) *
                  std::pow(2.0, std::min(attempt - 1, 30));
    base = std::min(base, static_cast<double>(policy.max_delay.count()));
    double j = std::clamp(policy.jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> dist(1.0 - j, 1.0 + j);
    return Millis(static_cast<long long>(std::llround(base * dist(rng))));
}

namespace {
std::optional<double> parse_number(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    if (s.empty()) return std::nullopt;
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0)
        return std::nullopt;
    return v;
}

// RFC 7231 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<std::chrono::system_clock::time_point> parse_http_date(const std::string &s) {
    std::tm tm{};
    const char *end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end) return std::nullopt;
    time_t t = timegm(&tm);
    if (t == static_cast<time_t>(-1)) return std::nullopt;
    return std::chrono::system_clock::from_time_t(t);
}
} // namespace

std::optional<Millis> parse_retry_after(const Headers &headers,
                                        std::chrono::system_clock::time_point now) {
    if (auto ms = headers.get("retry-after-ms"))
        if (auto v = parse_number(*ms)) return Millis(static_cast<long long>(std::llround(*v)));
    if (auto ra = headers.get("Retry-After")) {
        if (auto v = parse_number(*ra)) return Millis(static_cast<long long>(std::llround(*v * 1000)));
        if (auto when = parse_http_date(*ra)) {
            auto d = std::chrono::duration_cast<Millis>(*when - now);
            return d.count() > 0 ? d : Millis(0);
        }
    }
    // Hub: RateLimit: "api";r=0;t=55  (remaining r, seconds until reset t)
    if (auto rl = headers.get("RateLimit")) {
        auto tpos = rl->find(";t=");
        if (tpos != std::string::npos) {
            auto rest = std::string_view(*rl).substr(tpos + 3);
            auto semi = rest.find(';');
            if (auto v = parse_number(rest.substr(0, semi)))
                return Millis(static_cast<long long>(std::llround(*v * 1000)));
        }
    }
    return std::nullopt;
}

bool is_retryable_status(int status) {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

bool is_retryable_error(Error error) { return error == Error::network || error == Error::timeout; }

} // namespace llmhost::net
