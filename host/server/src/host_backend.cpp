#include "host_backend.hpp"

#include <llmhost/host.hpp>

namespace llmhost::server {
namespace {

BackendError to_backend_error(const HostError &e) {
    return BackendError(e.code(), e.what(), e.hint(), e.retry_after_s(), e.http_status());
}

class HostBackend final : public Backend {
public:
    explicit HostBackend(Host &host) : host_(host) {}

    GenerationResult generate(const GenerationRequest &r, const PieceFn &on_piece,
                              const CancelFn &cancelled, const LogprobFn &on_logprob) override {
        GenerateRequest q;
        q.model = r.model;
        for (const auto &[role, content] : r.messages) q.messages.push_back({role, content});
        q.prompt = r.prompt;
        if (r.chat && q.messages.empty()) q.messages.push_back({"user", ""});
        q.max_tokens = r.max_tokens;
        q.temperature = r.temperature;
        q.top_p = r.top_p;
        q.seed = r.seed;
        q.stop = r.stop;
        q.stream = r.stream;
        q.should_cancel = cancelled;
        q.logprobs = r.logprobs;
        q.top_logprobs = r.top_logprobs;
        q.response_format_json = r.response_format_json;
        if (on_logprob)
            q.on_logprob = [&](const llmhost::TokenLogprob &chosen,
                               const std::vector<llmhost::TokenLogprob> &top) {
                std::vector<TokenLogprob> alternatives;
                alternatives.reserve(top.size());
                for (const auto &t : top) alternatives.push_back({t.token, t.logprob});
                return on_logprob({chosen.token, chosen.logprob}, alternatives);
            };
        GenerateResult res;
        try {
            res = host_.generate(r.provider, q, [&](std::string_view piece, uint32_t) {
                return on_piece(piece);
            });
        } catch (const HostError &e) {
            throw to_backend_error(e);
        }
        if (res.finish_reason == LLMH_FINISH_CANCELLED)
            throw BackendError(LLMH_ERR_CANCELLED, "generation cancelled: the client went away");
        GenerationResult out;
        out.finish_reason = res.finish_reason == LLMH_FINISH_LENGTH ? "length" : "stop";
        out.prompt_tokens = res.prompt_tokens;
        out.completion_tokens = res.completion_tokens;
        return out;
    }

    std::vector<std::string> providers() override {
        std::vector<std::string> names;
        for (const auto &p : host_.providers()) names.push_back(p.name);
        return names;
    }

    std::string default_provider() override { return host_.default_provider(); }

    std::vector<std::string> models(const std::string &provider) override {
        try {
            std::vector<std::string> ids;
            for (auto &m : host_.list_models(provider)) ids.push_back(std::move(m.id));
            return ids;
        } catch (const HostError &e) {
            throw to_backend_error(e);
        }
    }

    void swap(const std::string &name, const std::string &entry_json) override {
        nlohmann::json entry = nlohmann::json::parse(entry_json, nullptr, false);
        if (entry.is_discarded() || !entry.is_object())
            throw BackendError(LLMH_ERR_INVALID_ARGUMENT,
                               "the provider entry is not a JSON object",
                               "send {\"plugin\": \"<name>\", \"config\": {...}}");
        try {
            host_.swap(name, entry);
        } catch (const HostError &e) {
            throw to_backend_error(e);
        }
    }

    void reload() override {
        try {
            host_.reload();
        } catch (const HostError &e) {
            throw to_backend_error(e);
        }
    }

    std::string redact(std::string_view text) override { return host_.redact(text); }

private:
    Host &host_;
};

} // namespace

std::shared_ptr<Backend> make_host_backend(Host &host) { return std::make_shared<HostBackend>(host); }

} // namespace llmhost::server
