// The huggingface provider: runs Hugging Face models locally on libtorch. Ties together the Hub
// client (repo ids -> cache), the tokenizer, the chat template and the engine, behind plugin.hpp.
//
// One model is loaded at a time (the configured one at create, so a bad model fails the create
// and, on a live swap, the old instance keeps serving). A request naming another model (-m) loads
// that one in its place. Thread-safe (LLMH_PROVIDER_THREAD_SAFE): concurrent requests for the
// loaded model run together in the engine's batch scheduler; a swap to another model waits for
// the requests in flight on the old one (readers/writer lock), then loads.
#include "loaded_model.hpp"
#include "model_resolver.hpp"
#include "provider_config.hpp"

#include <llmhost/plugin.hpp>

#include <memory>
#include <mutex>
#include <shared_mutex>

namespace llmhost::hf {

class HuggingFaceProvider final : public llmh::Provider {
public:
    HuggingFaceProvider(const std::string &config_json, llmh::Host host)
        : host_(host), cfg_(parse_provider_config(config_json)) {
        if (cfg_.load_on_create && !cfg_.default_model().empty()) load(cfg_.default_model());
    }

    llmh::Completion generate(const llmh::Request &req, llmh::TokenSink &sink) override {
        const std::string wanted = req.model && !req.model->empty() ? *req.model : cfg_.default_model();
        for (;;) {
            {
                std::shared_lock lk(mu_);
                if (serves(wanted)) return model_->generate(req, sink, cfg_);
            }
            std::unique_lock lk(mu_); // waits for the requests running on the old model
            if (!serves(wanted)) load(wanted);
        }
    }

    std::vector<llmh::ModelInfo> list_models() override {
        std::shared_lock lk(mu_);
        if (!model_) return {};
        return {{model_->id(), model_->description()}};
    }

    bool thread_safe() const override { return true; }

private:
    bool serves(const std::string &wanted) const {
        return model_ && (wanted == model_->id() || wanted == model_->dir().string());
    }

    // Caller holds mu_ exclusively (or is the constructor).
    void load(const std::string &id) {
        model_.reset(); // free the old model's memory before loading the next one
        const auto dir = resolve_model(id, cfg_, host_);
        model_ = std::make_unique<LoadedModel>(id, dir, cfg_);
        host_.info("huggingface: loaded " + model_->description());
    }

    llmh::Host host_;
    ProviderConfig cfg_;
    std::shared_mutex mu_; // shared: generate on model_; exclusive: replace model_
    std::unique_ptr<LoadedModel> model_;
};

} // namespace llmhost::hf

LLMH_DEFINE_PLUGIN(llmhost::hf::HuggingFaceProvider, "huggingface", "0.1.0",
                   "Hugging Face models run locally on libtorch (Hub download with your token)",
                   LLMH_CAP_CHAT | LLMH_CAP_COMPLETION | LLMH_CAP_STREAMING | LLMH_CAP_LIST_MODELS)
