#include "openai_api.hpp"

#include "random_id.hpp"

#include <llmhost/host.h>
#include <llmhost/plugin.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>

namespace llmhost::server {
namespace {

using nlohmann::json;

json null_or(const std::string &s) { return s.empty() ? json(nullptr) : json(s); }

json usage_json(const GenerateResult &r) {
    return {{"prompt_tokens", r.prompt_tokens},
            {"completion_tokens", r.completion_tokens},
            {"total_tokens", r.prompt_tokens + r.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", r.cached_tokens}}},
            {"completion_tokens_details", {{"reasoning_tokens", r.reasoning_tokens}}}};
}

std::string sse(const json &j) { return "data: " + j.dump() + "\n\n"; }

json chunk_base(const ResponseMeta &m) {
    return {{"id", m.id},
            {"object", m.chat ? "chat.completion.chunk" : "text_completion"},
            {"created", m.created},
            {"model", m.model}};
}

json stream_choice(const ResponseMeta &m, json delta_or_text, const json &finish,
                   json logprobs = nullptr) {
    if (m.chat)
        return {{"index", 0},
                {"delta", std::move(delta_or_text)},
                {"logprobs", std::move(logprobs)},
                {"finish_reason", finish}};
    return {{"index", 0},
            {"text", std::move(delta_or_text)},
            {"logprobs", std::move(logprobs)},
            {"finish_reason", finish}};
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto hex = [](char c) {
            return c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
        };
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

} // namespace

std::string error_body(const ApiError &e) {
    json j = {{"error",
               {{"message", e.message},
                {"type", e.type},
                {"param", null_or(e.param)},
                {"code", null_or(e.code)}}}};
    return j.dump();
}

std::optional<ModelTarget> resolve_model(std::string_view name,
                                         const std::vector<std::string> &providers,
                                         const std::string &default_provider, ApiError &err) {
    auto known = [&](std::string_view p) {
        return std::find(providers.begin(), providers.end(), p) != providers.end();
    };
    if (name.empty()) {
        if (known(default_provider)) return ModelTarget{default_provider, ""};
    } else if (known(name)) {
        return ModelTarget{std::string(name), ""};
    } else if (auto slash = name.find('/');
               slash != std::string_view::npos && known(name.substr(0, slash))) {
        return ModelTarget{std::string(name.substr(0, slash)), std::string(name.substr(slash + 1))};
    } else if (known(default_provider)) {
        return ModelTarget{default_provider, std::string(name)}; // e.g. an HF id "org/model"
    }
    err = ApiError{};
    err.status = 404;
    err.param = "model";
    err.code = "model_not_found";
    std::string list;
    for (const auto &p : providers) list += (list.empty() ? "" : ", ") + p;
    err.message = name.empty() ? "no 'model' given and no default provider is configured"
                               : "the model '" + std::string(name) + "' does not exist";
    err.message += "; use \"<provider>\" or \"<provider>/<model>\" with one of the configured "
                   "providers: " +
                   (list.empty() ? std::string("(none)") : list) + " (GET /v1/models lists them)";
    return std::nullopt;
}

ApiError map_backend_code(const BackendError &e, const std::string &provider);

ApiError api_error_from_backend(const BackendError &e, const std::string &provider) {
    ApiError a = map_backend_code(e, provider);
    // A provider's configuration, not the request, failed (the host marks every create failure,
    // a plugin marks what it detects later): the client cannot fix it, the operator can.
    if (e.http_status >= 500 && a.status < 500) {
        a.status = 500;
        a.type = "server_error";
        a.code = "provider_misconfigured";
        a.param.clear();
        a.should_retry = false;
        a.message = "provider '" + provider + "' is misconfigured on the server: " + e.what() +
                    " (the server's log has the fix)";
    }
    return a;
}

ApiError map_backend_code(const BackendError &e, const std::string &provider) {
    ApiError a;
    a.message = std::string(e.what()) + (e.hint.empty() ? "" : " (" + e.hint + ")");
    switch (e.code) {
    case LLMH_ERR_INVALID_ARGUMENT: a.status = 400; break;
    case LLMH_ERR_CONTEXT_OVERFLOW:
        a.status = 400;
        a.code = "context_length_exceeded";
        break;
    case LLMH_ERR_UNSUPPORTED:
        a.status = 400;
        a.code = "unsupported";
        break;
    case LLMH_ERR_NOT_FOUND:
        a.status = 404;
        a.code = "model_not_found";
        a.param = "model";
        break;
    case LLMH_ERR_RATE_LIMITED:
        a.status = 429;
        a.type = "rate_limit_error";
        a.code = "rate_limit_exceeded";
        a.retry_after_s = e.retry_after_s > 0 ? e.retry_after_s : 1;
        break;
    case LLMH_ERR_AUTH_REQUIRED:
    case LLMH_ERR_AUTH_INVALID:
    case LLMH_ERR_GATED:
        // The provider's own credentials failed: the client cannot fix that by retrying.
        a.status = 502;
        a.type = "server_error";
        a.code = "provider_auth";
        a.should_retry = false;
        a.message = "provider '" + provider + "' could not authenticate upstream: " + a.message;
        break;
    case LLMH_ERR_NETWORK:
        a.status = 502;
        a.type = "server_error";
        break;
    case LLMH_ERR_TIMEOUT:
        a.status = 504;
        a.type = "server_error";
        break;
    case LLMH_ERR_CANCELLED:
        a.status = 499;
        a.type = "server_error";
        a.code = "cancelled";
        break;
    case LLMHOST_ERR_NO_PROVIDER:
        a.status = 404;
        a.code = "model_not_found";
        a.param = "model";
        break;
    case LLMHOST_ERR_CONFIG: // the server's configuration file or environment
        a.status = 500;
        a.type = "server_error";
        a.code = "invalid_config";
        a.should_retry = false;
        break;
    case LLMHOST_ERR_PLUGIN:
        a.status = 500;
        a.type = "server_error";
        a.code = "plugin_failed";
        a.should_retry = false;
        break;
    default:
        a.status = 500;
        a.type = "server_error";
        a.should_retry = false;
        break;
    }
    return a;
}

ResponseMeta make_response_meta(bool chat, std::string model) {
    ResponseMeta m;
    m.chat = chat;
    m.id = (chat ? "chatcmpl-" : "cmpl-") + random_hex(16);
    m.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    m.model = std::move(model);
    return m;
}

std::string finish_reason_name(llmh_finish_reason reason) {
    switch (reason) {
    case LLMH_FINISH_LENGTH: return "length";
    case LLMH_FINISH_TOOL_CALLS: return "tool_calls";
    default: return "stop";
    }
}

std::string completion_body(const ResponseMeta &m, const GenerateResult &r, const json &logprobs) {
    json choice;
    const std::string finish = finish_reason_name(r.finish_reason);
    if (m.chat) {
        json message = {
            {"role", "assistant"},
            {"content", r.text.empty() && !r.tool_calls.empty() ? json(nullptr) : json(r.text)},
            {"refusal", nullptr}};
        if (!r.tool_calls.empty()) {
            json calls = json::array();
            for (const auto &c : r.tool_calls)
                calls.push_back({{"id", c.id},
                                 {"type", "function"},
                                 {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
            message["tool_calls"] = std::move(calls);
        }
        if (!r.reasoning.empty()) message["reasoning_content"] = r.reasoning;
        choice = {{"index", 0},
                  {"message", std::move(message)},
                  {"logprobs", logprobs},
                  {"finish_reason", finish}};
    } else {
        choice = {
            {"index", 0}, {"text", r.text}, {"logprobs", logprobs}, {"finish_reason", finish}};
    }
    json j = {{"id", m.id},
              {"object", m.chat ? "chat.completion" : "text_completion"},
              {"created", m.created},
              {"model", m.model},
              {"choices", json::array({choice})},
              {"usage", usage_json(r)}};
    return j.dump();
}

std::string sse_role_chunk(const ResponseMeta &m) {
    json j = chunk_base(m);
    j["choices"] = json::array({stream_choice(
        m, m.chat ? json{{"role", "assistant"}, {"content", ""}} : json(""), nullptr)});
    return sse(j);
}

std::string sse_content_chunk(const ResponseMeta &m, std::string_view piece, const json &logprobs) {
    json j = chunk_base(m);
    std::string text(piece);
    j["choices"] = json::array(
        {stream_choice(m, m.chat ? json{{"content", text}} : json(text), nullptr, logprobs)});
    return sse(j);
}

std::string sse_reasoning_chunk(const ResponseMeta &m, std::string_view piece) {
    json j = chunk_base(m);
    j["choices"] =
        json::array({stream_choice(m, json{{"reasoning_content", std::string(piece)}}, nullptr)});
    return sse(j);
}

std::string sse_tool_call_start_chunk(const ResponseMeta &m, uint32_t index, std::string_view id,
                                      std::string_view name) {
    json call = {{"index", index},
                 {"id", std::string(id)},
                 {"type", "function"},
                 {"function", {{"name", std::string(name)}, {"arguments", ""}}}};
    json j = chunk_base(m);
    j["choices"] =
        json::array({stream_choice(m, json{{"tool_calls", json::array({call})}}, nullptr)});
    return sse(j);
}

std::string sse_tool_call_args_chunk(const ResponseMeta &m, uint32_t index,
                                     std::string_view piece) {
    json call = {{"index", index}, {"function", {{"arguments", std::string(piece)}}}};
    json j = chunk_base(m);
    j["choices"] =
        json::array({stream_choice(m, json{{"tool_calls", json::array({call})}}, nullptr)});
    return sse(j);
}

std::string sse_finish_chunk(const ResponseMeta &m, const std::string &finish_reason,
                             bool include_usage, const json &logprobs) {
    json j = chunk_base(m);
    j["choices"] = json::array(
        {stream_choice(m, m.chat ? json::object() : json(""), finish_reason, logprobs)});
    if (include_usage) j["usage"] = nullptr;
    return sse(j);
}

std::string sse_usage_chunk(const ResponseMeta &m, const GenerateResult &r) {
    json j = chunk_base(m);
    j["choices"] = json::array();
    j["usage"] = usage_json(r);
    return sse(j);
}

std::string sse_error_event(const ApiError &e) { return "data: " + error_body(e) + "\n\n"; }

std::string public_model_id(const std::string &provider, const std::string &model) {
    if (model.empty()) return provider;
    std::string m = model;
    // A local directory: never show the server's path, only the directory's name.
    if (m.front() == '/' || m.rfind("./", 0) == 0 || m.rfind("../", 0) == 0 ||
        m.rfind("~/", 0) == 0) {
        while (m.size() > 1 && m.back() == '/') m.pop_back();
        m = m.substr(m.find_last_of('/') + 1);
    }
    return provider + "/" + m;
}

json model_object(const ModelEntry &e) {
    return {{"id", public_model_id(e.provider, e.model)},
            {"object", "model"},
            {"created", 0},
            {"owned_by", e.provider}};
}

std::string models_body(const std::vector<ModelEntry> &entries) {
    json data = json::array();
    for (const auto &e : entries) data.push_back(model_object(e));
    return json{{"object", "list"}, {"data", std::move(data)}}.dump();
}

std::optional<std::string> model_body(const std::vector<ModelEntry> &entries,
                                      std::string_view encoded_id, ApiError &err) {
    const std::string id = percent_decode(encoded_id);
    for (const auto &e : entries)
        if (public_model_id(e.provider, e.model) == id) return model_object(e).dump();
    err = ApiError{};
    err.status = 404;
    err.param = "model";
    err.code = "model_not_found";
    err.message = "the model '" + id + "' does not exist; GET /v1/models lists the ids";
    return std::nullopt;
}

} // namespace llmhost::server
