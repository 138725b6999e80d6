// Engine: load a model directory onto a device, own its static KV cache, and run
// prefill + decode with sampling. See engine.hpp for the contract and the context policy.
#include <llmhost/engine/engine.hpp>

#include "../../models/model.hpp"
#include "batch_scheduler.hpp"
#include "cpu_threads.hpp"
#include "guided_step.hpp"
#include "prefix_cache.hpp"

#include <llmhost/kernels/linear.hpp>
#include <llmhost/plugin.hpp>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h> // device_count(): the same call in libtorch 1.13 and 2.x

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>

namespace llmhost::engine {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

at::Device parse_device(const std::string &spec) {
    const bool have_cuda = at::hasCUDA();
    if (spec.empty() || spec == "auto") return have_cuda ? at::Device(at::kCUDA, 0) : at::kCPU;
    if (spec == "cpu") return at::kCPU;
    if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
        int index = 0;
        if (spec.size() > 5) {
            try {
                std::size_t used = 0;
                index = std::stoi(spec.substr(5), &used);
                if (used != spec.size() - 5 || index < 0) throw std::invalid_argument(spec);
            } catch (const std::exception &) {
                throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "device '" + spec + "' is not valid",
                                  "use auto, cpu, cuda or cuda:N (HF_DEVICE or config \"device\")");
            }
        }
        if (!have_cuda)
            throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                              "device '" + spec +
                                  "' requested but no CUDA device is usable "
                                  "(libtorch built without CUDA, or no GPU/driver)",
                              "use device cpu (HF_DEVICE=cpu) or a CUDA build of libtorch");
        // (CUDAHooksInterface::getNumGPUs() of libtorch 1.x is deviceCount() in recent 2.x.)
        const int n = static_cast<int>(torch::cuda::device_count());
        if (index >= n)
            throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                              "device '" + spec + "' does not exist: " + std::to_string(n) +
                                  " CUDA device(s) visible",
                              "use cuda:0 .. cuda:" + std::to_string(n - 1));
        return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "device '" + spec + "' is not valid",
                      "use auto, cpu, cuda or cuda:N (HF_DEVICE or config \"device\")");
}

// What the weights are stored as and what the model computes in. int8 / int4 are weight-only
// quantization on the CPU: activations, norms, attention and the KV cache stay float32.
struct Precision {
    at::ScalarType compute = at::kFloat;
    WeightQuant quant = WeightQuant::None;
};

Precision parse_dtype(const std::string &spec, at::Device device) {
    Precision p;
    if (spec.empty() || spec == "auto")
        p.compute = device.is_cpu() ? at::kFloat : at::kBFloat16;
    else if (spec == "float32" || spec == "fp32")
        p.compute = at::kFloat;
    else if (spec == "bfloat16" || spec == "bf16")
        p.compute = at::kBFloat16;
    else if (spec == "float16" || spec == "fp16")
        p.compute = at::kHalf;
    else if (spec == "int8" || spec == "int4")
        p.quant = spec == "int8" ? WeightQuant::Int8 : WeightQuant::Int4;
    else
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "dtype '" + spec + "' is not valid",
                          "use auto, float32, bfloat16, float16 (CUDA), int8 or int4 (CPU)");
    if (device.is_cpu() && p.compute == at::kHalf)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED, "float16 is not supported on the CPU",
                          "use float32, bfloat16, int8 or int4 on the CPU, float16 on CUDA");
    if (!device.is_cpu() && p.quant != WeightQuant::None)
        throw llmh::Error(LLMH_ERR_UNSUPPORTED,
                          "dtype '" + spec + "' (weight-only quantization) runs on the CPU only",
                          "use bfloat16 or float16 on " + device.str() + ", or device cpu");
    return p;
}

std::string dtype_str(Precision p) {
    if (p.quant != WeightQuant::None) return p.quant == WeightQuant::Int8 ? "int8" : "int4";
    return p.compute == at::kFloat ? "float32" : p.compute == at::kBFloat16 ? "bfloat16" : "float16";
}

// The KV-cache length. A max_context beyond what the model was trained for is a configuration
// error of the server, not of the request: HTTP 500 (the client cannot fix it).
std::int64_t context_length(const ModelConfig &cfg, const LoadOptions &opts, const fs::path &dir) {
    const std::int64_t limit = cfg.max_position_embeddings;
    const std::int64_t n =
        opts.max_context > 0 ? opts.max_context : std::min<std::int64_t>(limit, 4096);
    if (n > limit)
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          "huggingface provider config: \"max_context\" " + std::to_string(n) +
                              " exceeds the model's limit of " + std::to_string(limit) +
                              " positions (max_position_embeddings in " +
                              (dir / "config.json").string() + ")",
                          "set \"max_context\" to at most " + std::to_string(limit) +
                              " in the provider's config, or remove it (default: min(" +
                              std::to_string(limit) + ", 4096))",
                          /*http_status=*/500);
    return n;
}

std::int64_t batch_slots(const LoadOptions &opts, at::Device device) {
    if (opts.max_batch < 0)
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                          "max_batch " + std::to_string(opts.max_batch) + " is not valid",
                          "use 0 (default: 8 on CUDA, 4 on the CPU), 1 (no batching) or more");
    return opts.max_batch > 0 ? opts.max_batch : device.is_cuda() ? 8 : 4;
}

std::size_t dtype_bytes(at::ScalarType t) { return t == at::kFloat ? 4 : 2; }

// Bytes a tensor takes as loaded (Weights in models/weights.cpp): the compute dtype's; where
// projections are packed (CPU bfloat16, int8, int4), a projection's packed format and, with
// int8/int4, a lookup table's file dtype.
bool is_lookup_table(const std::string &name) {
    return name.find("embed_tokens") != std::string::npos ||
           name.find("wte.") != std::string::npos || name.find("wpe.") != std::string::npos;
}

std::size_t weight_bytes_estimate(const TensorView &t, Precision p, at::Device device) {
    std::size_t numel = 1;
    for (std::int64_t d : t.shape) numel *= static_cast<std::size_t>(d);
    if (!packs_projections(device, p.compute, p.quant) ||
        t.shape.size() != 2) // dense, norms, biases
        return numel * dtype_bytes(p.compute);
    if (is_lookup_table(t.name))
        return p.quant == WeightQuant::None ? numel * dtype_bytes(p.compute) : t.nbytes;
    const kernels::Format f = p.quant == WeightQuant::None   ? kernels::Format::BF16
                              : p.quant == WeightQuant::Int8 ? kernels::Format::Q8
                                                             : kernels::Format::Q4;
    return kernels::PackedMatrix::bytes_for(f, t.shape[0], t.shape[1]);
}

} // namespace

struct Engine::Impl {
    ModelConfig cfg;
    GenerationDefaults gen;
    std::vector<std::int64_t> eos;
    at::Device device = at::kCPU;
    Precision precision;
    std::int64_t max_ctx = 0;
    std::unique_ptr<CausalLM> model;
    KVCache cache; // max_batch rows
    std::unique_ptr<KVCacheRows> row_views; // run()'s row 0, made once (under serial_mu)
    std::size_t weight_bytes = 0;
    bool mapped = false;
    std::int64_t max_batch = 1;
    std::mutex serial_mu; // the serial path and forward(): one at a time
    // The serial path's occupancy for batch_stats() (the scheduler publishes its own).
    std::atomic<std::int64_t> serial_rows{0}, serial_positions{0};
    // Intra-op threads, applied on whichever thread runs the model (OpenMP's count is per thread).
    std::atomic<int> threads{0};
    void use_threads() const { use_cpu_threads_here(threads.load()); }
    std::unique_ptr<PrefixCache> prefix; // what each KV-cache row holds (prefix_cache.hpp)
    std::unique_ptr<BatchScheduler> scheduler; // last: its thread stops before the rest goes

    void check_vocab(std::span<const std::int32_t> ids) const {
        for (std::int32_t id : ids)
            if (id < 0 || id >= cfg.vocab_size)
                throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT,
                                  "token id " + std::to_string(id) +
                                      " is outside the vocabulary (" +
                                      std::to_string(cfg.vocab_size) + " ids)",
                                  "the tokenizer does not match the model");
    }

    at::Tensor ids_tensor(std::span<const std::int32_t> ids) const {
        std::vector<std::int64_t> v(ids.begin(), ids.end());
        return at::tensor(v, at::kLong).view({1, (std::int64_t)v.size()}).to(device);
    }

    // Runs ids at positions [start, start + n); returns fp32 logits on the CPU, [n or 1, V].
    at::Tensor run(std::span<const std::int32_t> ids, std::int64_t start, bool all) {
        const std::int64_t n = static_cast<std::int64_t>(ids.size());
        check_vocab(ids);
        KVCache &row = (*row_views)(0, 1);
        at::Tensor tokens = ids_tensor(ids);
        at::Tensor pos =
            at::arange(start, start + n, at::TensorOptions().dtype(at::kLong).device(device))
                .view({1, n});
        at::Tensor logits = model->forward(tokens, pos, start + n, row, all);
        return logits[0].to(at::kCPU).contiguous();
    }
};

namespace {

// The caller's side of a batched request: submit it, then deliver its ids on this thread as the
// loop produces them, polling cancellation between ids and while waiting (at least every 100 ms).
GenerateResult generate_batched(BatchScheduler &scheduler, std::span<const std::int32_t> prompt,
                                const GenerateOptions &opts, std::int64_t budget,
                                const TokenFn &on_token, const CancelFn &should_cancel,
                                const LogprobFn &on_logprobs, Clock::time_point t0,
                                GenerateResult r) {
    auto req = std::make_shared<BatchRequest>();
    req->prompt.assign(prompt.begin(), prompt.end());
    req->sampling = opts.sampling;
    req->eos_ids = opts.eos_ids;
    req->budget = budget;
    req->logprobs = opts.logprobs;
    req->top_logprobs = opts.top_logprobs;
    req->guide = opts.guide;
    scheduler.submit(req);
    r.cached_tokens = 0; // known once the loop has admitted the request
    // However we leave (stop, cancel, an exception from on_token), the loop frees the slot.
    struct Abandon {
        BatchRequest &r;
        ~Abandon() { r.abandoned = true; }
    } abandon{*req};
    auto cancel = [&] {
        if (should_cancel && should_cancel())
            throw llmh::Error(LLMH_ERR_CANCELLED, "generation cancelled by the caller");
    };
    Clock::time_point t_first = Clock::now();
    std::vector<std::int32_t> ids;
    std::vector<TokenLogprobs> lps; // parallel to ids when logprobs are asked
    for (;;) {
        bool done = false;
        std::exception_ptr error;
        Finish finish = Finish::Length;
        {
            std::unique_lock lk(req->mu);
            req->cv.wait_for(lk, std::chrono::milliseconds(100),
                             [&] { return !req->pending.empty() || req->done; });
            ids.assign(req->pending.begin(), req->pending.end());
            req->pending.clear();
            lps.assign(std::make_move_iterator(req->pending_logprobs.begin()),
                       std::make_move_iterator(req->pending_logprobs.end()));
            req->pending_logprobs.clear();
            done = req->done;
            error = req->error;
            finish = req->finish;
            r.prefill_ms = req->prefill_ms;
            r.cached_tokens = req->cached_tokens;
        }
        for (std::size_t k = 0; k < ids.size(); ++k) {
            const std::int32_t id = ids[k];
            if (r.tokens.empty()) {
                r.time_to_first_token_ms = ms_since(t0);
                t_first = Clock::now();
            }
            r.tokens.push_back(id);
            if (opts.logprobs) {
                r.logprobs.push_back(std::move(lps.at(k)));
                if (on_logprobs) on_logprobs(r.logprobs.back());
            }
            if (on_token && on_token(id) == StepAction::Stop) {
                r.finish = Finish::Stop;
                done = true;
                error = nullptr;
                finish = Finish::Stop;
                break;
            }
            if (static_cast<std::int64_t>(r.tokens.size()) < budget) cancel();
        }
        if (done) {
            if (error) std::rethrow_exception(error);
            r.finish = finish;
            break;
        }
        if (ids.empty()) cancel();
    }
    if (r.tokens.empty()) r.time_to_first_token_ms = ms_since(t0); // eos came first
    r.decode_ms = ms_since(t_first);
    r.total_ms = ms_since(t0);
    return r;
}

} // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::load(const fs::path &dir, const LoadOptions &opts) {
    c10::InferenceMode guard;
    auto im = std::make_unique<Impl>();
    try {
        if (!fs::is_directory(dir))
            throw llmh::Error(
                LLMH_ERR_NOT_FOUND, "model directory " + dir.string() + " does not exist",
                "give a directory with config.json and model.safetensors, or a repo id");
        im->cfg = load_model_config(dir);
        im->gen = load_generation_defaults(dir);
        im->eos = !im->gen.eos_token_ids.empty() ? im->gen.eos_token_ids : im->cfg.eos_token_ids;
        im->device = parse_device(opts.device);
        im->precision = parse_dtype(opts.dtype, im->device);
        im->threads = apply_cpu_threads(opts.threads); // 0: physical cores (cpu_threads.hpp)
        im->max_ctx = context_length(im->cfg, opts, dir);
        require_supported_architecture(im->cfg.architecture); // before touching weights
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open_dir(dir);
        Weights w(ckpt, im->device, im->precision.compute, im->precision.quant);
        im->model = make_model(im->cfg, w, im->max_ctx);
        im->weight_bytes = w.loaded_bytes();
        im->mapped = w.all_views();
        im->max_batch = batch_slots(opts, im->device);
        im->cache = im->model->make_cache(im->max_batch, im->max_ctx);
        im->row_views = std::make_unique<KVCacheRows>(im->cache);
        im->prefix = std::make_unique<PrefixCache>(static_cast<std::size_t>(im->max_batch),
                                                   opts.prefix_cache);
        if (im->max_batch > 1)
            im->scheduler = std::make_unique<BatchScheduler>(
                *im->model, im->cache, *im->prefix, im->device, im->max_batch, im->threads);
    } catch (const ModelFileError &e) {
        throw llmh::Error(
            LLMH_ERR_INVALID_ARGUMENT, e.what(),
            "re-download or re-export the model; the files are incomplete or corrupt");
    } catch (const c10::Error &e) {
        const std::string what = e.what_without_backtrace();
        if (what.find("out of memory") != std::string::npos)
            throw llmh::Error(LLMH_ERR_OUT_OF_MEMORY, "loading " + dir.string() + ": " + what,
                              "use a smaller model, a smaller max_context, or bfloat16");
        throw llmh::Error(LLMH_ERR_INTERNAL, "loading " + dir.string() + ": " + what,
                          "this is a bug in the engine; please report it");
    }
    return std::unique_ptr<Engine>(new Engine(std::move(im)));
}

std::size_t Engine::estimate_memory(const fs::path &dir, const LoadOptions &opts) {
    if (!fs::is_directory(dir))
        throw llmh::Error(LLMH_ERR_NOT_FOUND, "model directory " + dir.string() + " does not exist",
                          "give a directory with config.json and model.safetensors, or a repo id");
    try {
        const ModelConfig cfg = load_model_config(dir);
        const at::Device device = parse_device(opts.device);
        const Precision precision = parse_dtype(opts.dtype, device);
        const std::size_t elt =
            dtype_bytes(kv_cache_dtype(device, precision.compute, precision.quant));
        std::size_t weights = 0;
        const SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open_dir(dir); // headers only
        for (const auto &[name, t] : ckpt.tensors())
            weights += weight_bytes_estimate(t, precision, device);
        // Where projections are packed, a tied lm_head is a packed copy of the embedding table.
        if (packs_projections(device, precision.compute, precision.quant) &&
            cfg.tie_word_embeddings && !ckpt.contains("lm_head.weight"))
            for (const auto &[name, t] : ckpt.tensors())
                if (is_lookup_table(name) && name.find("wpe.") == std::string::npos) {
                    TensorView head = t;
                    head.name = "lm_head.weight";
                    weights += weight_bytes_estimate(head, precision, device);
                }
        const std::size_t kv = static_cast<std::size_t>(batch_slots(opts, device)) * 2 *
                               cfg.num_hidden_layers * cfg.num_key_value_heads * cfg.head_dim *
                               context_length(cfg, opts, dir) * elt;
        return weights + kv;
    } catch (const ModelFileError &e) {
        throw llmh::Error(
            LLMH_ERR_INVALID_ARGUMENT, e.what(),
            "re-download or re-export the model; the files are incomplete or corrupt");
    }
}

std::vector<float> Engine::forward(std::span<const std::int32_t> ids, std::int64_t start_pos,
                                   bool all_logits) {
    c10::InferenceMode guard;
    std::lock_guard lk(impl_->serial_mu);
    impl_->use_threads();
    if (ids.empty() || start_pos < 0 || start_pos + (std::int64_t)ids.size() > impl_->max_ctx)
        throw llmh::Error(LLMH_ERR_CONTEXT_OVERFLOW, "forward: positions out of the context",
                          "max_context is " + std::to_string(impl_->max_ctx));
    impl_->prefix->forget(0); // row 0 no longer holds what the prefix cache remembers
    at::Tensor l = impl_->run(ids, start_pos, all_logits);
    return std::vector<float>(l.data_ptr<float>(), l.data_ptr<float>() + l.numel());
}

GenerateResult Engine::generate(std::span<const std::int32_t> prompt, const GenerateOptions &opts,
                                const TokenFn &on_token, const CancelFn &should_cancel,
                                const LogprobFn &on_logprobs) {
    c10::InferenceMode guard;
    Impl &m = *impl_;
    const auto t0 = Clock::now();
    GenerateResult r;
    const std::int64_t n = static_cast<std::int64_t>(prompt.size());
    r.prompt_tokens = n;
    if (n == 0)
        throw llmh::Error(LLMH_ERR_INVALID_ARGUMENT, "the prompt is empty (0 tokens)",
                          "give a non-empty prompt");
    if (n >= m.max_ctx)
        throw llmh::Error(LLMH_ERR_CONTEXT_OVERFLOW,
                          "the prompt has " + std::to_string(n) + " tokens; the context holds " +
                              std::to_string(m.max_ctx) + ", leaving no room to generate",
                          "shorten the prompt or raise max_context (up to " +
                              std::to_string(m.cfg.max_position_embeddings) + " for this model)");
    const std::int64_t room = m.max_ctx - n;
    std::int64_t budget = room;
    if (opts.max_tokens > 0) {
        if (opts.max_tokens > room)
            throw llmh::Error(LLMH_ERR_CONTEXT_OVERFLOW,
                              "prompt (" + std::to_string(n) + " tokens) + max_tokens (" +
                                  std::to_string(opts.max_tokens) + ") exceeds the context of " +
                                  std::to_string(m.max_ctx) + " tokens",
                              "lower max_tokens to at most " + std::to_string(room) +
                                  ", shorten the prompt, or raise max_context");
        budget = opts.max_tokens;
    }
    m.check_vocab(prompt);
    auto cancelled = [&] { return should_cancel && should_cancel(); };
    if (cancelled()) throw llmh::Error(LLMH_ERR_CANCELLED, "generation cancelled by the caller");
    if (m.scheduler)
        return generate_batched(*m.scheduler, prompt, opts, budget, on_token, should_cancel,
                                on_logprobs, t0, r);

    std::lock_guard lk(m.serial_mu);
    m.use_threads();
    Sampler sampler(opts.sampling);
    std::optional<GuidedStep> guided;
    if (opts.guide) guided.emplace(*opts.guide);
    std::vector<std::int32_t> history(prompt.begin(), prompt.end());
    std::vector<float> raw;         // the step's logits before sampling, when logprobs are asked
    std::vector<std::int32_t> feed; // ids for the next forward pass (sampled + fast-forwarded)
    // The single row keeps what ran through it, however we leave (prefix_cache.hpp).
    const std::int64_t reuse = m.prefix->acquire(prompt)->reuse; // slot 0: serial_mu is held
    std::int64_t fed = reuse; // history[0, fed) is in the row
    struct Release {
        PrefixCache &cache;
        const std::vector<std::int32_t> &history;
        const std::int64_t &fed;
        ~Release() { cache.release(0, std::span(history).first(static_cast<std::size_t>(fed))); }
    } release{*m.prefix, history, fed};
    m.serial_rows = 1;
    m.serial_positions = n;
    struct Idle {
        Impl &m;
        ~Idle() { m.serial_rows = 0, m.serial_positions = 0; }
    } idle{m};
    r.cached_tokens = reuse;
    // Prefill: one pass over the prompt beyond the reused prefix.
    at::Tensor logits = m.run(prompt.subspan(static_cast<std::size_t>(reuse)), reuse, false);
    fed = n;
    r.prefill_ms = ms_since(t0);
    const auto t_decode = Clock::now();
    r.finish = Finish::Length;
    bool stopped = false;
    for (std::int64_t i = 0; i < budget && !stopped;) {
        std::span<float> row(logits.data_ptr<float>(), static_cast<std::size_t>(logits.size(-1)));
        if (opts.logprobs) raw.assign(row.begin(), row.end()); // the sampler edits row in place
        feed.clear();
        if (guided) {
            GuidedStep::Pick p = guided->pick(sampler, row, history, budget - i, !opts.logprobs);
            feed.push_back(p.id);
            feed.insert(feed.end(), p.forced.begin(), p.forced.end());
        } else {
            feed.push_back(sampler.sample(row, history));
        }
        if (i == 0) r.time_to_first_token_ms = ms_since(t0);
        if (std::find(opts.eos_ids.begin(), opts.eos_ids.end(), feed[0]) != opts.eos_ids.end()) {
            r.finish = Finish::Stop;
            break;
        }
        if (opts.logprobs) {
            r.logprobs.push_back(compute_logprobs(raw, feed[0], opts.top_logprobs));
            if (on_logprobs) on_logprobs(r.logprobs.back());
        }
        const std::int64_t start = n + i; // position of feed[0]
        for (std::int32_t id : feed) {
            r.tokens.push_back(id);
            history.push_back(id);
            ++i;
            if (on_token && on_token(id) == StepAction::Stop) {
                r.finish = Finish::Stop;
                stopped = true;
                break;
            }
        }
        if (stopped || i >= budget) break; // no forward pass for a token nobody will sample
        if (cancelled())
            throw llmh::Error(LLMH_ERR_CANCELLED, "generation cancelled by the caller");
        m.serial_positions = start + static_cast<std::int64_t>(feed.size());
        logits = m.run(feed, start, false); // fast-forwarded ids ride along in the same pass
        fed = start + static_cast<std::int64_t>(feed.size());
    }
    r.decode_ms = ms_since(t_decode);
    r.total_ms = ms_since(t0);
    return r;
}

const ModelConfig &Engine::config() const { return impl_->cfg; }
const GenerationDefaults &Engine::generation_defaults() const { return impl_->gen; }
const std::vector<std::int64_t> &Engine::eos_ids() const { return impl_->eos; }
std::int64_t Engine::max_context() const { return impl_->max_ctx; }
std::int64_t Engine::max_batch() const { return impl_->max_batch; }
BatchStats Engine::batch_stats() const {
    if (impl_->scheduler) return impl_->scheduler->stats();
    BatchStats s;
    s.active_rows = impl_->serial_rows.load();
    s.active_positions = impl_->serial_positions.load();
    return s;
}
std::string Engine::decode_graph_status() const {
    return impl_->scheduler ? impl_->scheduler->decode_graph_status() : "off: max_batch 1";
}
PrefixCacheStats Engine::prefix_cache_stats() const { return impl_->prefix->stats(); }
std::string Engine::device() const { return impl_->device.str(); }
std::string Engine::dtype() const { return dtype_str(impl_->precision); }
std::size_t Engine::weight_bytes() const { return impl_->weight_bytes; }
std::size_t Engine::kv_cache_bytes() const { return impl_->cache.bytes(); }
void Engine::set_threads(int threads) { impl_->threads = apply_cpu_threads(threads); }
int Engine::threads() const { return impl_->threads.load(); }
bool Engine::weights_mapped() const { return impl_->mapped; }

} // namespace llmhost::engine
