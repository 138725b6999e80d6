#include "retry_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace llmhost::openai {

bool should_retry_status(int status, const net::Headers &headers) {
    if (auto h = headers.get("x-should-retry")) {
        std::string v = *h;
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
        if (v == "true") return true;
        if (v == "false") return false;
    }
    return status == 408 || status == 409 || status == 429 || status >= 500;
}

std::chrono::milliseconds retry_delay(int retries_done, const net::Headers &headers,
                                      std::mt19937_64 &rng) {
    using std::chrono::milliseconds;
    if (auto asked = net::parse_retry_after(headers); asked && *asked >= milliseconds(0) &&
                                                      *asked <= milliseconds(60'000))
        return *asked;
    double seconds = std::min(0.5 * std::pow(2.0, retries_done), 8.0);
    double jitter = 1.0 - 0.25 * std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    return milliseconds(static_cast<long long>(seconds * jitter * 1000.0));
}

} // namespace llmhost::openai
