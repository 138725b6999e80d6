// A served model: engine + tokenizer + chat template, and one request's text pipeline
// (see loaded_model.hpp).
#include "loaded_model.hpp"

#include <llmhost/engine/stop_strings.hpp>

#include <chrono>
#include <random>

namespace llmhost::hf {
namespace fs = std::filesystem;

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
} // namespace

engine::LoadOptions load_options(const ProviderConfig &cfg) {
    engine::LoadOptions lo;
    lo.device = cfg.device;
    lo.dtype = cfg.dtype;
    lo.max_context = cfg.max_context;
    lo.threads = cfg.threads;
    lo.max_batch = cfg.max_batch;
    return lo;
}

LoadedModel::LoadedModel(std::string id, const fs::path &dir, const ProviderConfig &cfg)
    : id_(std::move(id)), dir_(dir) {
    engine_ = engine::Engine::load(dir, load_options(cfg));
    if (fs::exists(dir / "tokenizer.json")) {
        try {
            tokenizer_.emplace(tok::Tokenizer::from_file((dir / "tokenizer.json").string()));
            token_bytes_.emplace(*tokenizer_);
        } catch (const tok::TokenizerError &e) {
            throw llmh::Error(LLMH_ERR_UNSUPPORTED, e.what(),
                              "this tokenizer.json uses a feature llmhost does not support yet");
        }
    }
    if (fs::exists(dir / "tokenizer_config.json")) {
        try {
            template_.emplace(tmpl::ChatTemplate::from_tokenizer_config(dir / "tokenizer_config.json"));
        } catch (const std::exception &e) {
            template_error_ = e.what(); // no chat template: completion still works
        }
    } else {
        template_error_ = "no tokenizer_config.json in " + dir.string();
    }
}

std::string LoadedModel::description(bool with_dir) const {
    const auto &c = engine_->config();
    return c.architecture + ", " + engine_->device() + " " + engine_->dtype() + ", context " +
           std::to_string(engine_->max_context()) + ", batch " +
           std::to_string(engine_->max_batch()) + (template_ ? ", chat" : "") +
           (with_dir ? " (" + dir_.string() + ")" : std::string());
}

std::vector<std::int32_t> LoadedModel::prompt_ids(const llmh::Request &req) const {
    if (!tokenizer_)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED, "model " + id_ + " has no tokenizer.json",
                          "llmhost reads the fast-tokenizer file tokenizer.json; add it to " +
                              dir_.string());
    if (!req.is_chat) return tokenizer_->encode(req.prompt, /*add_special_tokens=*/true);
    if (!template_)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "model " + id_ + " has no usable chat template: " + template_error_,
                          "send a raw prompt (completion) instead, or use an instruct/chat model");
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    for (const auto &m : req.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    std::string text;
    try {
        text = template_->apply(messages, /*add_generation_prompt=*/true);
    } catch (const tmpl::TemplateError &e) {
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          std::string("the chat template of ") + id_ + " refused the messages: " + e.what(),
                          e.raised() ? "the model's template does not accept this conversation "
                                       "(e.g. roles must alternate user/assistant)"
                                     : "the chat template uses a construct llmhost does not support");
    }
    // The template already wrote the special tokens (BOS...): as transformers, do not add them again.
    return tokenizer_->encode(text, /*add_special_tokens=*/false);
}

engine::GenerateOptions LoadedModel::options(const llmh::Request &req, const ProviderConfig &cfg,
                                             std::size_t prompt_tokens) const {
    const auto &g = engine_->generation_defaults();
    engine::GenerateOptions o;
    // Unset parameters take the model's generation_config.json values when it samples
    // (do_sample: true); otherwise decoding is greedy, as transformers' generate() would do.
    const bool model_samples = g.do_sample.value_or(false);
    auto &s = o.sampling;
    s.temperature = req.temperature >= 0 ? req.temperature
                    : model_samples     ? static_cast<float>(g.temperature.value_or(1.0))
                                        : 0.0f;
    s.top_p = req.top_p > 0 ? req.top_p : model_samples ? static_cast<float>(g.top_p.value_or(1.0)) : 1.0f;
    s.top_k = req.top_k > 0 ? req.top_k : model_samples ? static_cast<std::int32_t>(g.top_k.value_or(0)) : 0;
    s.min_p = req.min_p > 0 ? req.min_p : model_samples ? static_cast<float>(g.min_p.value_or(0.0)) : 0.0f;
    s.repetition_penalty = req.repetition_penalty > 0 ? req.repetition_penalty
                                                      : static_cast<float>(g.repetition_penalty.value_or(1.0));
    s.seed = req.seed ? *req.seed : std::random_device{}();
    if (req.max_tokens > 0) {
        o.max_tokens = req.max_tokens; // explicit: the engine refuses it if it overflows the context
    } else {
        const std::int64_t room = engine_->max_context() - static_cast<std::int64_t>(prompt_tokens);
        o.max_tokens = std::max<std::int64_t>(0, std::min<std::int64_t>(cfg.max_tokens, room));
    }
    o.eos_ids = engine_->eos_ids();
    o.top_logprobs = req.top_logprobs;
    return o;
}

llmh::Completion LoadedModel::generate(const llmh::Request &req, llmh::TokenSink &sink,
                                       const ProviderConfig &cfg) {
    const auto t0 = Clock::now();
    sink.check_cancelled();
    const std::vector<std::int32_t> prompt = prompt_ids(req);
    const double tokenize_ms = ms_since(t0);
    engine::GenerateOptions opts = options(req, cfg, prompt.size());
    opts.logprobs = req.logprobs && sink.wants_logprobs(); // nobody asked: the engine skips it

    tok::StreamDecoder decoder(*tokenizer_, /*skip_special_tokens=*/true);
    engine::StopStringMatcher stops(req.stop);
    // Logprobs are reported in text order around the held-back text (logprob_stream.hpp):
    // `decoded` counts bytes out of the decoder, `emitted` bytes released to the sink.
    LogprobStream logprobs(sink, *token_bytes_, opts.logprobs);
    std::size_t decoded = 0, emitted = 0;
    std::uint32_t produced = 0;
    bool stopped_by_string = false;
    auto emit = [&](const std::string &text) {
        logprobs.before_emit(emitted + text.size());
        emitted += text.size();
        if (!text.empty()) sink.emit(text, produced);
    };
    auto release = [&](const engine::StopStringMatcher::Result &r) {
        if (r.stopped) logprobs.stop_at(emitted + r.text.size());
        emit(r.text);
    };
    auto on_token = [&](std::int32_t id) {
        ++produced;
        const std::string piece = decoder.push(id);
        decoded += piece.size();
        auto r = stops.push(piece);
        release(r);
        stopped_by_string = r.stopped;
        return r.stopped ? engine::StepAction::Stop : engine::StepAction::Continue;
    };
    auto on_logprobs = [&](const engine::TokenLogprobs &lp) { logprobs.queue(lp, decoded); };
    engine::GenerateResult r = engine_->generate(
        prompt, opts, on_token, [&] { return sink.cancelled(); }, on_logprobs);
    if (!stopped_by_string) {
        auto tail = stops.push(decoder.flush());
        release(tail);
        if (!tail.stopped) emit(stops.flush());
        else r.finish = engine::Finish::Stop;
        if (!tail.stopped) logprobs.finish();
    }
    llmh::Completion c;
    c.finish_reason = r.finish == engine::Finish::Stop ? LLMH_FINISH_STOP : LLMH_FINISH_LENGTH;
    c.prompt_tokens = static_cast<std::uint32_t>(prompt.size());
    c.completion_tokens = static_cast<std::uint32_t>(r.tokens.size());
    c.time_to_first_token_ms = tokenize_ms + r.time_to_first_token_ms;
    c.total_ms = ms_since(t0);
    return c;
}

} // namespace llmhost::hf
