#include "wire.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace llmhost::openai {
namespace {

using nlohmann::json;

[[noreturn]] void malformed(const std::string &what) {
    throw llmh::Error(LLMH_ERR_NETWORK, "the endpoint sent a malformed response: " + what,
                      "check that base_url points at an OpenAI-compatible server");
}

std::optional<Usage> read_usage(const json &j) {
    auto it = j.find("usage");
    if (it == j.end() || !it->is_object()) return std::nullopt;
    Usage u;
    u.prompt_tokens = it->value("prompt_tokens", 0u);
    u.completion_tokens = it->value("completion_tokens", 0u);
    return u;
}

std::string text_of_content(const json &content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out; // an array of parts: keep the text ones
    if (content.is_array())
        for (const auto &part : content)
            if (part.is_object() && part.value("type", "") == "text") out += part.value("text", "");
    return out;
}

std::string shorten(std::string_view s, std::size_t n) {
    return std::string(s.substr(0, n)) + (s.size() > n ? "..." : "");
}

// A token's exact bytes: `bytes` (chat) when present, else the token string.
llmh::TokenLogprob token_of(const json &e) {
    llmh::TokenLogprob t;
    if (auto b = e.find("bytes"); b != e.end() && b->is_array()) {
        for (const auto &v : *b)
            if (v.is_number_integer()) t.token += static_cast<char>(v.get<int>());
    } else if (auto tok = e.find("token"); tok != e.end() && tok->is_string()) {
        t.token = tok->get<std::string>();
    }
    auto lp = e.find("logprob");
    t.logprob = lp != e.end() && lp->is_number() ? lp->get<float>() : -9999.0f;
    return t;
}

// The logprobs object of a choice: chat {"content": [...]} or legacy {tokens, token_logprobs,
// top_logprobs: [{token: logprob}]}. Returns false when the choice carries none.
bool read_logprobs(const json &choice, bool chat, std::vector<TokenLogprobs> &out) {
    auto l = choice.find("logprobs");
    if (l == choice.end() || !l->is_object()) return false;
    if (chat) {
        auto content = l->find("content");
        if (content == l->end() || !content->is_array()) return content != l->end(); // null: none
        for (const auto &e : *content) {
            if (!e.is_object()) continue;
            TokenLogprobs t{token_of(e), {}};
            if (auto top = e.find("top_logprobs"); top != e.end() && top->is_array())
                for (const auto &a : *top)
                    if (a.is_object()) t.top.push_back(token_of(a));
            out.push_back(std::move(t));
        }
        return true;
    }
    auto tokens = l->find("tokens");
    auto lps = l->find("token_logprobs");
    if (tokens == l->end() || !tokens->is_array()) return false;
    auto tops = l->find("top_logprobs");
    for (std::size_t i = 0; i < tokens->size(); ++i) {
        TokenLogprobs t;
        t.chosen.token = (*tokens)[i].is_string() ? (*tokens)[i].get<std::string>() : "";
        t.chosen.logprob = lps != l->end() && lps->is_array() && i < lps->size() && (*lps)[i].is_number()
                               ? (*lps)[i].get<float>() : -9999.0f;
        if (tops != l->end() && tops->is_array() && i < tops->size() && (*tops)[i].is_object()) {
            for (const auto &[tok, lp] : (*tops)[i].items())
                if (lp.is_number()) t.top.push_back({tok, lp.get<float>()});
            std::stable_sort(t.top.begin(), t.top.end(),
                             [](const auto &a, const auto &b) { return a.logprob > b.logprob; });
        }
        out.push_back(std::move(t));
    }
    return true;
}

} // namespace

std::string build_request_body(const llmh::Request &r, const std::string &model, bool chat,
                               bool stream) {
    json body;
    body["model"] = model;
    if (chat) {
        json messages = json::array();
        for (const auto &m : r.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
        body["messages"] = std::move(messages);
        if (r.max_tokens > 0) body["max_tokens"] = r.max_tokens; // widest support (vLLM, Ollama)
    } else {
        body["prompt"] = r.prompt;
        if (r.max_tokens > 0) body["max_tokens"] = r.max_tokens;
    }
    if (r.temperature >= 0) body["temperature"] = r.temperature;
    if (r.top_p > 0 && r.top_p < 1) body["top_p"] = r.top_p;
    if (r.seed) body["seed"] = static_cast<int64_t>(*r.seed);
    // Not OpenAI fields, but the same-named extensions of vLLM, SGLang and llama.cpp's server. Sent
    // rather than dropped: a server that honours them does, api.openai.com answers 400 naming the
    // field, and either beats a silently different sampling.
    if (r.top_k > 0) body["top_k"] = r.top_k;
    if (r.min_p > 0) body["min_p"] = r.min_p;
    if (r.repetition_penalty > 0 && r.repetition_penalty != 1)
        body["repetition_penalty"] = r.repetition_penalty;
    if (!r.stop.empty()) body["stop"] = r.stop;
    if (r.logprobs) {
        if (chat) {
            body["logprobs"] = true;
            body["top_logprobs"] = r.top_logprobs;
        } else {
            body["logprobs"] = r.top_logprobs; // the legacy field counts the alternatives
        }
    }
    if (r.response_format_json) {
        if (!chat)
            throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                              "openai: response_format is a chat completions field; the legacy "
                              "completions endpoint has none",
                              "send messages (chat) to get structured output");
        json rf = json::parse(*r.response_format_json, nullptr, false);
        if (rf.is_discarded() || !rf.is_object())
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "openai: response_format is not a JSON object");
        body["response_format"] = std::move(rf);
    }
    if (stream) {
        body["stream"] = true;
        body["stream_options"] = {{"include_usage", true}};
    }
    return body.dump();
}

llmh_finish_reason map_finish_reason(std::string_view reason) {
    if (reason == "length") return LLMH_FINISH_LENGTH;
    if (reason.empty()) return LLMH_FINISH_NONE;
    return LLMH_FINISH_STOP; // stop, content_filter, tool_calls, eos (vLLM)...
}

StreamDelta decode_stream_event(const SseEvent &event, bool chat) {
    StreamDelta d;
    if (event.data == "[DONE]") {
        d.done = true;
        return d;
    }
    json j = json::parse(event.data, nullptr, false);
    if (event.event == "error") {
        std::string msg = j.is_object() ? decode_error_body(event.data).message : shorten(event.data, 200);
        throw llmh::Error(LLMH_ERR_NETWORK, "the endpoint reported an error mid-stream: " + msg,
                          "the request may be retried; if it persists, the endpoint is failing");
    }
    if (j.is_discarded() || !j.is_object()) malformed("stream event is not JSON: '" + shorten(event.data, 80) + "'");
    if (auto e = j.find("error"); e != j.end() && !e->is_null() && *e != false) {
        throw llmh::Error(LLMH_ERR_NETWORK,
                          "the endpoint reported an error mid-stream: " + decode_error_body(event.data).message,
                          "the request may be retried; if it persists, the endpoint is failing");
    }
    d.usage = read_usage(j);
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array()) {
        if (d.usage) return d; // a usage-only chunk
        malformed("stream chunk without 'choices'");
    }
    for (const auto &c : *choices) {
        if (!c.is_object() || c.value("index", 0) != 0) continue; // we ask for n=1
        if (chat) {
            auto delta = c.find("delta");
            if (delta != c.end() && delta->is_object()) {
                auto content = delta->find("content");
                if (content != delta->end() && !content->is_null()) d.content += text_of_content(*content);
            }
        } else if (auto t = c.find("text"); t != c.end() && t->is_string()) {
            d.content += t->get<std::string>();
        }
        d.has_logprobs |= read_logprobs(c, chat, d.logprobs);
        if (auto f = c.find("finish_reason"); f != c.end() && f->is_string())
            d.finish = map_finish_reason(f->get<std::string>());
    }
    return d;
}

FullResponse decode_response(std::string_view body, bool chat) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) malformed("body is not JSON: '" + shorten(body, 80) + "'");
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object())
        malformed("no 'choices' in the completion");
    const json &c = (*choices)[0];
    FullResponse r;
    if (chat) {
        auto msg = c.find("message");
        if (msg == c.end() || !msg->is_object()) malformed("choice without 'message'");
        if (auto content = msg->find("content"); content != msg->end() && !content->is_null())
            r.text = text_of_content(*content);
    } else {
        r.text = c.value("text", "");
    }
    if (auto f = c.find("finish_reason"); f != c.end() && f->is_string())
        r.finish = map_finish_reason(f->get<std::string>());
    r.has_logprobs = read_logprobs(c, chat, r.logprobs);
    r.usage = read_usage(j);
    return r;
}

std::vector<llmh::ModelInfo> decode_models(std::string_view body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array())
        malformed("GET /models did not return {\"data\": [...]}");
    std::vector<llmh::ModelInfo> out;
    for (const auto &m : j["data"]) {
        if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) continue;
        std::string owner = m.value("owned_by", "");
        out.push_back({m["id"].get<std::string>(), owner.empty() ? "" : "owned by " + owner});
    }
    return out;
}

ErrorInfo decode_error_body(std::string_view body) {
    ErrorInfo info;
    json j = json::parse(body, nullptr, false);
    const json *e = nullptr;
    if (j.is_object()) e = j.contains("error") ? &j["error"] : &j; // Python SDK: body.get("error", body)
    if (e && e->is_object()) {
        if (auto m = e->find("message"); m != e->end() && m->is_string()) info.message = shorten(m->get<std::string>(), 300);
        if (auto c = e->find("code"); c != e->end()) info.code = c->is_string() ? c->get<std::string>() : (c->is_number() ? c->dump() : "");
        if (auto t = e->find("type"); t != e->end() && t->is_string()) info.type = t->get<std::string>();
    } else if (e && e->is_string()) {
        info.message = shorten(e->get<std::string>(), 300);
    }
    if (info.message.empty()) info.message = body.empty() ? "(no body)" : shorten(body, 200);
    return info;
}

} // namespace llmhost::openai
