// The Hub's error codes (X-Error-Code / X-Error-Message, spec §3) turned into messages that say
// what is wrong and what the user should do next. Never includes the token.
#include "errors.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace llmhost::hub::detail {

namespace {
std::string server_message(const net::Response &r, std::string_view body) {
    std::string msg = r.headers.get("X-Error-Message").value_or("");
    if (!body.empty()) {
        auto j = nlohmann::json::parse(body, nullptr, false);
        if (j.is_object() && j.contains("error") && j["error"].is_string()) {
            std::string e = j["error"].get<std::string>();
            if (e != msg) msg = msg.empty() ? e : msg + " (" + e + ")";
        }
    }
    if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
    return msg;
}

std::string what_of(const ErrorContext &c) {
    std::string repo = std::string(repo_type_name(c.repo_type)) + " '" + c.repo_id + "'";
    if (!c.filename.empty()) return "file '" + c.filename + "' of " + repo;
    return repo;
}
} // namespace

llmh::Error cancelled_error() {
    return llmh::Error(LLMH_ERR_CANCELLED, "download cancelled",
                       "run the same command again to resume: finished files are kept and "
                       "partial ones continue where they stopped");
}

bool is_retryable(const net::Response &r) {
    // An unknown host name will not resolve in a second: fail fast (then the cache is tried).
    if (r.curl_code == CURLE_COULDNT_RESOLVE_HOST || r.curl_code == CURLE_COULDNT_RESOLVE_PROXY) return false;
    if (r.error != net::Error::none) return net::is_retryable_error(r.error);
    return net::is_retryable_status(r.status);
}

llmh::Error transport_error(const net::Response &r, const ErrorContext &c) {
    const std::string host = c.endpoint ? c.endpoint->base() : "the Hub";
    switch (r.error) {
    case net::Error::cancelled: return cancelled_error();
    case net::Error::timeout:
        return llmh::Error(LLMH_ERR_TIMEOUT, "timed out talking to " + host + " about " + what_of(c) + ": " + r.error_message,
                           "check your connection; on a slow link raise HF_HUB_ETAG_TIMEOUT (metadata) or "
                           "HF_HUB_DOWNLOAD_TIMEOUT (downloads), in seconds; HF_HUB_OFFLINE=1 uses only the cache");
    case net::Error::too_many_redirects:
    case net::Error::invalid_request:
        return llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "bad request to " + host + ": " + r.error_message,
                           "check HF_ENDPOINT (it must be an http:// or https:// URL)");
    default:
        return llmh::Error(LLMH_ERR_NETWORK, "could not reach " + host + " for " + what_of(c) + ": " + r.error_message,
                           "check your network connection and HF_ENDPOINT; set HF_HUB_OFFLINE=1 to use only "
                           "files already in the cache");
    }
}

llmh::Error http_error(const net::Response &r, std::string_view body, const ErrorContext &c) {
    const std::string code = r.headers.get("X-Error-Code").value_or("");
    const std::string smsg = server_message(r, body);
    const std::string web = c.endpoint ? c.endpoint->web_url(c.repo_type, c.repo_id) : c.repo_id;
    const std::string tokens = c.endpoint ? c.endpoint->settings_tokens_url() : "https://huggingface.co/settings/tokens";
    const std::string set_token =
        "create a token at " + tokens + " and set it in HF_TOKEN (or the provider's `token` config, "
        "or run `huggingface-cli login` to write $HF_HOME/token)";
    const int s = r.status;
    auto suffix = [&] { return smsg.empty() ? std::string() : " (server: " + smsg + ")"; };

    if (code == "RevisionNotFound")
        return llmh::Error(LLMH_ERR_NOT_FOUND,
                           "revision '" + c.revision + "' not found in " + std::string(repo_type_name(c.repo_type)) +
                               " '" + c.repo_id + "'" + suffix(),
                           "check the branch, tag or commit; the repo's branches are listed at " + web + "/tree/main",
                           s);
    if (code == "EntryNotFound")
        return llmh::Error(LLMH_ERR_NOT_FOUND,
                           "file '" + c.filename + "' not found in '" + c.repo_id + "' at revision '" + c.revision + "'" + suffix(),
                           "check the file name (case matters); the repo's files are listed at " + web + "/tree/" +
                               (c.revision.empty() ? "main" : c.revision),
                           s);
    if (code == "GatedRepo") {
        if (!c.has_token || s == 401)
            return llmh::Error(LLMH_ERR_AUTH_REQUIRED,
                               "'" + c.repo_id + "' is a gated repo and no Hugging Face token was sent" + suffix(),
                               "accept the license at " + web + " with your account, then " + set_token, s);
        return llmh::Error(LLMH_ERR_GATED,
                           "access to gated repo '" + c.repo_id + "' was refused for this token" + suffix(),
                           "accept the license at " + web + " and wait until access is granted; the token's account "
                           "must be the one that was granted access (fine-grained tokens also need 'read access to "
                           "public gated repos')",
                           s);
    }
    if (smsg.find("Access to this resource is disabled.") != std::string::npos)
        return llmh::Error(LLMH_ERR_NOT_FOUND, "'" + c.repo_id + "' has been disabled by its owner or the Hub",
                           "use another repo; disabled repos cannot be downloaded", s);
    if (s == 401 && r.headers.get("X-Error-Message").value_or("") == "Invalid credentials in Authorization header")
        return llmh::Error(LLMH_ERR_AUTH_INVALID,
                           "the Hugging Face token was rejected by " + (c.endpoint ? c.endpoint->base() : std::string("the Hub")) +
                               " (invalid, expired or revoked)",
                           "check that HF_TOKEN holds the whole token (hf_...); " + set_token, s);
    if (code == "RepoNotFound" || s == 401 || (s == 404 && c.filename.empty())) {
        if (!c.has_token)
            return llmh::Error(s == 401 ? LLMH_ERR_AUTH_REQUIRED : LLMH_ERR_NOT_FOUND,
                               "repository '" + c.repo_id + "' was not found, or it is private and no Hugging Face "
                               "token was sent" + suffix(),
                               "check the repo id (" + web + "); if the repo is private, " + set_token, s);
        return llmh::Error(LLMH_ERR_NOT_FOUND,
                           "repository '" + c.repo_id + "' was not found, or this token's account cannot see it" + suffix(),
                           "check the repo id (" + web + "); if it is private, ask its owner for access or use a "
                           "token of an account that has it",
                           s);
    }
    if (s == 404)
        return llmh::Error(LLMH_ERR_NOT_FOUND, what_of(c) + " not found at revision '" + c.revision + "'" + suffix(),
                           "check the file name and revision at " + web, s);
    if (s == 403)
        return llmh::Error(LLMH_ERR_AUTH_INVALID, "access to " + what_of(c) + " is forbidden for this token" + suffix(),
                           "a fine-grained token needs read access to this repo; create one with the right scope at " + tokens,
                           s);
    if (s == 429) {
        auto wait = net::parse_retry_after(r.headers);
        double secs = wait ? std::ceil(wait->count() / 1000.0) : 0;
        std::string n = wait ? std::to_string(static_cast<long long>(secs)) + " s" : "a minute";
        return llmh::Error(LLMH_ERR_RATE_LIMITED, "rate limited by " + (c.endpoint ? c.endpoint->base() : std::string("the Hub")) +
                               " while fetching " + what_of(c) + "; retry after " + n,
                           c.has_token ? "wait " + n + " and run the command again"
                                       : "wait " + n + " and run the command again; requests with a token get a higher "
                                         "limit: " + set_token,
                           s, secs);
    }
    if (s == 416)
        return llmh::Error(LLMH_ERR_NETWORK, "the server refused to resume " + what_of(c) + " (416 Range Not Satisfiable)",
                           "run the command again; the partial file is restarted", s);
    if (s == 400)
        return llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "bad request for " + what_of(c) + suffix(),
                           "check the repo id, revision and file name", s);
    if (s >= 500)
        return llmh::Error(LLMH_ERR_NETWORK, "server error " + std::to_string(s) + " for " + what_of(c) + suffix(),
                           "the Hub (or HF_ENDPOINT) is having trouble; retry later", s);
    return llmh::Error(LLMH_ERR_NETWORK, "unexpected HTTP " + std::to_string(s) + " for " + what_of(c) + suffix(),
                       "retry later; if it persists, check HF_ENDPOINT", s);
}

llmh::Error retry_after_error(const net::Response &r, net::Millis wait, net::Millis max, const ErrorContext &c) {
    const double secs = std::ceil(static_cast<double>(wait.count()) / 1000.0);
    const std::string n = std::to_string(static_cast<long long>(secs)) + " s";
    const std::string host = c.endpoint ? c.endpoint->base() : std::string("the Hub");
    return llmh::Error(LLMH_ERR_RATE_LIMITED,
                       host + " answered HTTP " + std::to_string(r.status) + " for " + what_of(c) +
                           " and asked to retry after " + n + ", longer than the " +
                           std::to_string(max.count() / 1000) + " s this client waits; gave up",
                       "run the command again after " + n + ", or raise the huggingface provider's "
                       "`max_retry_after` config (seconds) to wait that long",
                       r.status, secs);
}

llmh::Error response_error(const net::Response &r, std::string_view body, const ErrorContext &c) {
    if (r.error != net::Error::none) return transport_error(r, c);
    return http_error(r, body, c);
}

} // namespace llmhost::hub::detail
