// Parsing and validation of POST /v1/chat/completions and /v1/completions bodies. Every field of
// both requests (shared/reference/openai-wire.md §1, §6 and the openai SDK's types) is either
// honoured, ignored because the spec makes it harmless (metadata, user...), or refused with 400
// naming it: llmhost serve never answers 200 while doing something other than what was asked.
// The table is in docs/serving.md ("Request fields").
#include "openai_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace llmhost::server {
namespace {

using nlohmann::json;

std::optional<ParsedRequest> fail(ApiError &err, std::string message, std::string param,
                                  std::string code = {}) {
    err = ApiError{};
    err.status = 400;
    err.message = std::move(message);
    err.param = std::move(param);
    err.code = std::move(code);
    return std::nullopt;
}

std::optional<json> parse_object(std::string_view body, ApiError &err) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        fail(err,
             "the request body is not valid JSON; send a JSON object with "
             "Content-Type: application/json",
             "");
        return std::nullopt;
    }
    if (!j.is_object()) {
        fail(err, "the request body must be a JSON object, got " + std::string(j.type_name()), "");
        return std::nullopt;
    }
    return j;
}

bool present(const json &j, const char *key) { return j.contains(key) && !j[key].is_null(); }

// Fields with no effect on what is generated (tracking, caching, billing hints): accepted.
const std::set<std::string> kIgnorable = {"user",
                                          "safety_identifier",
                                          "metadata",
                                          "store",
                                          "service_tier",
                                          "prompt_cache_key",
                                          "prompt_cache_retention",
                                          "prompt_cache_options",
                                          "parallel_tool_calls" /* no tools: moot */};

// Fields llmhost cannot honour, accepted only with the value that means "off" (what the SDKs and
// frameworks send by default); anything else is refused. Returns true when `v` is that value.
bool is_off(const std::string &key, const json &v) {
    if (key == "presence_penalty" || key == "frequency_penalty")
        return v.is_number() && v.get<double>() == 0;
    if (key == "logit_bias") return v.is_object() && v.empty();
    if (key == "tools" || key == "functions") return v.is_array() && v.empty();
    if (key == "tool_choice" || key == "function_call") return v == "none";
    if (key == "modalities") return v == json::array({"text"});
    if (key == "best_of") return v == 1;
    if (key == "suffix") return v == "";
    return false;
}

const char *why_refused(const std::string &key) {
    if (key == "tools" || key == "tool_choice" || key == "functions" || key == "function_call")
        return "function calling is not supported by llmhost serve yet (plugin ABI 2); describe "
               "the tools in the prompt instead";
    if (key == "presence_penalty" || key == "frequency_penalty" || key == "logit_bias")
        return "llmhost providers do not apply this sampling adjustment; leave it unset or 0";
    if (key == "suffix") return "fill-in-the-middle is not supported by llmhost serve";
    if (key == "best_of") return "llmhost serve returns one choice per request";
    return "llmhost serve does not support it";
}

// Refuses every top-level key that is neither honoured (`honoured`) nor ignorable.
bool audit_fields(const json &j, const std::set<std::string> &honoured, ApiError &err) {
    for (const auto &[key, value] : j.items()) {
        if (honoured.count(key) || kIgnorable.count(key) || value.is_null()) continue;
        if (is_off(key, value)) continue;
        static const std::set<std::string> known = {"tools",
                                                    "tool_choice",
                                                    "functions",
                                                    "function_call",
                                                    "presence_penalty",
                                                    "frequency_penalty",
                                                    "logit_bias",
                                                    "modalities",
                                                    "audio",
                                                    "prediction",
                                                    "reasoning_effort",
                                                    "verbosity",
                                                    "web_search_options",
                                                    "moderation",
                                                    "best_of",
                                                    "suffix"};
        if (known.count(key))
            return fail(err,
                        "'" + key + "' is not supported: " + why_refused(key) +
                            " (llmhost serve refuses rather than ignore it)",
                        key, "unsupported"),
                   false;
        return fail(err,
                    "unrecognized request argument '" + key +
                        "' (llmhost serve refuses "
                        "fields it does not know rather than ignore them)",
                    key, "unknown_parameter"),
               false;
    }
    return true;
}

// Reads the options common to both endpoints. Returns false (err filled) on a bad value.
bool read_common(const json &j, ParsedRequest &p, ApiError &err) {
    GenerationRequest &g = p.generation;
    if (auto m = j.find("model"); m != j.end() && !m->is_null()) {
        if (!m->is_string() || m->get<std::string>().empty())
            return fail(err,
                        "'model' must be a non-empty string such as \"echo\" or "
                        "\"provider/model\" (GET /v1/models lists them)",
                        "model"),
                   false;
        p.model_label = g.model = m->get<std::string>();
    }
    auto number = [&](const char *name, double lo, double hi, const char *range, auto &out) {
        auto it = j.find(name);
        if (it == j.end() || it->is_null()) return true;
        if (!it->is_number() || it->get<double>() < lo || it->get<double>() > hi)
            return fail(err, std::string("'") + name + "' must be a number between " + range, name),
                   false;
        out = static_cast<std::remove_reference_t<decltype(out)>>(it->get<double>());
        return true;
    };
    if (!number("temperature", 0, 2, "0 and 2", g.temperature) ||
        !number("top_p", 0, 1, "0 and 1", g.top_p))
        return false;
    for (const char *name : {"max_completion_tokens", "max_tokens"}) {
        auto it = j.find(name);
        if (it == j.end() || it->is_null()) continue;
        if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 1000000)
            return fail(err, std::string("'") + name + "' must be a positive integer", name), false;
        if (g.max_tokens <= 0) g.max_tokens = it->get<int>(); // max_completion_tokens wins
    }
    if (auto n = j.find("n"); n != j.end() && !n->is_null() && *n != 1)
        return fail(err, "'n' must be 1: llmhost serve returns one choice per request", "n",
                    "unsupported"),
               false;
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
            return fail(err, "'stop' must be a string or an array of up to 4 strings", "stop"),
                   false;
        }
    }
    if (auto s = j.find("stream"); s != j.end() && !s->is_null()) {
        if (!s->is_boolean()) return fail(err, "'stream' must be true or false", "stream"), false;
        g.stream = s->get<bool>();
    }
    if (auto o = j.find("stream_options"); o != j.end() && !o->is_null()) {
        if (!o->is_object())
            return fail(err, "'stream_options' must be an object", "stream_options"), false;
        auto u = o->find("include_usage");
        if (u != o->end() && !u->is_null() && !u->is_boolean())
            return fail(err, "'stream_options.include_usage' must be true or false",
                        "stream_options.include_usage"),
                   false;
        p.include_usage = u != o->end() && u->is_boolean() && u->get<bool>();
    }
    return true;
}

// response_format: {"type":"text"} is free text (no constraint); json_object and json_schema
// reach the provider, whose plugin must advertise LLMH_CAP_RESPONSE_FORMAT (the host refuses).
bool read_response_format(const json &j, GenerationRequest &g, ApiError &err) {
    auto rf = j.find("response_format");
    if (rf == j.end() || rf->is_null()) return true;
    const std::string hint =
        " ({\"type\": \"text\"}, {\"type\": \"json_object\"} or "
        "{\"type\": \"json_schema\", \"json_schema\": {\"name\", \"schema\"}})";
    if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
        return fail(err, "'response_format' must be an object with a string 'type'" + hint,
                    "response_format"),
               false;
    const std::string type = (*rf)["type"];
    if (type == "text") return true;
    if (type == "json_schema") {
        auto js = rf->find("json_schema");
        if (js == rf->end() || !js->is_object() || !js->contains("schema") ||
            !(*js)["schema"].is_object())
            return fail(err,
                        "'response_format.json_schema.schema' must be a JSON Schema object" + hint,
                        "response_format.json_schema"),
                   false;
        if (js->contains("name") && !(*js)["name"].is_string())
            return fail(err, "'response_format.json_schema.name' must be a string",
                        "response_format.json_schema.name"),
                   false;
    } else if (type != "json_object") {
        return fail(err,
                    "'response_format.type' '" + type +
                        "' is not one of text, json_object, "
                        "json_schema" +
                        hint,
                    "response_format.type"),
               false;
    }
    g.response_format_json = rf->dump();
    return true;
}

// Text of a message's content: a string, null, or an array of text parts.
bool content_text(const json &c, std::string &out, const std::string &param, ApiError &err) {
    if (c.is_null()) return true;
    if (c.is_string()) return out = c.get<std::string>(), true;
    if (!c.is_array())
        return fail(err, "'" + param + "' must be a string or an array of parts", param), false;
    for (std::size_t k = 0; k < c.size(); ++k) {
        const json &part = c[k];
        const std::string where = param + "[" + std::to_string(k) + "]";
        std::string type = part.is_object() && part.contains("type") && part["type"].is_string()
                               ? part["type"].get<std::string>()
                               : "";
        if (type == "text") {
            if (!part.contains("text") || !part["text"].is_string())
                return fail(err, where + ".text must be a string", where + ".text"), false;
            out += part["text"].get<std::string>();
        } else if (type == "image_url" || type == "input_audio" || type == "file" ||
                   type == "refusal") {
            return fail(err,
                        "content parts of type '" + type + "' (" + where +
                            ") are not supported "
                            "by llmhost serve: only text parts",
                        where, "unsupported"),
                   false;
        } else {
            return fail(err, where + " must be a content part {\"type\": \"text\", \"text\": ...}",
                        where),
                   false;
        }
    }
    return true;
}

// One message of the history. Tool calls (ABI 2) and other fields llmhost cannot carry are
// refused: dropping them would silently change the conversation the model sees.
bool read_message(const json &m, std::size_t i, ParsedRequest &p, ApiError &err) {
    static const std::vector<std::string> roles = {"system", "developer", "user", "assistant",
                                                   "tool"};
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return fail(err, where + " must be an object", where), false;
    std::string role =
        m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "";
    if (std::find(roles.begin(), roles.end(), role) == roles.end())
        return fail(err, where + ".role must be one of system, developer, user, assistant, tool",
                    where + ".role"),
               false;
    for (const auto &[key, value] : m.items()) {
        if (key == "role" || key == "content" || value.is_null()) continue;
        if (key == "tool_calls" && value.is_array() && value.empty()) continue;
        if (key == "tool_calls" || key == "tool_call_id" || key == "function_call")
            return fail(err,
                        where + "." + key +
                            ": messages about tool calls are not supported by "
                            "llmhost serve yet (function calling arrives with plugin ABI 2); they "
                            "are refused rather than dropped from the conversation",
                        where + "." + key, "unsupported"),
                   false;
        if (key == "name" || key == "audio" || key == "refusal")
            return fail(err,
                        where + "." + key +
                            " is not supported by llmhost serve (it would be "
                            "dropped from the conversation)",
                        where + "." + key, "unsupported"),
                   false;
        return fail(err, where + " has an unrecognized field '" + key + "'", where + "." + key,
                    "unknown_parameter"),
               false;
    }
    if (role == "tool") // a tool result without its call: only possible with tool calling
        return fail(err,
                    where + ": role 'tool' messages are not supported by llmhost serve yet "
                            "(function calling arrives with plugin ABI 2)",
                    where + ".role", "unsupported"),
               false;
    std::string text;
    if (auto c = m.find("content"); c != m.end()) {
        if (!content_text(*c, text, where + ".content", err)) return false;
    } else if (role != "assistant") {
        return fail(err, where + ".content is required", where + ".content"), false;
    }
    p.generation.messages.emplace_back(role == "developer" ? "system" : role, std::move(text));
    return true;
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
                                                   "response_format"};
    if (!audit_fields(*j, honoured, err)) return std::nullopt;
    ParsedRequest p;
    GenerationRequest &g = p.generation;
    g.chat = true;
    if (!read_common(*j, p, err) || !read_response_format(*j, g, err)) return std::nullopt;
    if (auto l = j->find("logprobs"); l != j->end() && !l->is_null()) {
        if (!l->is_boolean()) return fail(err, "'logprobs' must be true or false", "logprobs");
        g.logprobs = l->get<bool>();
    }
    if (auto t = j->find("top_logprobs"); t != j->end() && !t->is_null()) {
        if (!t->is_number_integer() || t->get<long long>() < 0 || t->get<long long>() > 20)
            return fail(err, "'top_logprobs' must be an integer between 0 and 20", "top_logprobs");
        if (!g.logprobs && t->get<long long>() > 0)
            return fail(err, "'top_logprobs' needs 'logprobs': true", "top_logprobs");
        g.top_logprobs = t->get<int>();
    }
    auto msgs = j->find("messages");
    if (msgs == j->end() || !msgs->is_array() || msgs->empty())
        return fail(err, "'messages' must be a non-empty array of {\"role\", \"content\"}",
                    "messages");
    for (std::size_t i = 0; i < msgs->size(); ++i)
        if (!read_message((*msgs)[i], i, p, err)) return std::nullopt;
    return p;
}

std::optional<ParsedRequest> parse_completion_request(std::string_view body, ApiError &err) {
    auto j = parse_object(body, err);
    if (!j) return std::nullopt;
    static const std::set<std::string> honoured = {
        "model", "prompt", "max_tokens", "temperature",    "top_p",    "n",
        "stop",  "seed",   "stream",     "stream_options", "logprobs", "echo"};
    if (!audit_fields(*j, honoured, err)) return std::nullopt;
    ParsedRequest p;
    GenerationRequest &g = p.generation;
    g.chat = false;
    if (!read_common(*j, p, err)) return std::nullopt;
    if (g.max_tokens <= 0) g.max_tokens = 16; // the legacy endpoint's documented default
    auto pr = j->find("prompt");
    if (pr != j->end() && pr->is_array() && pr->size() == 1 && (*pr)[0].is_string()) {
        g.prompt = (*pr)[0].get<std::string>();
    } else if (pr != j->end() && pr->is_string()) {
        g.prompt = pr->get<std::string>();
    } else {
        return fail(err,
                    "'prompt' must be a string (token arrays and several prompts are not "
                    "supported)",
                    "prompt");
    }
    if (auto e = j->find("echo"); e != j->end() && !e->is_null()) {
        if (!e->is_boolean()) return fail(err, "'echo' must be true or false", "echo");
        p.echo_prompt = e->get<bool>();
    }
    if (auto l = j->find("logprobs"); l != j->end() && !l->is_null()) {
        if (!l->is_number_integer() || l->get<long long>() < 0 || l->get<long long>() > 5)
            return fail(err,
                        "'logprobs' must be an integer between 0 and 5 (the number of "
                        "alternatives per token)",
                        "logprobs");
        g.logprobs = true;
        g.top_logprobs = l->get<int>();
        if (p.echo_prompt) // OpenAI would add the prompt's logprobs, which providers do not report
            return fail(err,
                        "'echo' with 'logprobs' is not supported by llmhost serve (the "
                        "prompt's logprobs are not available)",
                        "echo", "unsupported");
    }
    return p;
}

} // namespace llmhost::server
