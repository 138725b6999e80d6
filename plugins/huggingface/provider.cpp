// The huggingface provider: runs Hugging Face models locally on libtorch. Ties together the Hub
// client (repo ids -> cache), the tokenizer, the chat template and the engine, behind plugin.hpp.
//
// Several models stay loaded (model_registry.hpp: an LRU under max_loaded_models and
// max_loaded_memory, plus keep_alive); the configured one is loaded at create, so a bad model
// fails the create and, on a live swap, the old instance keeps serving. A request naming another
// model (-m, or the OpenAI "model" field) loads it beside the others, unloading idle
// least-recently-used ones if needed; a name that does not resolve fails with not_found and
// unloads nothing. Thread-safe (LLMH_PROVIDER_THREAD_SAFE): concurrent requests for one model
// run together in its engine's batch scheduler, requests for different models run side by side.
#include "loaded_model.hpp"
#include "manifest.h"
#include "model_registry.hpp"
#include "model_resolver.hpp"
#include "provider_config.hpp"

#include <llmhost/engine/blas_probe.hpp>
#include <llmhost/plugin.hpp>

#include <atomic>

namespace llmhost::hf {

class HuggingFaceProvider final : public llmh::Provider {
public:
    HuggingFaceProvider(const std::string &config_json, llmh::Host host)
        : host_(host), cfg_(parse_provider_config(config_json)),
          registry_({static_cast<std::size_t>(cfg_.max_loaded_models), cfg_.max_loaded_memory,
                     cfg_.keep_alive_s},
                    hooks(), cfg_.default_model()) {
        if (cfg_.load_on_create && !cfg_.default_model().empty())
            registry_.acquire(cfg_.default_model()); // the lease ends here; the model stays
    }

    // What a model cannot honour (a structured response_format, tool_choice "required", tools
    // its template does not render...) is refused per model: chat_inputs.hpp, check_request.
    llmh::Completion generate(const llmh::Request &req, llmh::EventSink &sink) override {
        const std::string wanted =
            req.model && !req.model->empty() ? *req.model : cfg_.default_model();
        if (wanted.empty()) resolve_model(wanted, cfg_, host_); // throws the "no model" error
        auto model = registry_.acquire(wanted);
        return model->generate(req, sink, cfg_);
    }

    std::vector<llmh::ModelInfo> list_models() override {
        std::vector<llmh::ModelInfo> out;
        for (const auto &m : registry_.loaded()) out.push_back({m->id(), m->description()});
        return out;
    }

    bool thread_safe() const override { return true; }

    // For the host's /metrics (llmhost_provider_*{provider, model}): each loaded model's engine.
    // Read from atomics the engine publishes; never waits for a running request.
    std::vector<llmh::Metric> metrics() override {
        std::vector<llmh::Metric> out;
        const auto models = registry_.loaded();
        out.push_back({"models_loaded", "Models loaded by the provider.", false, "", "",
                       double(models.size())});
        auto hub = [&](const char *name, const char *help, double v) {
            out.push_back({name, help, true, "", "", v});
        };
        hub("hub_resolutions_total", "Repo ids resolved through the Hub client (cache or network).",
            double(hub_resolutions_.load()));
        hub("hub_download_bytes_total", "File bytes the Hub client downloaded into the cache.",
            double(hub_bytes_.load()));
        hub("hub_files_downloaded_total", "Files the Hub client downloaded and verified.",
            double(hub_files_downloaded_.load()));
        hub("hub_cache_hits_total", "Files a resolution found in the cache (no download).",
            double(hub_files_cached_.load()));
        for (const auto &m : models) {
            const engine::Engine &e = m->engine();
            const auto b = e.batch_stats();
            const auto p = e.prefix_cache_stats();
            const double capacity = double(e.max_batch()) * double(e.max_context());
            auto add = [&](const char *name, const char *help, bool counter, double v) {
                out.push_back({name, help, counter, "model", m->id(), v});
            };
            add("engine_slots", "KV-cache slots (sequences decoded together at most).", false,
                double(e.max_batch()));
            add("engine_slots_in_use", "KV-cache slots held by a running request now.", false,
                double(b.active_rows));
            add("kv_cache_bytes", "Bytes of the model's KV cache (allocated at load).", false,
                double(e.kv_cache_bytes()));
            add("kv_cache_occupancy",
                "Share of the KV cache's positions held by running requests (0..1).", false,
                capacity > 0 ? double(b.active_positions) / capacity : 0.0);
            add("weight_bytes", "Bytes of the model's weights as computed on.", false,
                double(e.weight_bytes()));
            add("prefix_cache_lookups_total", "Requests that looked for a cached prompt prefix.",
                true, double(p.lookups));
            add("prefix_cache_hits_total", "Requests that reused a cached prompt prefix.", true,
                double(p.hits));
            add("prefix_cache_reused_tokens_total", "Prompt tokens served from the prefix cache.",
                true, double(p.reused_tokens));
            add("engine_decode_steps_total", "Batched decode forward passes.", true,
                double(b.decode_steps));
        }
        return out;
    }

private:
    RegistryHooks hooks() {
        RegistryHooks h;
        h.resolve = [this](const std::string &name) {
            ResolvedModel m = resolve_model(name, cfg_, host_);
            if (m.through_hub) {
                hub_resolutions_ += 1;
                hub_bytes_ += m.downloaded_bytes;
                hub_files_downloaded_ += m.downloaded_files;
                hub_files_cached_ += m.cached_files;
            }
            return m;
        };
        h.estimate = [this](const std::filesystem::path &dir) {
            return static_cast<std::uint64_t>(
                engine::Engine::estimate_memory(dir, load_options(cfg_)));
        };
        h.load = [this](const ResolvedModel &m) {
            auto model = std::make_shared<LoadedModel>(m.id, m.dir, cfg_);
            host_.info("huggingface: loaded " + m.id + ": " +
                       model->description(/*with_dir=*/true));
            // fp32 on the CPU goes through libblas.so.3; the reference one is ~15x slower.
            if (model->engine().device() == "cpu")
                if (auto w = engine::reference_blas_warning(engine::process_blas()); !w.empty())
                    host_.warn("huggingface: " + w);
            return model;
        };
        h.log = [this](const std::string &line) { host_.info(line); };
        return h;
    }

    llmh::Host host_;
    ProviderConfig cfg_;
    // Hub transfers of every model resolution so far (metrics()).
    std::atomic<std::uint64_t> hub_resolutions_{0}, hub_bytes_{0}, hub_files_downloaded_{0},
        hub_files_cached_{0};
    ModelRegistry registry_; // last: its models go before the config they were loaded with
};

} // namespace llmhost::hf

LLMH_DEFINE_PLUGIN_WITH_MANIFEST(
    llmhost::hf::HuggingFaceProvider, "huggingface", "0.2.0",
    "Hugging Face models run locally on libtorch (Hub download with your token)",
    // Structured output and grammar/regex: guided decoding (structured_output.hpp).
    LLMH_CAP_CHAT | LLMH_CAP_COMPLETION | LLMH_CAP_STREAMING | LLMH_CAP_LIST_MODELS |
        LLMH_CAP_LOGPROBS | LLMH_CAP_TOOLS | LLMH_CAP_REASONING | LLMH_CAP_STRUCTURED_OUTPUT |
        LLMH_CAP_GRAMMAR,
    LLMH_HUGGINGFACE_MANIFEST)
