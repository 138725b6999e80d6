#include "request_log.hpp"

#include "random_id.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>

namespace llmhost::server {

bool request_id_acceptable(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string request_id_from(std::string_view incoming) {
    if (request_id_acceptable(incoming)) return std::string(incoming);
    return "req_" + random_hex(24);
}

namespace {

std::string utc_now() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return buf;
}

double round_ms(double v) {
    return static_cast<double>(static_cast<long long>(v * 1000 + 0.5)) / 1000;
}

void put_content(nlohmann::ordered_json &j, const char *field, const std::string &text) {
    if (text.size() <= kMaxLoggedContent) {
        j[field] = text;
        return;
    }
    std::string cut = text.substr(0, kMaxLoggedContent);
    while (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80) cut.pop_back();
    if (!cut.empty() && static_cast<unsigned char>(cut.back()) >= 0xC0) cut.pop_back();
    j[field] = std::move(cut);
    j[std::string(field) + "_truncated"] = true;
}

} // namespace

std::string target_header_value(std::string_view target) {
    std::string out(target.substr(0, 200));
    for (char &c : out)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '_';
    return out;
}

std::string request_log_line(const RequestRecord &r, bool with_content) {
    nlohmann::ordered_json j; // fields in the documented order
    j["time"] = utc_now();
    j["request_id"] = r.id;
    j["key"] = r.key;
    j["endpoint"] = r.endpoint;
    if (r.provider.empty()) { // the request never reached a provider
        j["provider"] = nullptr;
        j["model"] = nullptr;
    } else {
        j["provider"] = r.provider;
        j["model"] = r.model;
    }
    if (!r.target.empty()) j["target"] = r.target;
    j["status"] = r.status;
    if (!r.error.empty()) j["error"] = r.error;
    j["stream"] = r.stream;
    if (r.has_usage) {
        j["prompt_tokens"] = r.prompt_tokens;
        j["completion_tokens"] = r.completion_tokens;
        j["reasoning_tokens"] = r.reasoning_tokens;
    }
    if (r.ttft_ms >= 0)
        j["ttft_ms"] = round_ms(r.ttft_ms);
    else
        j["ttft_ms"] = nullptr;
    j["total_ms"] = round_ms(r.total_ms);
    if (with_content) {
        put_content(j, "request_body", r.request_body);
        if (r.generation) put_content(j, "output", r.output);
    }
    // Invalid UTF-8 from a client becomes U+FFFD instead of an exception.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace llmhost::server
