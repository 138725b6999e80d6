// Parsing and validation of POST /v1/chat/completions and /v1/completions bodies into the host's
// llmhost::GenerateRequest: with chat_parser.cpp (messages, tools), the one place that maps the
// OpenAI wire format (shared/reference/openai-wire.md §1, §6) onto a request. Every field is
// either honoured, ignored because the spec makes it harmless (metadata, user...), or refused
// with 400 naming it: llmhost serve never answers 200 while doing something other than what was
// asked. The table is in docs/serving.md ("Request fields").
#include "openai_api.hpp"
#include "request_parser_detail.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace llmhost::server {

namespace parser_detail {
bool fail(ApiError &err, std::string message, std::string param, std::string code) {
    err = ApiError{};
    err.status = 400;
    err.message = std::move(message);
    err.param = std::move(param);
    err.code = std::move(code);
    return false;
}
} // namespace parser_detail

namespace {

using nlohmann::json;
using parser_detail::fail;

std::optional<json> parse_object(std::string_view body, ApiError &err) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        fail(err,
             "the request body is not valid JSON; send a JSON object with Content-Type: "
             "application/json",
             "");
        return std::nullopt;
    }
    if (!j.is_object()) {
        fail(err, "the request body must be a JSON object, got " + std::string(j.type_name()), "");
        return std::nullopt;
    }
    return j;
}

// Fields with no effect on what is generated (tracking, caching, billing hints): accepted.
const std::set<std::string> kIgnorable = {"user",
                                          "safety_identifier",
                                          "metadata",
                                          "store",
                                          "service_tier",
                                          "prompt_cache_key",
                                          "prompt_cache_retention",
                                          "prompt_cache_options"};

// Fields of the chat endpoint that make no sense on the legacy one.
const std::set<std::string> kChatOnly = {"tools",
                                         "tool_choice",
                                         "parallel_tool_calls",
                                         "response_format",
                                         "reasoning_effort",
                                         "chat_template_kwargs",
                                         "messages",
                                         "functions",
                                         "function_call",
                                         "top_logprobs",
                                         "max_completion_tokens"};

// Fields llmhost cannot honour, accepted only with the value that means "off" (what the SDKs and
// frameworks send by default); anything else is refused. Returns true when `v` is that value.
bool is_off(const std::string &key, const json &v) {
    if (key == "logit_bias") return v.is_object() && v.empty();
    if (key == "functions") return v.is_array() && v.empty();
    if (key == "function_call") return v == "none";
    if (key == "modalities") return v == json::array({"text"});
    if (key == "best_of") return v == 1;
    if (key == "suffix") return v == "";
    return false;
}

const char *why_refused(const std::string &key) {
    if (key == "functions" || key == "function_call")
        return "the deprecated function-calling fields are not supported; send 'tools' and "
               "'tool_choice'";
    if (key == "logit_bias")
        return "llmhost providers do not apply this sampling adjustment; leave it unset";
    if (key == "suffix") return "fill-in-the-middle is not supported by llmhost serve";
    if (key == "best_of") return "llmhost serve returns one choice per request";
    return "llmhost serve does not support it";
}

// Refuses every top-level key that is neither honoured (`honoured`) nor ignorable.
bool audit_fields(const json &j, const std::set<std::string> &honoured, bool chat, ApiError &err) {
    static const std::set<std::string> known = {
        "functions", "function_call",      "logit_bias", "modalities", "audio", "prediction",
        "verbosity", "web_search_options", "moderation", "best_of",    "suffix"};
    for (const auto &[key, value] : j.items()) {
        if (honoured.count(key) || kIgnorable.count(key) || value.is_null()) continue;
        if (!chat && kChatOnly.count(key))
            return fail(err, "'" + key + "' is only supported on /v1/chat/completions", key,
                        "unsupported");
        if (is_off(key, value)) continue;
        if (known.count(key))
            return fail(err,
                        "'" + key + "' is not supported: " + why_refused(key) +
                            " (llmhost serve refuses rather than ignore it)",
                        key, "unsupported");
        return fail(err,
                    "unrecognized request argument '" + key +
                        "' (llmhost serve refuses fields it does not know rather than ignore them)",
                    key, "unknown_parameter");
    }
    return true;
}

// A number field within [lo, hi] into `out`; absent or null leaves `out` alone.
template <class T>
bool number(const json &j, const char *name, double lo, double hi, const char *range, T &out,
            ApiError &err) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return true;
    if (!it->is_number() || it->get<double>() < lo || it->get<double>() > hi)
        return fail(err, std::string("'") + name + "' must be a number between " + range, name);
    out = static_cast<T>(it->get<double>());
    return true;
}

// Reads the options common to both endpoints. Returns false (err filled) on a bad value.
bool read_common(const json &j, ParsedRequest &p, ApiError &err) {
    GenerateRequest &g = p.request;
    if (auto m = j.find("model"); m != j.end() && !m->is_null()) {
        if (!m->is_string() || m->get<std::string>().empty())
            return fail(err,
                        "'model' must be a non-empty string such as \"echo\" or \"provider/model\" "
                        "(GET /v1/models lists them)",
                        "model");
        p.model_label = g.model = m->get<std::string>();
    }
    if (!number(j, "temperature", 0, 2, "0 and 2", g.temperature, err) ||
        !number(j, "top_p", 0, 1, "0 and 1", g.top_p, err) ||
        !number(j, "presence_penalty", -2, 2, "-2 and 2", g.presence_penalty, err) ||
        !number(j, "frequency_penalty", -2, 2, "-2 and 2", g.frequency_penalty, err))
        return false;
    for (const char *name : {"max_completion_tokens", "max_tokens"}) {
        auto it = j.find(name);
        if (it == j.end() || it->is_null()) continue;
        if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 1000000)
            return fail(err, std::string("'") + name + "' must be a positive integer", name);
        if (g.max_tokens <= 0) g.max_tokens = it->get<int>(); // max_completion_tokens wins
    }
    if (auto n = j.find("n"); n != j.end() && !n->is_null() && *n != 1)
        return fail(err, "'n' must be 1: llmhost serve returns one choice per request", "n",
                    "unsupported");
    if (auto s = j.find("seed"); s != j.end() && !s->is_null()) {
        if (!s->is_number_integer()) return fail(err, "'seed' must be an integer", "seed");
        g.seed = static_cast<uint64_t>(s->get<int64_t>());
    }
    if (auto s = j.find("stop"); s != j.end() && !s->is_null()) {
        if (s->is_string()) {
            g.stop.push_back(s->get<std::string>());
        } else if (s->is_array() && s->size() <= 4 &&
                   std::all_of(s->begin(), s->end(), [](const json &x) { return x.is_string(); })) {
            for (const auto &x : *s) g.stop.push_back(x.get<std::string>());
        } else {
            return fail(err, "'stop' must be a string or an array of up to 4 strings", "stop");
        }
    }
    g.stream = false;
    if (auto s = j.find("stream"); s != j.end() && !s->is_null()) {
        if (!s->is_boolean()) return fail(err, "'stream' must be true or false", "stream");
        g.stream = s->get<bool>();
    }
    if (auto o = j.find("stream_options"); o != j.end() && !o->is_null()) {
        if (!o->is_object())
            return fail(err, "'stream_options' must be an object", "stream_options");
        auto u = o->find("include_usage");
        if (u != o->end() && !u->is_null() && !u->is_boolean())
            return fail(err, "'stream_options.include_usage' must be true or false",
                        "stream_options.include_usage");
        p.include_usage = u != o->end() && u->is_boolean() && u->get<bool>();
    }
    return true;
}

// Sampling extensions of vLLM and llama.cpp servers: top_k, min_p, repetition_penalty.
bool read_sampling_extensions(const json &j, GenerateRequest &g, ApiError &err) {
    if (auto k = j.find("top_k"); k != j.end() && !k->is_null()) {
        if (!k->is_number_integer() || k->get<long long>() < -1 || k->get<long long>() > 1000000)
            return fail(err, "'top_k' must be an integer >= 0 (0 or -1: off)", "top_k");
        g.top_k = std::max(0, k->get<int>());
    }
    return number(j, "min_p", 0, 1, "0 and 1", g.min_p, err) &&
           number(j, "repetition_penalty", 0.01, 10, "0.01 and 10", g.repetition_penalty, err);
}

// reasoning_effort ("none" -> off; minimal/low/medium/high -> on with that effort) and vLLM's
// chat_template_kwargs {"enable_thinking": bool}. Other template kwargs are refused: llmhost
// renders templates itself and would drop them.
bool read_reasoning(const json &j, GenerateRequest &g, ApiError &err) {
    if (auto e = j.find("reasoning_effort"); e != j.end() && !e->is_null()) {
        const std::string v = e->is_string() ? e->get<std::string>() : "";
        if (v == "none") {
            g.reasoning = LLMH_REASONING_OFF;
        } else if (v == "minimal" || v == "low" || v == "medium" || v == "high") {
            g.reasoning = LLMH_REASONING_ON;
            g.reasoning_effort = v;
        } else {
            return fail(
                err,
                "'reasoning_effort' must be \"none\", \"minimal\", \"low\", \"medium\" or \"high\"",
                "reasoning_effort");
        }
    }
    auto k = j.find("chat_template_kwargs");
    if (k == j.end() || k->is_null()) return true;
    if (!k->is_object())
        return fail(err, "'chat_template_kwargs' must be an object", "chat_template_kwargs");
    for (const auto &[key, value] : k->items()) {
        const std::string at = "chat_template_kwargs." + key;
        if (key != "enable_thinking")
            return fail(
                err,
                "'" + at +
                    "' is not supported: of chat_template_kwargs llmhost serve honours only "
                    "enable_thinking (it would be dropped)",
                at, "unsupported");
        if (!value.is_boolean()) return fail(err, "'" + at + "' must be true or false", at);
        if (!value.get<bool>() && !g.reasoning_effort.empty())
            return fail(err,
                        "'" + at + "' false contradicts 'reasoning_effort' \"" +
                            g.reasoning_effort + "\"",
                        at);
        if (value.get<bool>() && g.reasoning == LLMH_REASONING_OFF)
            return fail(err, "'" + at + "' true contradicts 'reasoning_effort' \"none\"", at);
        g.reasoning = value.get<bool>() ? LLMH_REASONING_ON : LLMH_REASONING_OFF;
    }
    return true;
}

// response_format through the host's own mapping, so the server, the C API and Python accept
// and refuse the same shapes. A provider without structured output is refused by the host.
bool read_response_format(const json &j, GenerateRequest &g, ApiError &err) {
    auto rf = j.find("response_format");
    if (rf == j.end() || rf->is_null()) return true;
    try {
        g.response_format = response_format_from_openai(*rf);
    } catch (const HostError &e) {
        return fail(err, std::string(e.what()) + (e.hint().empty() ? "" : " (" + e.hint() + ")"),
                    "response_format");
    }
    return true;
}

// llmhost's extensions "grammar" (GBNF) and "regex", on both endpoints. Only the shape is
// checked here; conflicts with response_format/tool_choice and the provider's capability are the
// host's check_request, so every front end refuses the same requests.
bool read_grammar(const json &j, GenerateRequest &g, ApiError &err) {
    for (const char *name : {"grammar", "regex"}) {
        auto it = j.find(name);
        if (it == j.end() || it->is_null()) continue;
        if (!it->is_string())
            return fail(err,
                        std::string("'") + name + "' must be a string (" +
                            (name == std::string("grammar") ? "a GBNF grammar with a root rule"
                                                            : "a regular expression") +
                            "), got " + it->type_name(),
                        name);
        if (it->get_ref<const std::string &>().empty())
            return fail(err, std::string("'") + name + "' is empty; leave it out for no constraint",
                        name);
        (name == std::string("grammar") ? g.grammar : g.regex) = it->get<std::string>();
    }
    return true;
}

// nlohmann::json keeps object members sorted, but a schema's member order means something:
// guided decoding writes properties in the order of `properties`, as OpenAI does. The schemas
// are therefore re-read from the body with their order kept (a second parse, only when the
// request carries one); everything else was validated by the first parse.
void keep_schema_order(std::string_view body, GenerateRequest &g) {
    const bool schema = g.response_format.type == LLMH_RESPONSE_JSON_SCHEMA;
    const bool params = std::any_of(g.tools.begin(), g.tools.end(),
                                    [](const Tool &t) { return !t.parameters_json.empty(); });
    if (!schema && !params) return;
    const auto o = nlohmann::ordered_json::parse(body, nullptr, false);
    if (o.is_discarded() || !o.is_object()) return;
    if (schema) {
        const auto rf = o.find("response_format");
        if (rf != o.end() && rf->is_object() && rf->contains("json_schema") &&
            (*rf)["json_schema"].is_object()) {
            const auto &js = (*rf)["json_schema"];
            if (auto sc = js.find("schema"); sc != js.end() && sc->is_object())
                g.response_format.schema_json = sc->dump();
        }
    }
    const auto tools = o.find("tools");
    if (!params || tools == o.end() || !tools->is_array() || tools->size() != g.tools.size())
        return;
    for (std::size_t i = 0; i < g.tools.size(); ++i) {
        const auto &t = (*tools)[i];
        if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
        const auto &f = t["function"];
        if (auto pm = f.find("parameters"); pm != f.end() && pm->is_object())
            g.tools[i].parameters_json = pm->dump();
    }
}

} // namespace

std::optional<ParsedRequest> parse_chat_request(std::string_view body, ApiError &err) {
    auto j = parse_object(body, err);
    if (!j) return std::nullopt;
    static const std::set<std::string> honoured = {"model",
                                                   "messages",
                                                   "max_completion_tokens",
                                                   "max_tokens",
                                                   "temperature",
                                                   "top_p",
                                                   "n",
                                                   "stop",
                                                   "seed",
                                                   "stream",
                                                   "stream_options",
                                                   "logprobs",
                                                   "top_logprobs",
                                                   "response_format",
                                                   "tools",
                                                   "tool_choice",
                                                   "parallel_tool_calls",
                                                   "reasoning_effort",
                                                   "chat_template_kwargs",
                                                   "top_k",
                                                   "min_p",
                                                   "repetition_penalty",
                                                   "presence_penalty",
                                                   "frequency_penalty",
                                                   "grammar",
                                                   "regex"};
    if (!audit_fields(*j, honoured, true, err)) return std::nullopt;
    ParsedRequest p;
    GenerateRequest &g = p.request;
    p.chat = true;
    if (!read_common(*j, p, err) || !read_sampling_extensions(*j, g, err) ||
        !read_response_format(*j, g, err) || !read_reasoning(*j, g, err) ||
        !read_grammar(*j, g, err) || !parser_detail::read_tools(*j, g, err))
        return std::nullopt;
    if (auto l = j->find("logprobs"); l != j->end() && !l->is_null()) {
        if (!l->is_boolean())
            return fail(err, "'logprobs' must be true or false", "logprobs"), std::nullopt;
        g.logprobs = l->get<bool>();
    }
    if (auto t = j->find("top_logprobs"); t != j->end() && !t->is_null()) {
        if (!t->is_number_integer() || t->get<long long>() < 0 || t->get<long long>() > 20)
            return fail(err, "'top_logprobs' must be an integer between 0 and 20", "top_logprobs"),
                   std::nullopt;
        if (!g.logprobs && t->get<long long>() > 0)
            return fail(err, "'top_logprobs' needs 'logprobs': true", "top_logprobs"), std::nullopt;
        g.top_logprobs = t->get<int>();
    }
    if (!parser_detail::read_messages(*j, g, err)) return std::nullopt;
    keep_schema_order(body, g);
    return p;
}

std::optional<ParsedRequest> parse_completion_request(std::string_view body, ApiError &err) {
    auto j = parse_object(body, err);
    if (!j) return std::nullopt;
    static const std::set<std::string> honoured = {"model",
                                                   "prompt",
                                                   "max_tokens",
                                                   "temperature",
                                                   "top_p",
                                                   "n",
                                                   "stop",
                                                   "seed",
                                                   "stream",
                                                   "stream_options",
                                                   "logprobs",
                                                   "echo",
                                                   "top_k",
                                                   "min_p",
                                                   "repetition_penalty",
                                                   "presence_penalty",
                                                   "frequency_penalty",
                                                   "grammar",
                                                   "regex"};
    if (!audit_fields(*j, honoured, false, err)) return std::nullopt;
    ParsedRequest p;
    GenerateRequest &g = p.request;
    p.chat = false;
    if (!read_common(*j, p, err) || !read_sampling_extensions(*j, g, err) ||
        !read_grammar(*j, g, err))
        return std::nullopt;
    if (g.max_tokens <= 0) g.max_tokens = 16; // the legacy endpoint's documented default
    auto pr = j->find("prompt");
    if (pr != j->end() && pr->is_array() && pr->size() == 1 && (*pr)[0].is_string()) {
        g.prompt = (*pr)[0].get<std::string>();
    } else if (pr != j->end() && pr->is_string()) {
        g.prompt = pr->get<std::string>();
    } else {
        return fail(
                   err,
                   "'prompt' must be a string (token arrays and several prompts are not supported)",
                   "prompt"),
               std::nullopt;
    }
    if (auto e = j->find("echo"); e != j->end() && !e->is_null()) {
        if (!e->is_boolean())
            return fail(err, "'echo' must be true or false", "echo"), std::nullopt;
        p.echo_prompt = e->get<bool>();
    }
    if (auto l = j->find("logprobs"); l != j->end() && !l->is_null()) {
        if (!l->is_number_integer() || l->get<long long>() < 0 || l->get<long long>() > 5)
            return fail(err,
                        "'logprobs' must be an integer between 0 and 5 (the number of alternatives "
                        "per token)",
                        "logprobs"),
                   std::nullopt;
        g.logprobs = true;
        g.top_logprobs = l->get<int>();
        if (p.echo_prompt) // OpenAI would add the prompt's logprobs, which providers do not report
            return fail(err,
                        "'echo' with 'logprobs' is not supported by llmhost serve (the prompt's "
                        "logprobs are not "
                        "available)",
                        "echo", "unsupported"),
                   std::nullopt;
    }
    return p;
}

} // namespace llmhost::server
