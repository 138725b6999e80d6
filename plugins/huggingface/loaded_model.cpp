// A served model: engine + tokenizer + chat template, and one request's text pipeline
// (see loaded_model.hpp).
#include "loaded_model.hpp"

#include "structured_output.hpp"

#include <llmhost/constraint/tokenizer_vocabulary.hpp>
#include <llmhost/engine/stop_strings.hpp>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

namespace llmhost::hf {
namespace fs = std::filesystem;

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string read_text(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

// The markers of every format toolcall parses. Those that are SPECIAL tokens in this vocabulary
// (Llama's <|python_tag|>, Mistral's [TOOL_CALLS]) would be skipped by the decoder: they are
// decoded as their text instead. Non-special ones (Qwen's <tool_call>, <think>) are text anyway.
constexpr const char *kFormatMarkers[] = {"<tool_call>",  "</tool_call>", "<|python_tag|>",
                                          "[TOOL_CALLS]", "[ARGS]",       "[CALL_ID]",
                                          "<think>",      "</think>"};
} // namespace

engine::LoadOptions load_options(const ProviderConfig &cfg) {
    engine::LoadOptions lo;
    lo.device = cfg.device;
    lo.dtype = cfg.dtype;
    lo.max_context = cfg.max_context;
    lo.threads = cfg.threads;
    lo.max_batch = cfg.max_batch;
    lo.prefix_cache = cfg.prefix_cache;
    return lo;
}

LoadedModel::LoadedModel(std::string id, const fs::path &dir, const ProviderConfig &cfg)
    : id_(std::move(id)), dir_(dir) {
    engine_ = engine::Engine::load(dir, load_options(cfg));
    if (fs::exists(dir / "tokenizer.json")) {
        try {
            tokenizer_.emplace(tok::Tokenizer::from_file((dir / "tokenizer.json").string()));
            token_bytes_.emplace(*tokenizer_);
            for (const char *m : kFormatMarkers)
                if (auto id = tokenizer_->token_to_id(m); id && tokenizer_->is_special(*id))
                    marker_ids_.insert(*id);
        } catch (const tok::TokenizerError &e) {
            throw llmh::Error(LLMH_ERR_UNSUPPORTED, e.what(),
                              "this tokenizer.json uses a feature llmhost does not support yet");
        }
    }
    if (fs::exists(dir / "tokenizer_config.json")) {
        try {
            template_.emplace(
                tmpl::ChatTemplate::from_tokenizer_config(dir / "tokenizer_config.json"));
            // The output format is the template's (it is what taught the model to write calls
            // that way), confirmed by the added tokens: toolcall::detect_format, docs/tools.md.
            traits_ =
                TemplateTraits::from_tokenizer_config(read_text(dir / "tokenizer_config.json"));
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

LoadedModel::Prompt LoadedModel::prompt(const llmh::Request &req) const {
    if (!tokenizer_)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED, "model " + id_ + " has no tokenizer.json",
                          "llmhost reads the fast-tokenizer file tokenizer.json; add it to " +
                              dir_.string());
    check_request(req, traits_, id_);
    if (!req.is_chat) return {tokenizer_->encode(req.prompt, /*add_special_tokens=*/true), false};
    if (!template_)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "model " + id_ + " has no usable chat template: " + template_error_,
                          "send a raw prompt (completion) instead, or use an instruct/chat model");
    const ChatInputs in = chat_inputs(req);
    std::string text;
    try {
        text = template_->apply(in.messages, /*add_generation_prompt=*/true, in.tools, in.extra);
    } catch (const tmpl::TemplateError &e) {
        throw llmh::Error(
            LLMH_ERR_INVALID_ARGUMENT,
            std::string("the chat template of ") + id_ + " refused the messages: " + e.what(),
            e.raised() ? "the model's template does not accept this conversation "
                         "(e.g. roles must alternate user/assistant)"
                       : "the chat template uses a construct llmhost does not support");
    }
    Prompt p;
    p.opens_reasoning = traits_.format.reasoning && toolcall::prompt_opens_reasoning(text);
    if (req.reasoning == LLMH_REASONING_OFF && p.opens_reasoning)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "huggingface: reasoning cannot be turned off for model " + id_ +
                              ": its chat template opens a <think> block even so",
                          "leave reasoning unset for this model");
    // The template already wrote the special tokens (BOS...): as transformers, do not add them
    // again.
    p.ids = tokenizer_->encode(text, /*add_special_tokens=*/false);
    return p;
}

OutputOptions LoadedModel::output_options(const llmh::Request &req, const Prompt &p,
                                          bool logprobs) const {
    OutputOptions o;
    o.stop = req.stop;
    o.logprobs = logprobs;
    if (!req.is_chat) return o; // a raw completion is text, whatever it looks like
    // tool_choice "none": the tools are still rendered (the model may talk about them), but
    // nothing it writes is read as a call: it is all text.
    const bool calls = !req.tools.empty() && req.tool_choice != llmh::ToolChoice::none;
    const bool reasoning = traits_.format.reasoning;
    if (!calls && !reasoning) return o;
    toolcall::ParserOptions po;
    po.tools = calls ? traits_.format.tools : toolcall::ToolFormat::none;
    po.reasoning = reasoning;
    po.starts_in_reasoning = p.opens_reasoning;
    po.make_id = toolcall::random_ids(std::random_device{}()); // "call_" + 24 random characters
    o.parser = std::move(po);
    o.stop_after_first_call = calls && req.parallel_tool_calls == false;
    o.marker_ids = marker_ids_;
    return o;
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
                    : model_samples      ? static_cast<float>(g.temperature.value_or(1.0))
                                         : 0.0f;
    s.top_p = req.top_p > 0   ? req.top_p
              : model_samples ? static_cast<float>(g.top_p.value_or(1.0))
                              : 1.0f;
    s.top_k = req.top_k > 0   ? req.top_k
              : model_samples ? static_cast<std::int32_t>(g.top_k.value_or(0))
                              : 0;
    s.min_p = req.min_p > 0   ? req.min_p
              : model_samples ? static_cast<float>(g.min_p.value_or(0.0))
                              : 0.0f;
    s.repetition_penalty = req.repetition_penalty > 0
                               ? req.repetition_penalty
                               : static_cast<float>(g.repetition_penalty.value_or(1.0));
    s.presence_penalty = req.presence_penalty;
    s.frequency_penalty = req.frequency_penalty;
    s.seed = req.seed ? *req.seed : std::random_device{}();
    if (req.max_tokens > 0) {
        o.max_tokens =
            req.max_tokens; // explicit: the engine refuses it if it overflows the context
    } else {
        const std::int64_t room = engine_->max_context() - static_cast<std::int64_t>(prompt_tokens);
        o.max_tokens = std::max<std::int64_t>(0, std::min<std::int64_t>(cfg.max_tokens, room));
    }
    o.eos_ids = engine_->eos_ids();
    o.top_logprobs = req.top_logprobs;
    return o;
}

std::shared_ptr<const constraint::TokenVocabulary> LoadedModel::vocabulary() const {
    std::call_once(vocabulary_once_, [&] {
        std::vector<std::int32_t> eos(engine_->eos_ids().begin(), engine_->eos_ids().end());
        // The format's special markers ([TOOL_CALLS], <|python_tag|>) are decoded as their
        // text (output_stream.hpp), so they keep their text here too.
        vocabulary_ = constraint::vocabulary_from_tokenizer(
            *tokenizer_, std::move(eos), static_cast<std::size_t>(engine_->config().vocab_size),
            marker_ids_);
    });
    return vocabulary_;
}

std::shared_ptr<constraint::Guide> LoadedModel::guide(const llmh::Request &req, const Prompt &p,
                                                      const engine::GenerateOptions &opts) const {
    const OutputConstraint oc = output_constraint(req, traits_.format.tools, id_);
    if (!oc.grammar) return nullptr;
    if (p.opens_reasoning)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "huggingface: " + oc.what + " is not supported while model " + id_ +
                              " starts inside a <think> block (its chat template opens it)",
                          "turn reasoning off for this request (reasoning: off), or drop " +
                              oc.what);
    if (req.reasoning == LLMH_REASONING_ON)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "huggingface: reasoning on together with " + oc.what +
                              " is not supported: the constrained output starts at once, with no "
                              "room for a <think> block before it",
                          "leave reasoning unset (or off) for this request, or drop " + oc.what);
    auto g = std::make_shared<constraint::Guide>(
        constraint::Constraint::create(oc.grammar, vocabulary()));
    // Budget-aware closing needs room for the shortest output at all: say so before generating.
    const std::int64_t budget =
        opts.max_tokens > 0 ? opts.max_tokens
                            : engine_->max_context() - static_cast<std::int64_t>(p.ids.size());
    const std::size_t least = g->min_tokens();
    if (least != constraint::Guide::kNoBound && static_cast<std::int64_t>(least) > budget)
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          "huggingface: the shortest output " + oc.what + " allows takes " +
                              std::to_string(least) + " tokens; max_tokens is " +
                              std::to_string(budget),
                          "raise max_tokens to at least " + std::to_string(least) +
                              " (or loosen the schema's minimums)");
    return g;
}

llmh::Completion LoadedModel::generate(const llmh::Request &req, llmh::EventSink &sink,
                                       const ProviderConfig &cfg) {
    const auto t0 = Clock::now();
    sink.check_cancelled();
    const Prompt p = prompt(req);
    const double tokenize_ms = ms_since(t0);
    engine::GenerateOptions opts = options(req, cfg, p.ids.size());
    opts.logprobs = req.logprobs && sink.wants_logprobs(); // nobody asked: the engine skips it
    opts.guide = guide(req, p, opts);

    OutputStream out(*tokenizer_, *token_bytes_, sink, output_options(req, p, opts.logprobs));
    engine::GenerateResult r = engine_->generate(
        p.ids, opts, [&](std::int32_t id) { return out.token(id); },
        [&] { return sink.cancelled(); },
        [&](const engine::TokenLogprobs &lp) { out.logprobs(lp); });
    const OutputStream::Outcome o = out.finish(r.finish);
    llmh::Completion c;
    c.finish_reason = o.finish;
    c.prompt_tokens = static_cast<std::uint32_t>(p.ids.size());
    c.cached_tokens = static_cast<std::uint32_t>(r.cached_tokens); // of prompt_tokens
    c.completion_tokens = static_cast<std::uint32_t>(r.tokens.size());
    c.reasoning_tokens = o.reasoning_tokens;
    c.time_to_first_token_ms = tokenize_ms + r.time_to_first_token_ms;
    c.total_ms = ms_since(t0);
    return c;
}

} // namespace llmhost::hf
