// The worker side of HttpSession (see http_session.hpp): model listings and generations run on
// the worker pool because provider calls block; results travel back to the session's strand
// through post_json/post_error (plain answers) or push (a stream).
#include "http_session.hpp"
#include "logprobs_json.hpp"

namespace llmhost::server {

using namespace session_detail;

namespace {

// The first generated event (text, reasoning or a tool call) marks the time to first token.
void note_event(RequestRecord &rec, const Event &e) {
    if (rec.ttft_ms >= 0) return;
    if (e.type == LLMH_EVENT_TEXT || e.type == LLMH_EVENT_REASONING ||
        e.type == LLMH_EVENT_TOOL_CALL_START || e.type == LLMH_EVENT_TOOL_CALL_ARGS)
        rec.ttft_ms = rec.since_start_ms();
}

void note_result(ServerState &st, RequestRecord &rec, const GenerateResult &r) {
    rec.has_usage = true;
    rec.prompt_tokens = r.prompt_tokens;
    rec.completion_tokens = r.completion_tokens;
    rec.reasoning_tokens = r.reasoning_tokens;
    rec.cached_tokens = r.cached_tokens;
    if (st.options.log_content) rec.output = r.text;
}

// A generation cancelled because its client went away (or the server stopped): nginx's 499
// when nothing was sent yet, and "cancelled" as the error either way.
void note_cancel(RequestRecord &rec) {
    if (rec.status == 0) rec.status = 499;
    rec.error = "cancelled";
}

std::string error_name(const ApiError &a) { return a.code.empty() ? a.type : a.code; }

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
        if (key_ && !key_->allows(p)) continue; // a scoped key sees only what it may use
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
        if (cancelled()) return note_cancel(*call->rec), push(call, "", true, true), void();
        ApiError err;
        auto target = resolve_model(p.request.model, st_.backend->providers(),
                                    st_.backend->default_provider(), err);
        if (!target) return post_error(err);
        if (key_ && !key_->allows(target->provider)) {
            call->rec->provider = target->provider; // counted against the provider refused
            ApiError denied = make_error(
                403,
                "the model '" + (p.model_label.empty() ? target->provider : p.model_label) +
                    "' is not allowed for this API key",
                "permission_error", "model_not_allowed");
            denied.param = "model";
            denied.should_retry = false;
            return post_error(denied);
        }
        p.provider = target->provider;
        p.request.model = st_.unalias(target->provider, target->model);
        RequestRecord &rec = *call->rec;
        rec.provider = p.provider;
        rec.model = p.request.model;
        // Before generating: bounding an unknown name may list the provider's models once.
        rec.model_label = st_.metrics.labels().label(p.provider, p.request.model);
        p.request.should_cancel = cancelled;
        // A route announces each target it starts; the last one is the one whose output follows.
        p.request.on_target = [&rec](std::string_view t) { rec.target = target_header_value(t); };
        ResponseMeta meta =
            make_response_meta(p.chat, p.model_label.empty() ? target->provider : p.model_label);
        if (p.request.stream) return run_stream(call, p, meta);

        const std::string echoed = p.echo_prompt ? p.request.prompt : std::string();
        std::optional<LogprobsBuilder> lp;
        if (p.request.logprobs) {
            lp.emplace(p.chat, utf8_chars(echoed));
            p.request.on_logprob = [&](const TokenLogprob &chosen,
                                       const std::vector<TokenLogprob> &top) {
                lp->add(chosen, top);
                return !cancelled();
            };
        }
        // The host assembles text, reasoning and tool calls; events only carry cancellation.
        p.request.on_event = [&](const Event &e) {
            note_event(rec, e);
            return !cancelled();
        };
        try {
            GenerateResult r = st_.backend->generate(p.provider, p.request);
            r.text.insert(0, echoed);
            note_result(st_, rec, r);
            post_json(200, completion_body(meta, r, lp ? lp->take() : nlohmann::json(nullptr)));
        } catch (const BackendError &e) {
            if (cancelled()) { // nobody to answer
                note_cancel(rec);
                return push(call, "", true, true), void();
            }
            ApiError a = api_error_from_backend(e, p.provider);
            log_failure(st_, p.provider, e, a);
            post_error(a);
        }
    } catch (const std::exception &e) {
        post_error(make_error(500, std::string("internal error: ") + e.what(), "server_error"));
    }
}

// Each event becomes one chunk: TEXT delta.content, REASONING delta.reasoning_content,
// TOOL_CALL_START the call's first delta.tool_calls entry, TOOL_CALL_ARGS an arguments fragment.
std::string HttpSession::event_chunk(const ResponseMeta &meta, const Event &e,
                                     std::optional<LogprobsBuilder> &lp) {
    // The legacy text completion has only text: a model's reasoning is not part of it (as in
    // its non-streamed body), and tool calls cannot happen there (no tools on that endpoint).
    if (!meta.chat && e.type != LLMH_EVENT_TEXT) return {};
    switch (e.type) {
    case LLMH_EVENT_TEXT:
        return chunk(sse_content_chunk(meta, e.text, lp ? lp->take() : nlohmann::json(nullptr)));
    case LLMH_EVENT_REASONING: return chunk(sse_reasoning_chunk(meta, e.text));
    case LLMH_EVENT_TOOL_CALL_START:
        return chunk(sse_tool_call_start_chunk(meta, e.tool_index, e.tool_call_id, e.tool_name));
    case LLMH_EVENT_TOOL_CALL_ARGS:
        return chunk(sse_tool_call_args_chunk(meta, e.tool_index, e.text));
    default: return {}; // a newer event type: nothing the wire format can carry
    }
}

void HttpSession::run_stream(const std::shared_ptr<Call> &call, ParsedRequest &p,
                             const ResponseMeta &meta) {
    auto cancelled = [this, &call] { return call->cancelled.load() || st_.abort_all.load(); };
    bool started = false;
    const std::string echoed = p.echo_prompt ? p.request.prompt : std::string();
    // A chunk carries the logprobs of the tokens whose text it carries: the provider reports a
    // token before the piece with its text, so the entries gathered since the last piece belong
    // to this one (a token holding half a character waits for the piece that completes it).
    std::optional<LogprobsBuilder> lp;
    if (p.request.logprobs) {
        lp.emplace(p.chat, utf8_chars(echoed));
        p.request.on_logprob = [&](const TokenLogprob &chosen,
                                   const std::vector<TokenLogprob> &top) {
            lp->add(chosen, top);
            return !cancelled();
        };
    }
    RequestRecord &rec = *call->rec;
    auto begin = [&] { // headers go out with the first event, so an early failure keeps its status
        started = true;
        rec.status = 200;
        std::string s = stream_header(rec.id, rec.target);
        s += chunk(sse_role_chunk(meta));
        if (!echoed.empty()) s += chunk(sse_content_chunk(meta, echoed));
        return s;
    };
    p.request.on_event = [&](const Event &e) {
        note_event(rec, e);
        std::string piece = event_chunk(meta, e, lp);
        if (piece.empty()) return !cancelled();
        std::string out = started ? std::string() : begin();
        out += piece;
        return push(call, std::move(out), false) && !cancelled();
    };
    try {
        GenerateResult r = st_.backend->generate(p.provider, p.request);
        note_result(st_, rec, r);
        if (st_.options.log_content) rec.output.insert(0, echoed);
        std::string out = started ? std::string() : begin();
        // Tokens reported but never followed by text (e.g. a trailing partial character).
        const bool leftover = lp && !lp->empty();
        out += chunk(sse_finish_chunk(meta, finish_reason_name(r.finish_reason), p.include_usage,
                                      leftover ? lp->take() : nlohmann::json(nullptr)));
        if (p.include_usage) out += chunk(sse_usage_chunk(meta, r));
        out += chunk(kSseDone);
        out += kLastChunk;
        push(call, std::move(out), true);
    } catch (const BackendError &e) {
        if (cancelled()) return note_cancel(*call->rec), push(call, "", true, true), void();
        ApiError a = api_error_from_backend(e, p.provider);
        log_failure(st_, p.provider, e, a);
        if (!started) return post_error(a);
        // After the 200: an error event, then the end of the body (spec §7).
        rec.error = error_name(a);
        push(call, chunk(sse_error_event(a)) + std::string(kLastChunk), true, true);
    }
}

} // namespace llmhost::server
