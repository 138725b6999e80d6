// The host's secret rules on their own (host/src/secret_patterns.*, json_locator's excerpt,
// config_file's parse-error text): which key names are credentials, URL userinfo, trimming,
// control characters, and what a syntax error may quote. Compiled from the host's sources.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "config_file.hpp"
#include "json_locator.hpp"
#include "redactor.hpp"
#include "secret_patterns.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace llmhost::detail;

namespace {
const std::string kCanary = "CANARY-7f3a-rules-9c1e";
// Says where, never what: a failing check must not print the canary.
bool contains_canary(const std::string &text) { return text.find(kCanary) != std::string::npos; }
bool contains_part_of_canary(const std::string &text) {
    return text.find("7f3a") != std::string::npos || text.find("9c1e") != std::string::npos;
}
} // namespace

TEST_CASE("key names: snake_case normalization") {
    CHECK(snake_case_key("apiKey") == "api_key");
    CHECK(snake_case_key("API_KEY") == "api_key");
    CHECK(snake_case_key("ApiKey") == "api_key");
    CHECK(snake_case_key("x-api-key") == "x_api_key");
    CHECK(snake_case_key("HFToken") == "hf_token");
    CHECK(snake_case_key("Authorization") == "authorization");
    CHECK(snake_case_key("max_tokens") == "max_tokens");
}

TEST_CASE("key names: credentials in any case and shape are secret") {
    for (const char *k : {"token",
                          "Token",
                          "TOKEN",
                          "api_key",
                          "API_KEY",
                          "apiKey",
                          "ApiKey",
                          "apikey",
                          "x-api-key",
                          "X-Api-Key",
                          "auth_token",
                          "authToken",
                          "hf_token",
                          "HF_TOKEN",
                          "hfToken",
                          "access_token",
                          "accessToken",
                          "bearer_token",
                          "token_value",
                          "client_secret",
                          "clientSecret",
                          "secret",
                          "password",
                          "Password",
                          "db_password",
                          "passwd",
                          "passphrase",
                          "private_key",
                          "privateKey",
                          "key",
                          "signing_key",
                          "secret_key",
                          "Authorization",
                          "authorization",
                          "Proxy-Authorization",
                          "cookie",
                          "Cookie",
                          "Set-Cookie",
                          "credentials",
                          "credential",
                          "aws_secret_access_key"}) {
        INFO(k);
        CHECK(looks_like_secret_key(k));
    }
}

TEST_CASE("key names: ordinary options are not secret") {
    for (const char *k : {"max_tokens",     "maxTokens",
                          "max_new_tokens", "tokens",
                          "tokenizer",      "tokenizer_path",
                          "top_k",          "top_p",
                          "model",          "device",
                          "base_url",       "endpoint",
                          "keys",           "keep_alive",
                          "monkey",         "token_file",
                          "tokenFile",      "api_key_env",
                          "password_path",  "token_limit",
                          "token_type",     "eos_token",
                          "pad_token",      "bos_token",
                          "eos_token_id",   "cache_key",
                          "public_key",     "max_token",
                          "prompt_tokens",  "completion_tokens",
                          "secret_name",    "report_secret_name",
                          "stop",           "temperature",
                          "auth",           "headers",
                          "offline"}) {
        INFO(k);
        CHECK_FALSE(looks_like_secret_key(k));
    }
}

TEST_CASE("key names: nested credential values are masked at any depth") {
    nlohmann::json cfg = {{"model", "m"},
                          {"max_tokens", 64},
                          {"auth", {{"token", kCanary}, {"kind", "bearer"}}},
                          {"headers", {{"Authorization", "Bearer " + kCanary}, {"Accept", "json"}}},
                          {"list", {{{"apiKey", kCanary}}}},
                          {"Token", kCanary},
                          {"password", ""},
                          {"credentials", {{"user", "u"}, {"pass", kCanary}}}};
    nlohmann::json shown = cfg;
    mask_secret_keys(shown, "[redacted]");
    CHECK_FALSE(contains_canary(shown.dump()));
    CHECK(shown["auth"]["kind"] == "bearer");
    CHECK(shown["auth"]["token"] == "[redacted]");
    CHECK(shown["headers"]["Accept"] == "json");
    CHECK(shown["max_tokens"] == 64);
    CHECK(shown["password"] == ""); // "not set" stays visible
    CHECK(shown["credentials"] == "[redacted]");
    std::vector<std::string> values;
    collect_secret_key_values(cfg, values);
    size_t canaries = 0;
    for (const auto &v : values) canaries += contains_canary(v);
    CHECK(canaries == 5);
}

TEST_CASE("URL userinfo is redacted in any text") {
    const std::string mask = "[redacted]";
    CHECK(redact_url_userinfo("https://user:" + kCanary + "@host.example/v1", mask) ==
          "https://[redacted]@host.example/v1");
    CHECK(
        redact_url_userinfo("see http://" + kCanary + "@127.0.0.1:9/x and https://a:b@c/", mask) ==
        "see http://[redacted]@127.0.0.1:9/x and https://[redacted]@c/");
    CHECK(redact_url_userinfo("HF_ENDPOINT=https://u:p@h", mask) ==
          "HF_ENDPOINT=https://[redacted]@h");
    CHECK(redact_url_userinfo("\"base_url\": \"https://k:" + kCanary + "@h/v1\"", mask) ==
          "\"base_url\": \"https://[redacted]@h/v1\"");
    // No userinfo, or an '@' in the path: unchanged.
    CHECK(redact_url_userinfo("https://host/@org/pkg user@example.com", mask) ==
          "https://host/@org/pkg user@example.com");
    CHECK(redact_url_userinfo("https://[redacted]@h/", mask) == "https://[redacted]@h/");
    auto parts = url_userinfo_parts("https://user:" + kCanary + "@h/");
    REQUIRE(parts.size() == 2);
    CHECK(parts[0] == "user:" + kCanary);
    CHECK(parts[1] == kCanary);
    CHECK(url_userinfo_parts("https://h/x@y").empty());
    Redactor r;
    CHECK(r.redact("GET https://me:" + kCanary + "@h/x failed") ==
          "GET https://[redacted]@h/x failed");
}

TEST_CASE("trim rules: surrounding whitespace, and a file gives its first non-blank line") {
    CHECK(trim_secret(kCanary + "\n") == kCanary);
    CHECK(trim_secret(" \t" + kCanary + "\r\n") == kCanary);
    CHECK(trim_secret("a\nb") == "a\nb"); // inside: kept (and then refused as a control char)
    CHECK(first_line_trimmed(kCanary + "\nsecond-line\n") == kCanary);
    CHECK(first_line_trimmed("\n\n  " + kCanary + " \r\nsecond") == kCanary);
    CHECK(first_line_trimmed("") == "");
    CHECK(first_line_trimmed(" \n \n") == "");
}

TEST_CASE("control characters are detected") {
    CHECK(has_control_char("abc\r\nX-Injected: 1"));
    CHECK(has_control_char(std::string("a\0b", 3)));
    CHECK(has_control_char("a\tb"));
    CHECK(has_control_char("a\x7f"));
    CHECK_FALSE(has_control_char(kCanary));
    CHECK_FALSE(has_control_char("hf_…ünïcode"));
}

TEST_CASE("parse errors: nlohmann's quoted text is dropped") {
    const std::string what = "[json.exception.parse_error.101] parse error at line 3, column 20: "
                             "syntax error while parsing value - invalid string: control character "
                             "U+000A (LF) must be escaped to \\u000A or \\n; last read: '\"" +
                             kCanary + "<U+000A>'";
    std::string d = parse_error_description(what);
    CHECK_FALSE(contains_canary(d));
    CHECK(d.rfind("syntax error while parsing value - invalid string", 0) == 0);
    const std::string with_expected = "parse error at line 1, column 3: syntax error while parsing "
                                      "object - invalid literal; last read: '" +
                                      kCanary + "'; expected '}'";
    CHECK(parse_error_description(with_expected) ==
          "syntax error while parsing object - invalid literal; expected '}'");
    // A quoted text that imitates the suffix does not smuggle itself through.
    const std::string tricky = "parse error: x; last read: '" + kCanary + "'; expected 'evil'";
    CHECK_FALSE(contains_canary(parse_error_description(tricky)));
}

TEST_CASE("parse errors: the excerpt hides values and bare words, keeps parsed keys") {
    // A raw newline inside the string (the error points at its opening quote).
    std::string text =
        "{\n  \"providers\": {\"p\": {\"secrets\": {\"token\": \"" + kCanary + "\n\"}}}}";
    size_t at = text.find("\"" + kCanary);
    std::string ex = redacted_excerpt(text, at);
    CHECK_FALSE(contains_part_of_canary(ex));
    CHECK(ex.find("  2 | ") == 0);
    CHECK(ex.find("\"token\": \"…") != std::string::npos);
    CHECK(ex.find("\"providers\"") != std::string::npos);
    // The caret sits under the value's opening quote.
    auto nl = ex.find('\n');
    CHECK(ex.find('^', nl) - nl == ex.find("\"…") + 1);

    // A missing opening quote: the secret is a bare word.
    text = "{\"token\": " + kCanary + "\", \"other\": 1}";
    ex = redacted_excerpt(text, text.find(kCanary));
    CHECK_FALSE(contains_part_of_canary(ex));
    CHECK(ex.find("…") != std::string::npos);

    // A missing closing quote: later keys are not shown as keys once the error is before them,
    // and a string that ends in ':' is not a key unless it followed '{' or ','.
    text = "{\"token\": \"" + kCanary + "\": 1}";
    ex = redacted_excerpt(text, text.find("\": 1"));
    CHECK_FALSE(contains_part_of_canary(ex));

    // One long minified line: cut around the caret.
    text = "{\"a\": \"" + std::string(500, 'x') + "\", \"token\": \"" + kCanary + "\n\"}";
    ex = redacted_excerpt(text, text.find("\"" + kCanary));
    CHECK_FALSE(contains_part_of_canary(ex));
    CHECK(ex.size() < 400);
}
