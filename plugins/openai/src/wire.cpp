#include "wire.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>

namespace llmhost::openai {
namespace {

using nlohmann::json;

std::string shorten(std::string_view s, std::size_t n) {
    return std::string(s.substr(0, n)) + (s.size() > n ? "..." : "");
}

[[noreturn]] void malformed(const std::string &what) {
    throw llmh::Error(LLMH_ERR_NETWORK, "the endpoint sent a malformed response: " + what,
                      "check that base_url points at an OpenAI-compatible server");
}

// A token count: a non-negative integer, clamped to 32 bits; 0 for anything else (null, a
// string, a negative number), so a hostile count can neither throw nor wrap.
uint32_t count_of(const json &obj, const char *key) {
    if (!obj.is_object()) return 0;
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number_integer()) return 0;
    if (it->is_number_unsigned())
        return static_cast<uint32_t>(std::min<uint64_t>(it->get<uint64_t>(), UINT32_MAX));
    const int64_t v = it->get<int64_t>();
    return v < 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(v, UINT32_MAX));
}

std::optional<Usage> read_usage(const json &j) {
    auto it = j.find("usage");
    if (it == j.end() || !it->is_object()) return std::nullopt;
    Usage u;
    u.prompt_tokens = count_of(*it, "prompt_tokens");
    u.completion_tokens = count_of(*it, "completion_tokens");
    if (auto d = it->find("completion_tokens_details"); d != it->end())
        u.reasoning_tokens = count_of(*d, "reasoning_tokens");
    if (auto d = it->find("prompt_tokens_details"); d != it->end())
        u.cached_tokens = count_of(*d, "cached_tokens");
    if (u.cached_tokens == 0)
        u.cached_tokens = count_of(*it, "prompt_cache_hit_tokens"); // DeepSeek
    return u;
}

// An optional string field: absent or null -> nullopt; a string -> it; anything else is refused.
std::optional<std::string> opt_string(const json &obj, const char *key, const std::string &where) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) malformed(where + " '" + key + "' is not a string");
    return it->get<std::string>();
}

// One entry of a tool_calls array (streamed fragment or whole call); see ToolCallFragment.
ToolCallFragment read_tool_call(const json &e) {
    if (!e.is_object()) malformed("a tool_calls entry is not an object");
    ToolCallFragment f;
    if (auto i = e.find("index"); i != e.end() && !i->is_null()) {
        if (!i->is_number_integer()) malformed("a tool call's 'index' is not an integer");
        f.index = i->is_number_unsigned()
                      ? static_cast<int64_t>(std::min<uint64_t>(i->get<uint64_t>(), INT64_MAX))
                      : i->get<int64_t>();
    }
    f.id = opt_string(e, "id", "a tool call's");
    if (auto t = opt_string(e, "type", "a tool call's"); t && *t != "function")
        malformed("a tool call has type '" + shorten(*t, 40) + "', not \"function\"");
    auto fn = e.find("function");
    if (fn != e.end() && !fn->is_null()) {
        if (!fn->is_object()) malformed("a tool call's 'function' is not an object");
        f.name = opt_string(*fn, "name", "a tool call's function");
        f.arguments = opt_string(*fn, "arguments", "a tool call's function").value_or("");
    }
    return f;
}

std::vector<ToolCallFragment> read_tool_calls(const json &holder) {
    std::vector<ToolCallFragment> out;
    auto it = holder.find("tool_calls");
    if (it == holder.end() || it->is_null()) return out;
    if (!it->is_array()) malformed("'tool_calls' is not an array");
    for (const auto &e : *it) out.push_back(read_tool_call(e));
    return out;
}

// reasoning_content (DeepSeek, vLLM < 0.11) or reasoning (vLLM >= 0.11, Ollama, OpenRouter).
// Servers in transition send both with the same text, so one of them is taken, never both.
std::string read_reasoning(const json &holder) {
    auto r = opt_string(holder, "reasoning_content", "the message's");
    if (auto alt = opt_string(holder, "reasoning", "the message's"); alt && (!r || r->empty()))
        r = alt;
    return r.value_or("");
}

std::string text_of_content(const json &content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out; // an array of parts: keep the text ones
    if (content.is_array())
        for (const auto &part : content)
            if (part.is_object() && part.value("type", "") == "text") out += part.value("text", "");
    return out;
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
        t.chosen.logprob =
            lps != l->end() && lps->is_array() && i < lps->size() && (*lps)[i].is_number()
                ? (*lps)[i].get<float>()
                : -9999.0f;
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

llmh_finish_reason map_finish_reason(std::string_view reason) {
    if (reason == "length") return LLMH_FINISH_LENGTH;
    if (reason == "tool_calls" || reason == "function_call") return LLMH_FINISH_TOOL_CALLS;
    if (reason.empty()) return LLMH_FINISH_NONE;
    return LLMH_FINISH_STOP; // stop, content_filter, eos (vLLM)...
}

StreamDelta decode_stream_event(const SseEvent &event, bool chat) {
    StreamDelta d;
    if (event.data == "[DONE]") {
        d.done = true;
        return d;
    }
    json j = json::parse(event.data, nullptr, false);
    if (event.event == "error") {
        std::string msg =
            j.is_object() ? decode_error_body(event.data).message : shorten(event.data, 200);
        throw llmh::Error(LLMH_ERR_NETWORK, "the endpoint reported an error mid-stream: " + msg,
                          "the request may be retried; if it persists, the endpoint is failing");
    }
    if (j.is_discarded() || !j.is_object())
        malformed("stream event is not JSON: '" + shorten(event.data, 80) + "'");
    if (auto e = j.find("error"); e != j.end() && !e->is_null() && *e != false) {
        throw llmh::Error(LLMH_ERR_NETWORK,
                          "the endpoint reported an error mid-stream: " +
                              decode_error_body(event.data).message,
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
                if (content != delta->end() && !content->is_null())
                    d.content += text_of_content(*content);
                d.reasoning += read_reasoning(*delta);
                for (auto &f : read_tool_calls(*delta)) d.tool_calls.push_back(std::move(f));
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
    if (j.is_discarded() || !j.is_object())
        malformed("body is not JSON: '" + shorten(body, 80) + "'");
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty() ||
        !(*choices)[0].is_object())
        malformed("no 'choices' in the completion");
    const json &c = (*choices)[0];
    FullResponse r;
    if (chat) {
        auto msg = c.find("message");
        if (msg == c.end() || !msg->is_object()) malformed("choice without 'message'");
        if (auto content = msg->find("content"); content != msg->end() && !content->is_null())
            r.text = text_of_content(*content);
        r.reasoning = read_reasoning(*msg);
        r.tool_calls = read_tool_calls(*msg);
        for (std::size_t i = 0; i < r.tool_calls.size(); ++i)
            if (!r.tool_calls[i].index) r.tool_calls[i].index = static_cast<int64_t>(i);
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
    if (j.is_object())
        e = j.contains("error") ? &j["error"] : &j; // Python SDK: body.get("error", body)
    if (e && e->is_object()) {
        if (auto m = e->find("message"); m != e->end() && m->is_string())
            info.message = shorten(m->get<std::string>(), 300);
        if (auto c = e->find("code"); c != e->end())
            info.code = c->is_string() ? c->get<std::string>() : (c->is_number() ? c->dump() : "");
        if (auto t = e->find("type"); t != e->end() && t->is_string())
            info.type = t->get<std::string>();
    } else if (e && e->is_string()) {
        info.message = shorten(e->get<std::string>(), 300);
    }
    if (info.message.empty()) info.message = body.empty() ? "(no body)" : shorten(body, 200);
    return info;
}

} // namespace llmhost::openai
