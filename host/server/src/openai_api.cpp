#include "openai_api.hpp"

#include <llmhost/host.h>
#include <llmhost/plugin.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

namespace llmhost::server {
namespace {

using nlohmann::json;

json null_or(const std::string &s) { return s.empty() ? json(nullptr) : json(s); }

std::optional<ParsedRequest> fail(ApiError &err, std::string message, std::string param,
                                  std::string code = {}) {
    err = ApiError{};
    err.status = 400;
    err.message = std::move(message);
    err.param = std::move(param);
    err.code = std::move(code);
    return std::nullopt;
}

// Parses the body as a JSON object or explains why not.
std::optional<json> parse_object(std::string_view body, ApiError &err) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        fail(err, "the request body is not valid JSON; send a JSON object with "
                  "Content-Type: application/json", "");
        return std::nullopt;
    }
    if (!j.is_object()) {
        fail(err, "the request body must be a JSON object, got " + std::string(j.type_name()), "");
        return std::nullopt;
    }
    return j;
}

// Reads the options common to both endpoints. Returns false (err filled) on a bad value.
bool read_common(const json &j, ParsedRequest &p, ApiError &err) {
    GenerationRequest &g = p.generation;
    if (auto m = j.find("model"); m != j.end() && !m->is_null()) {
        if (!m->is_string() || m->get<std::string>().empty())
            return fail(err, "'model' must be a non-empty string such as \"echo\" or "
                             "\"provider/model\" (GET /v1/models lists them)", "model"), false;
        p.model_label = g.model = m->get<std::string>();
    }
    auto number = [&](const char *name, double lo, double hi, auto &out) {
        auto it = j.find(name);
        if (it == j.end() || it->is_null()) return true;
        if (!it->is_number() || it->get<double>() < lo || it->get<double>() > hi)
            return fail(err, std::string("'") + name + "' must be a number between " +
                                 std::to_string(lo).substr(0, 3) + " and " + std::to_string(hi).substr(0, 3),
                        name), false;
        out = static_cast<std::remove_reference_t<decltype(out)>>(it->get<double>());
        return true;
    };
    if (!number("temperature", 0, 2, g.temperature) || !number("top_p", 0, 1, g.top_p)) return false;
    for (const char *name : {"max_completion_tokens", "max_tokens"}) {
        auto it = j.find(name);
        if (it == j.end() || it->is_null()) continue;
        if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 1000000)
            return fail(err, std::string("'") + name + "' must be a positive integer", name), false;
        if (g.max_tokens <= 0) g.max_tokens = it->get<int>(); // max_completion_tokens wins
    }
    if (auto n = j.find("n"); n != j.end() && !n->is_null() && *n != 1)
        return fail(err, "'n' must be 1: llmhost serve returns one choice per request", "n"), false;
    if (auto s = j.find("seed"); s != j.end() && !s->is_null()) {
        if (!s->is_number_integer()) return fail(err, "'seed' must be an integer", "seed"), false;
        g.seed = static_cast<uint64_t>(s->get<int64_t>());
    }
    if (auto s = j.find("stop"); s != j.end() && !s->is_null()) {
        if (s->is_string()) {
            g.stop.push_back(s->get<std::string>());
        } else if (s->is_array() && s->size() <= 4 &&
                   std::all_of(s->begin(), s->end(), [](const json &x) { return x.is_string(); })) {
            for (const auto &x : *s) g.stop.push_back(x.get<std::string>());
        } else {
            return fail(err, "'stop' must be a string or an array of up to 4 strings", "stop"), false;
        }
    }
    if (auto s = j.find("stream"); s != j.end() && !s->is_null()) {
        if (!s->is_boolean()) return fail(err, "'stream' must be true or false", "stream"), false;
        g.stream = s->get<bool>();
    }
    if (auto o = j.find("stream_options"); o != j.end() && !o->is_null()) {
        if (!o->is_object()) return fail(err, "'stream_options' must be an object", "stream_options"), false;
        auto u = o->find("include_usage");
        if (u != o->end() && !u->is_null() && !u->is_boolean())
            return fail(err, "'stream_options.include_usage' must be true or false",
                        "stream_options.include_usage"), false;
        p.include_usage = u != o->end() && u->is_boolean() && u->get<bool>();
    }
    return true;
}

// Text of a message's content: a string, null, or an array of text parts.
bool content_text(const json &c, std::string &out, const std::string &param, ApiError &err) {
    if (c.is_null()) return true;
    if (c.is_string()) return out = c.get<std::string>(), true;
    if (!c.is_array()) return fail(err, "'" + param + "' must be a string or an array of parts", param), false;
    for (std::size_t k = 0; k < c.size(); ++k) {
        const json &part = c[k];
        std::string type = part.is_object() ? part.value("type", "") : "";
        if (type == "text" && part.contains("text") && part["text"].is_string()) {
            out += part["text"].get<std::string>();
        } else if (type == "refusal") {
            continue;
        } else {
            return fail(err, "content part " + std::to_string(k) + " of type '" + type +
                                 "' is not supported by llmhost serve (text parts only)",
                        param), false;
        }
    }
    return true;
}

std::string random_suffix() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[25];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

json usage_json(const GenerationResult &r) {
    return {{"prompt_tokens", r.prompt_tokens},
            {"completion_tokens", r.completion_tokens},
            {"total_tokens", r.prompt_tokens + r.completion_tokens}};
}

std::string sse(const json &j) { return "data: " + j.dump() + "\n\n"; }

json chunk_base(const ResponseMeta &m) {
    return {{"id", m.id},
            {"object", m.chat ? "chat.completion.chunk" : "text_completion"},
            {"created", m.created},
            {"model", m.model}};
}

json stream_choice(const ResponseMeta &m, json delta_or_text, const json &finish) {
    if (m.chat)
        return {{"index", 0}, {"delta", std::move(delta_or_text)}, {"logprobs", nullptr},
                {"finish_reason", finish}};
    return {{"index", 0}, {"text", std::move(delta_or_text)}, {"logprobs", nullptr},
            {"finish_reason", finish}};
}

} // namespace

std::string error_body(const ApiError &e) {
    json j = {{"error",
               {{"message", e.message}, {"type", e.type}, {"param", null_or(e.param)},
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
    } else if (auto slash = name.find('/'); slash != std::string_view::npos && known(name.substr(0, slash))) {
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
                   "providers: " + (list.empty() ? std::string("(none)") : list) +
                   " (GET /v1/models lists them)";
    return std::nullopt;
}

std::optional<ParsedRequest> parse_chat_request(std::string_view body, ApiError &err) {
    auto j = parse_object(body, err);
    if (!j) return std::nullopt;
    ParsedRequest p;
    p.generation.chat = true;
    if (!read_common(*j, p, err)) return std::nullopt;
    auto msgs = j->find("messages");
    if (msgs == j->end() || !msgs->is_array() || msgs->empty())
        return fail(err, "'messages' must be a non-empty array of {\"role\", \"content\"}", "messages");
    static const std::vector<std::string> roles = {"system", "developer", "user", "assistant", "tool"};
    for (std::size_t i = 0; i < msgs->size(); ++i) {
        const json &m = (*msgs)[i];
        std::string where = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) return fail(err, where + " must be an object", where);
        std::string role = m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "";
        if (std::find(roles.begin(), roles.end(), role) == roles.end())
            return fail(err, where + ".role must be one of system, developer, user, assistant, tool",
                        where + ".role");
        std::string text;
        if (auto c = m.find("content"); c != m.end()) {
            if (!content_text(*c, text, where + ".content", err)) return std::nullopt;
        } else if (role != "assistant") {
            return fail(err, where + ".content is required", where + ".content");
        }
        p.generation.messages.emplace_back(role == "developer" ? "system" : role, std::move(text));
    }
    if (auto t = j->find("tools"); t != j->end() && t->is_array() && !t->empty())
        return fail(err, "'tools' (function calling) is not supported by llmhost serve yet; "
                         "describe the tools in the prompt instead", "tools", "unsupported");
    return p;
}

std::optional<ParsedRequest> parse_completion_request(std::string_view body, ApiError &err) {
    auto j = parse_object(body, err);
    if (!j) return std::nullopt;
    ParsedRequest p;
    p.generation.chat = false;
    p.generation.max_tokens = 16; // the legacy endpoint's documented default
    auto has_max = j->contains("max_tokens") && !(*j)["max_tokens"].is_null();
    if (!has_max) p.generation.max_tokens = 0;
    if (!read_common(*j, p, err)) return std::nullopt;
    if (!has_max) p.generation.max_tokens = 16;
    auto pr = j->find("prompt");
    if (pr != j->end() && pr->is_array() && pr->size() == 1 && (*pr)[0].is_string()) {
        p.generation.prompt = (*pr)[0].get<std::string>();
    } else if (pr != j->end() && pr->is_string()) {
        p.generation.prompt = pr->get<std::string>();
    } else {
        return fail(err, "'prompt' must be a string (token arrays and several prompts are not "
                         "supported)", "prompt");
    }
    if (auto e = j->find("echo"); e != j->end() && !e->is_null()) {
        if (!e->is_boolean()) return fail(err, "'echo' must be true or false", "echo");
        p.echo_prompt = e->get<bool>();
    }
    if (auto s = j->find("suffix"); s != j->end() && s->is_string() && !s->get<std::string>().empty())
        return fail(err, "'suffix' (fill-in-the-middle) is not supported by llmhost serve", "suffix",
                    "unsupported");
    return p;
}

ApiError api_error_from_backend(const BackendError &e, const std::string &provider) {
    ApiError a;
    a.message = std::string(e.what()) + (e.hint.empty() ? "" : " (" + e.hint + ")");
    switch (e.code) {
    case LLMH_ERR_INVALID_ARGUMENT: a.status = 400; break;
    case LLMH_ERR_CONTEXT_OVERFLOW: a.status = 400; a.code = "context_length_exceeded"; break;
    case LLMH_ERR_UNSUPPORTED: a.status = 400; a.code = "unsupported"; break;
    case LLMH_ERR_NOT_FOUND: a.status = 404; a.code = "model_not_found"; a.param = "model"; break;
    case LLMH_ERR_RATE_LIMITED:
        a.status = 429; a.type = "rate_limit_error"; a.code = "rate_limit_exceeded";
        a.retry_after_s = e.retry_after_s > 0 ? e.retry_after_s : 1;
        break;
    case LLMH_ERR_AUTH_REQUIRED:
    case LLMH_ERR_AUTH_INVALID:
    case LLMH_ERR_GATED:
        // The provider's own credentials failed: the client cannot fix that by retrying.
        a.status = 502; a.type = "server_error"; a.code = "provider_auth"; a.should_retry = false;
        a.message = "provider '" + provider + "' could not authenticate upstream: " + a.message;
        break;
    case LLMH_ERR_NETWORK: a.status = 502; a.type = "server_error"; break;
    case LLMH_ERR_TIMEOUT: a.status = 504; a.type = "server_error"; break;
    case LLMH_ERR_CANCELLED: a.status = 499; a.type = "server_error"; a.code = "cancelled"; break;
    case LLMHOST_ERR_NO_PROVIDER: a.status = 404; a.code = "model_not_found"; a.param = "model"; break;
    case LLMHOST_ERR_CONFIG: a.status = 400; a.code = "invalid_config"; break;
    case LLMHOST_ERR_PLUGIN:
        a.status = 500; a.type = "server_error"; a.code = "plugin_failed"; a.should_retry = false;
        break;
    default: a.status = 500; a.type = "server_error"; a.should_retry = false; break;
    }
    return a;
}

ResponseMeta make_response_meta(bool chat, std::string model) {
    ResponseMeta m;
    m.chat = chat;
    m.id = (chat ? "chatcmpl-" : "cmpl-") + random_suffix();
    m.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
    m.model = std::move(model);
    return m;
}

std::string completion_body(const ResponseMeta &m, const std::string &text,
                            const GenerationResult &r) {
    json choice;
    if (m.chat)
        choice = {{"index", 0},
                  {"message", {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}}},
                  {"logprobs", nullptr}, {"finish_reason", r.finish_reason}};
    else
        choice = {{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", r.finish_reason}};
    json j = {{"id", m.id}, {"object", m.chat ? "chat.completion" : "text_completion"},
              {"created", m.created}, {"model", m.model}, {"choices", json::array({choice})},
              {"usage", usage_json(r)}};
    return j.dump();
}

std::string sse_role_chunk(const ResponseMeta &m) {
    json j = chunk_base(m);
    j["choices"] = json::array({stream_choice(m, m.chat ? json{{"role", "assistant"}, {"content", ""}} : json(""), nullptr)});
    return sse(j);
}

std::string sse_content_chunk(const ResponseMeta &m, std::string_view piece) {
    json j = chunk_base(m);
    std::string text(piece);
    j["choices"] = json::array({stream_choice(m, m.chat ? json{{"content", text}} : json(text), nullptr)});
    return sse(j);
}

std::string sse_finish_chunk(const ResponseMeta &m, const std::string &finish_reason,
                             bool include_usage) {
    json j = chunk_base(m);
    j["choices"] = json::array({stream_choice(m, m.chat ? json::object() : json(""), finish_reason)});
    if (include_usage) j["usage"] = nullptr;
    return sse(j);
}

std::string sse_usage_chunk(const ResponseMeta &m, const GenerationResult &r) {
    json j = chunk_base(m);
    j["choices"] = json::array();
    j["usage"] = usage_json(r);
    return sse(j);
}

std::string sse_error_event(const ApiError &e) { return "data: " + error_body(e) + "\n\n"; }

std::string models_body(const std::vector<ModelEntry> &entries) {
    json data = json::array();
    for (const auto &e : entries)
        data.push_back({{"id", e.model.empty() ? e.provider : e.provider + "/" + e.model},
                        {"object", "model"}, {"created", 0}, {"owned_by", e.provider}});
    return json{{"object", "list"}, {"data", std::move(data)}}.dump();
}

} // namespace llmhost::server
