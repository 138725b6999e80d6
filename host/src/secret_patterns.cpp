#include "secret_patterns.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace llmhost::detail {

namespace {

bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }
bool is_lower_or_digit(char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
}

template <size_t N>
bool one_of(std::string_view w, const std::array<std::string_view, N> &set) {
    return std::find(set.begin(), set.end(), w) != set.end();
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string> words_of(std::string_view key) {
    std::vector<std::string> words;
    std::string snake = snake_case_key(key);
    for (size_t start = 0; start <= snake.size();) {
        size_t end = snake.find('_', start);
        if (end == std::string::npos) end = snake.size();
        if (end > start) words.push_back(snake.substr(start, end - start));
        start = end + 1;
    }
    return words;
}

// A word that names a credential; matched as a suffix so run-together names ("hftoken",
// "clientsecret", "apikey") count, while "tokens" and "tokenizer" do not.
constexpr std::array<std::string_view, 13> kSecretWordSuffixes = {
    "token",     "secret",     "password",    "passwd", "passphrase",    "apikey", "privatekey",
    "accesskey", "credential", "credentials", "cookie", "authorization", "bearer"};
// The last word says the value is about a credential, not the credential: token_file, api_key_env.
constexpr std::array<std::string_view, 18> kDescriptorWords = {
    "file", "path", "env", "var", "variable", "name",  "names", "type",   "kind",
    "url",  "uri",  "dir", "id",  "ids",      "count", "limit", "length", "size"};
// The first word says the value is an amount: max_token, num_token.
constexpr std::array<std::string_view, 4> kAmountWords = {"max", "min", "num", "n"};
// Tokenizer special tokens are text, not credentials: eos_token, pad_token, ...
constexpr std::array<std::string_view, 11> kSpecialTokens = {
    "bos", "eos", "pad", "unk", "sep", "cls", "mask", "stop", "start", "end", "eot"};
// "key" next to one of these is an identifier, not a credential: cache_key, public_key.
constexpr std::array<std::string_view, 10> kPlainKeyWords = {
    "cache",   "sort",  "primary", "foreign", "partition",
    "routing", "group", "lookup",  "public",  "idempotency"};

} // namespace

std::string snake_case_key(std::string_view key) {
    std::string out;
    auto sep = [&] {
        if (!out.empty() && out.back() != '_') out += '_';
    };
    for (size_t i = 0; i < key.size(); ++i) {
        char c = key[i];
        if (c == '_' || c == '-' || c == '.' || c == ' ' || c == '\t') {
            sep();
            continue;
        }
        if (is_upper(c) && i > 0) {
            bool after_lower = is_lower_or_digit(key[i - 1]);
            bool hump_end = is_upper(key[i - 1]) && i + 1 < key.size() &&
                            std::islower(static_cast<unsigned char>(key[i + 1]));
            if (after_lower || hump_end) sep(); // apiKey -> api_key, HFToken -> hf_token
        }
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    return out;
}

bool looks_like_secret_key(std::string_view key) {
    const auto words = words_of(key);
    if (words.empty()) return false;
    if (one_of(words.back(), kDescriptorWords) && words.size() > 1) return false;
    if (one_of(words.front(), kAmountWords) && words.size() > 1) return false;
    if (words.size() == 2 && words[1] == "token" && one_of(words[0], kSpecialTokens)) return false;
    bool plain_key = std::any_of(words.begin(), words.end(),
                                 [](const std::string &w) { return one_of(w, kPlainKeyWords); });
    for (const auto &w : words) {
        if (w == "key" && !plain_key) return true;
        for (auto s : kSecretWordSuffixes)
            if (ends_with(w, s)) return true;
    }
    return false;
}

void mask_secret_keys(nlohmann::json &value, const std::string &mask) {
    if (value.is_object()) {
        for (auto &[k, v] : value.items()) {
            bool empty = v.is_null() || (v.is_string() && v.get_ref<const std::string &>().empty());
            if (looks_like_secret_key(k) && !empty)
                v = mask;
            else
                mask_secret_keys(v, mask);
        }
    } else if (value.is_array()) {
        for (auto &v : value) mask_secret_keys(v, mask);
    }
}

static void collect_strings(const nlohmann::json &value, std::vector<std::string> &out) {
    if (value.is_string())
        out.push_back(value.get<std::string>());
    else if (value.is_structured())
        for (const auto &v : value) collect_strings(v, out);
}

void collect_secret_key_values(const nlohmann::json &value, std::vector<std::string> &out) {
    if (value.is_object()) {
        for (const auto &[k, v] : value.items()) {
            if (looks_like_secret_key(k))
                collect_strings(v, out);
            else
                collect_secret_key_values(v, out);
        }
    } else if (value.is_array()) {
        for (const auto &v : value) collect_secret_key_values(v, out);
    }
}

// Where a URL's authority ends in running text: the path, query or fragment, or anything that
// cannot be part of a URL (whitespace, quotes, brackets of the surrounding text).
static bool ends_authority(char c) {
    return c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>' ||
           c == '`' || c == '\\' || std::isspace(static_cast<unsigned char>(c));
}

static bool scheme_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

std::string redact_url_userinfo(std::string_view text, std::string_view mask) {
    std::string out;
    size_t copied = 0;
    for (size_t p = text.find("://"); p != std::string_view::npos; p = text.find("://", p + 3)) {
        if (p == 0 || !scheme_char(text[p - 1])) continue;
        size_t start = p + 3, end = start;
        while (end < text.size() && !ends_authority(text[end])) ++end;
        size_t at = text.substr(start, end - start).rfind('@');
        if (at == std::string_view::npos || at == 0) continue;
        if (text.substr(start, at) == mask) continue;
        out.append(text.substr(copied, start - copied));
        out.append(mask);
        copied = start + at; // keep "@host..."
        p = start + at;
    }
    out.append(text.substr(copied));
    return out;
}

std::vector<std::string> url_userinfo_parts(std::string_view url) {
    std::vector<std::string> parts;
    size_t p = url.find("://");
    if (p == std::string_view::npos) return parts;
    size_t start = p + 3, end = start;
    while (end < url.size() && !ends_authority(url[end])) ++end;
    size_t at = url.substr(start, end - start).rfind('@');
    if (at == std::string_view::npos || at == 0) return parts;
    std::string_view userinfo = url.substr(start, at);
    parts.emplace_back(userinfo);
    if (size_t colon = userinfo.find(':');
        colon != std::string_view::npos && colon + 1 < userinfo.size())
        parts.emplace_back(userinfo.substr(colon + 1));
    return parts;
}

static bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string trim_secret(std::string_view raw) {
    size_t b = 0, e = raw.size();
    while (b < e && blank(raw[b])) ++b;
    while (e > b && blank(raw[e - 1])) --e;
    return std::string(raw.substr(b, e - b));
}

std::string first_line_trimmed(std::string_view text) {
    size_t b = 0;
    while (b < text.size() && blank(text[b])) ++b;
    size_t e = text.find_first_of("\r\n", b);
    return trim_secret(
        text.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
}

bool has_control_char(std::string_view value) {
    return std::any_of(value.begin(), value.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

} // namespace llmhost::detail
