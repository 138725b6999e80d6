// The worker side of HttpSession (see http_session.hpp): model listings and generations run on
// the worker pool because provider calls block; results travel back to the session's strand
// through post_json/post_error (plain answers) or push (a stream).
#include "http_session.hpp"
#include "logprobs_json.hpp"

namespace llmhost::server {

using namespace session_detail;

namespace {

void log_failure(ServerState &st, const std::string &provider, const BackendError &e,
                 const ApiError &a) {
    std::string line = "generation on '" + provider + "' failed: " + e.what();
    if (a.status >= 500 && !e.hint.empty()) line += "; fix: " + e.hint; // the operator's job
    st.log(line);
}

} // namespace

std::vector<ModelEntry> HttpSession::list_models() {
    std::vector<ModelEntry> entries;
    for (const auto &p : st_.backend->providers()) {
        std::vector<std::string> models;
        try {
            models = st_.backend->models(p);
        } catch (const BackendError &e) { // one failing provider does not hide the others
            st_.log("GET /v1/models: provider '" + p + "': " + e.what());
        }
        if (models.empty()) entries.push_back({p, ""});
        for (auto &m : models) {
            const std::string shown = public_model_id(p, m);
            if (shown != p + "/" + m) st_.remember_alias(shown, m);
            entries.push_back({p, std::move(m)});
        }
    }
    return entries;
}

void HttpSession::handle_models(std::string id) {
    auto self = shared_from_this();
    bool accepted = st_.workers.try_submit([self, id = std::move(id)] {
        try {
            auto entries = self->list_models();
            if (id.empty()) return self->post_json(200, models_body(entries));
            ApiError err;
            auto body = model_body(entries, id, err);
            if (!body) return self->post_error(err);
            self->post_json(200, std::move(*body));
        } catch (const std::exception &e) {
            self->post_error(
                make_error(500, std::string("listing models failed: ") + e.what(), "server_error"));
        }
    });
    if (!accepted) {
        ApiError e = make_error(429, "llmhost serve is at capacity; retry shortly",
                                "rate_limit_error", "server_busy");
        e.retry_after_s = 1;
        send_error(e);
    }
}

void HttpSession::run_generation(std::shared_ptr<Call> call, ParsedRequest p) {
    auto cancelled = [this, &call] { return call->cancelled.load() || st_.abort_all.load(); };
    try {
        if (cancelled()) return push(call, "", true, true), void();
        ApiError err;
        auto target = resolve_model(p.generation.model, st_.backend->providers(),
                                    st_.backend->default_provider(), err);
        if (!target) return post_error(err);
        p.generation.provider = target->provider;
        p.generation.model = st_.unalias(target->provider, target->model);
        ResponseMeta meta = make_response_meta(
            p.generation.chat, p.model_label.empty() ? target->provider : p.model_label);
        if (p.generation.stream) return run_stream(call, p, meta);

        std::string text = p.echo_prompt ? p.generation.prompt : std::string();
        std::optional<LogprobsBuilder> lp;
        LogprobFn on_logprob;
        if (p.generation.logprobs) {
            lp.emplace(p.generation.chat, utf8_chars(text));
            on_logprob = [&](const TokenLogprob &chosen, const std::vector<TokenLogprob> &top) {
                lp->add(chosen, top);
                return !cancelled();
            };
        }
        try {
            GenerationResult r = st_.backend->generate(
                p.generation,
                [&](std::string_view piece) {
                    text.append(piece);
                    return !cancelled();
                },
                cancelled, on_logprob);
            post_json(200,
                      completion_body(meta, text, r, lp ? lp->take() : nlohmann::json(nullptr)));
        } catch (const BackendError &e) {
            if (cancelled()) return push(call, "", true, true), void(); // nobody to answer
            ApiError a = api_error_from_backend(e, p.generation.provider);
            log_failure(st_, p.generation.provider, e, a);
            post_error(a);
        }
    } catch (const std::exception &e) {
        post_error(make_error(500, std::string("internal error: ") + e.what(), "server_error"));
    }
}

void HttpSession::run_stream(const std::shared_ptr<Call> &call, ParsedRequest &p,
                             const ResponseMeta &meta) {
    auto cancelled = [this, &call] { return call->cancelled.load() || st_.abort_all.load(); };
    bool started = false;
    const std::string echoed = p.echo_prompt ? p.generation.prompt : std::string();
    // A chunk carries the logprobs of the tokens whose text it carries: the provider reports a
    // token before the piece with its text, so the entries gathered since the last piece belong
    // to this one (a token holding half a character waits for the piece that completes it).
    std::optional<LogprobsBuilder> lp;
    LogprobFn on_logprob;
    if (p.generation.logprobs) {
        lp.emplace(p.generation.chat, utf8_chars(echoed));
        on_logprob = [&](const TokenLogprob &chosen, const std::vector<TokenLogprob> &top) {
            lp->add(chosen, top);
            return !cancelled();
        };
    }
    auto begin = [&] { // headers go out with the first piece, so an early failure keeps its status
        started = true;
        std::string s(kStreamHeader);
        s += chunk(sse_role_chunk(meta));
        if (!echoed.empty()) s += chunk(sse_content_chunk(meta, echoed));
        return s;
    };
    try {
        GenerationResult r = st_.backend->generate(
            p.generation,
            [&](std::string_view piece) {
                std::string out = started ? std::string() : begin();
                out += chunk(
                    sse_content_chunk(meta, piece, lp ? lp->take() : nlohmann::json(nullptr)));
                return push(call, std::move(out), false) && !cancelled();
            },
            cancelled, on_logprob);
        std::string out = started ? std::string() : begin();
        // Tokens reported but never followed by text (e.g. a trailing partial character).
        const bool leftover = lp && !lp->empty();
        out += chunk(sse_finish_chunk(meta, r.finish_reason, p.include_usage,
                                      leftover ? lp->take() : nlohmann::json(nullptr)));
        if (p.include_usage) out += chunk(sse_usage_chunk(meta, r));
        out += chunk(kSseDone);
        out += kLastChunk;
        push(call, std::move(out), true);
    } catch (const BackendError &e) {
        if (cancelled()) return push(call, "", true, true), void();
        ApiError a = api_error_from_backend(e, p.generation.provider);
        log_failure(st_, p.generation.provider, e, a);
        if (!started) return post_error(a);
        // After the 200: an error event, then the end of the body (spec §7).
        push(call, chunk(sse_error_event(a)) + std::string(kLastChunk), true, true);
    }
}

} // namespace llmhost::server
