// One model ready to serve: the engine, the tokenizer (tokenizer.json) and the chat template
// (tokenizer_config.json), plus the text side of a request: prompt building, streaming decode,
// stop strings, and the mapping of request parameters onto the engine's.
#pragma once

#include "chat_inputs.hpp"
#include "logprob_stream.hpp"
#include "output_stream.hpp"
#include "provider_config.hpp"

#include <llmhost/constraint/constraint.hpp>
#include <llmhost/constraint/guide.hpp>
#include <llmhost/engine/engine.hpp>
#include <llmhost/plugin.hpp>
#include <llmhost/template/chat_template.hpp>
#include <llmhost/tokenizer/tokenizer.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace llmhost::hf {

// The engine's load options from the provider's config.
engine::LoadOptions load_options(const ProviderConfig &cfg);

class LoadedModel {
public:
    LoadedModel(std::string id, const std::filesystem::path &dir, const ProviderConfig &cfg);

    // Runs one request to completion, streaming events into `sink` (text, and for chat
    // requests reasoning and tool calls as the model's format writes them: output_stream.hpp).
    // Thread-safe: the tokenizer and template are immutable, and the engine batches concurrent
    // calls.
    llmh::Completion generate(const llmh::Request &req, llmh::EventSink &sink,
                              const ProviderConfig &cfg);

    // The id list_models shows (repo id or directory name, never a server path).
    const std::string &id() const { return id_; }
    const std::filesystem::path &dir() const { return dir_; }
    // For clients: architecture, device, dtype, context, batch. with_dir adds the directory
    // (for the server's own log only).
    std::string description(bool with_dir = false) const;
    std::size_t memory_bytes() const { return engine_->weight_bytes() + engine_->kv_cache_bytes(); }
    engine::Engine &engine() { return *engine_; }

private:
    struct Prompt {
        std::vector<std::int32_t> ids;
        bool opens_reasoning = false; // the template left a <think> block open for the model
    };
    Prompt prompt(const llmh::Request &req) const;
    OutputOptions output_options(const llmh::Request &req, const Prompt &p, bool logprobs) const;
    engine::GenerateOptions options(const llmh::Request &req, const ProviderConfig &cfg,
                                    std::size_t prompt_tokens) const;

    std::string id_;
    std::filesystem::path dir_;
    std::unique_ptr<engine::Engine> engine_;
    std::optional<tok::Tokenizer> tokenizer_;
    std::optional<TokenBytes> token_bytes_; // for logprobs; refers to *tokenizer_
    std::optional<tmpl::ChatTemplate> template_;
    std::string template_error_; // why there is no chat template, for the error message
    TemplateTraits traits_;      // tools / reasoning format of the template (chat_inputs.hpp)
    std::unordered_set<std::int32_t> marker_ids_; // special tokens of that format

    // Guided decoding (structured_output.hpp): the vocabulary as bytes, built on first use and
    // shared by every constrained request of this model (it holds the lexeme-mask cache).
    std::shared_ptr<const constraint::TokenVocabulary> vocabulary() const;
    std::shared_ptr<constraint::Guide> guide(const llmh::Request &req, const Prompt &p,
                                             const engine::GenerateOptions &opts) const;
    mutable std::once_flag vocabulary_once_;
    mutable std::shared_ptr<const constraint::TokenVocabulary> vocabulary_;
};

} // namespace llmhost::hf
