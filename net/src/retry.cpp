// Retry policy helpers: exponential backoff with jitter, and the server's own wait hints
// (Retry-After, OpenAI's retry-after-ms, the Hub's RateLimit header).
#include <llmhost/net/http_client.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

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
// A server's wait hint is untrusted input: anything longer than this is as good as "forever" (the
// caller's max_retry_after gives up long before), and capping before converting keeps the
// arithmetic far from overflow (Retry-After: 1e300 once became a negative wait).
constexpr double kMaxWaitSeconds = 366.0 * 24 * 3600;

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// RFC 9110 delta-seconds: 1*DIGIT, nothing else (no sign, fraction or exponent). Saturates.
std::optional<double> parse_delta_seconds(std::string_view s) {
    s = trim(s);
    if (s.empty() || s.size() > 64) return std::nullopt;
    double v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = std::min(v * 10 + (c - '0'), kMaxWaitSeconds);
    }
    return v;
}

// retry-after-ms (OpenAI) may carry a fraction: a plain non-negative finite decimal, capped.
std::optional<double> parse_number(std::string_view s) {
    s = trim(s);
    if (s.empty() || s.size() > 64) return std::nullopt;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || c == '.')) return std::nullopt; // no sign, exponent, inf, nan
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
    return v;
}

Millis seconds_to_millis(double s) {
    return Millis(static_cast<long long>(std::llround(std::clamp(s, 0.0, kMaxWaitSeconds) * 1000)));
}

// RFC 9110 HTTP-date: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept.
std::optional<std::time_t> parse_http_date(std::string_view sv) {
    std::string s(trim(sv));
    if (s.size() > 64) return std::nullopt;
    for (const char *fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
        std::tm tm{};
        const char *end = strptime(s.c_str(), fmt, &tm);
        if (!end || *end != '\0') continue;
        time_t t = timegm(&tm);
        if (t == static_cast<time_t>(-1)) continue;
        return t;
    }
    return std::nullopt;
}
} // namespace

std::optional<Millis> parse_retry_after(const Headers &headers,
                                        std::chrono::system_clock::time_point now) {
    if (auto ms = headers.get("retry-after-ms"))
        if (auto v = parse_number(*ms)) return seconds_to_millis(*v / 1000);
    if (auto ra = headers.get("Retry-After")) {
        if (auto v = parse_delta_seconds(*ra)) return seconds_to_millis(*v);
        if (auto when = parse_http_date(*ra)) {
            // In whole seconds on time_t: a date in year 9999 must not overflow the clock's ticks.
            double d = std::difftime(*when, std::chrono::system_clock::to_time_t(now));
            return seconds_to_millis(std::isfinite(d) ? d : 0);
        }
    }
    // Hub: RateLimit: "api";r=0;t=55  (remaining r, seconds until reset t)
    if (auto rl = headers.get("RateLimit")) {
        auto tpos = rl->find(";t=");
        if (tpos != std::string::npos) {
            auto rest = std::string_view(*rl).substr(tpos + 3);
            auto semi = rest.find(';');
            if (auto v = parse_delta_seconds(rest.substr(0, semi))) return seconds_to_millis(*v);
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
