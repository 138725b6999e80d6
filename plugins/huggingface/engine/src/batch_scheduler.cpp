// The continuous-batching loop (see batch_scheduler.hpp).
#include "batch_scheduler.hpp"

#include "cpu_threads.hpp"
#include "device_pick.hpp"

#include <llmhost/plugin.hpp>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

namespace llmhost::engine {

namespace {
using Clock = std::chrono::steady_clock;

at::Tensor long_tensor(const std::vector<std::int64_t> &v, std::int64_t rows, at::Device device) {
    return at::tensor(v, at::kLong).view({rows, -1}).to(device);
}

bool device_sampling_default(at::Device device) {
    const char *env = std::getenv("LLMHOST_DEVICE_SAMPLING");
    if (env && std::string(env) == "0") return false;
    return !device.is_cpu() || (env && std::string(env) == "1");
}

// Positions [0, len) of row `from` into row `to`, every layer (cache: [B, KV, max_ctx, hd]).
void copy_prefix(KVCache &cache, std::size_t from, std::size_t to, std::int64_t len) {
    if (len <= 0) return;
    const auto f = static_cast<std::int64_t>(from), t = static_cast<std::int64_t>(to);
    for (auto *layers : {&cache.k, &cache.v})
        for (at::Tensor &x : *layers)
            x.select(0, t).narrow(1, 0, len).copy_(x.select(0, f).narrow(1, 0, len));
}
} // namespace

BatchScheduler::BatchScheduler(CausalLM &model, KVCache &cache, PrefixCache &prefix,
                               at::Device device, std::int64_t slots,
                               const std::atomic<int> &threads)
    : model_(model), cache_(cache), prefix_(prefix), device_(device),
      device_sampling_(device_sampling_default(device)), slots_(static_cast<std::size_t>(slots)),
      threads_(threads), thread_() {
    if (const auto mode = StaticDecode::mode_for(device); mode != StaticDecode::Mode::Off)
        static_ = std::make_unique<StaticDecode>(model, cache, device, mode);
    thread_ = std::thread([this] { loop(); }); // last: every member above exists
}

std::string BatchScheduler::decode_graph_status() const {
    return static_ ? static_->status() : "off";
}

at::Tensor BatchScheduler::logits_to_host(const at::Tensor &t) {
    if (t.is_cpu()) return t.contiguous();
    if (!pinned_.defined() || pinned_.numel() < t.numel())
        pinned_ =
            at::empty({t.numel()}, at::TensorOptions().dtype(t.scalar_type()).pinned_memory(true));
    at::Tensor dst = pinned_.narrow(0, 0, t.numel()).view(t.sizes());
    dst.copy_(t); // synchronous: the sampler reads it next
    return dst;
}

Sampler::Plain BatchScheduler::device_pick(const Slot &s) const {
    if (!device_sampling_ || s.req->logprobs || s.guided) return Sampler::Plain::No;
    return s.sampler->plain();
}

BatchScheduler::~BatchScheduler() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void BatchScheduler::submit(std::shared_ptr<BatchRequest> req) {
    {
        std::lock_guard lk(mu_);
        waiting_.push_back(std::move(req));
    }
    cv_.notify_one();
}

BatchStats BatchScheduler::stats() const {
    return {prefills_.load(),         decode_steps_.load(),    decode_rows_.load(),
            max_rows_.load(),         decode_us_.load() / 1e3, active_rows_.load(),
            active_positions_.load(), device_picked_.load()};
}

void BatchScheduler::publish_occupancy() {
    std::int64_t rows = 0, positions = 0;
    for (const auto &s : slots_)
        if (s && s->req) ++rows, positions += s->next_pos + 1;
    active_rows_ = rows;
    active_positions_ = positions;
}

bool BatchScheduler::any_active() const {
    return std::any_of(slots_.begin(), slots_.end(), [](const auto &s) { return s.has_value(); });
}

void BatchScheduler::retire(std::size_t i, std::exception_ptr error) {
    BatchRequest &r = *slots_[i]->req;
    {
        std::lock_guard lk(r.mu);
        r.done = true;
        if (error) r.error = error;
    }
    r.cv.notify_all();
    // The row keeps what ran through it, for a request that continues this conversation.
    const Slot &s = *slots_[i];
    prefix_.release(i, std::span(s.history).first(static_cast<std::size_t>(s.fed)));
    slots_[i].reset(); // the cache row is free for the next request
}

void BatchScheduler::sample_and_deliver(Slot &s, float *logits, std::int64_t vocab) {
    BatchRequest &r = *s.req;
    if (r.logprobs) s.raw.assign(logits, logits + vocab); // the sampler edits logits in place
    const std::span<float> row(logits, static_cast<std::size_t>(vocab));
    std::vector<std::int32_t> ids; // the sampled id, then the fast-forwarded ones
    if (s.guided) {
        GuidedStep::Pick p =
            s.guided->pick(*s.sampler, row, s.history, r.budget - s.generated, !r.logprobs);
        ids.push_back(p.id);
        ids.insert(ids.end(), p.forced.begin(), p.forced.end());
    } else {
        ids.push_back(s.sampler->sample(row, s.history));
    }
    const std::int32_t id = ids.front();
    const bool eos = std::find(r.eos_ids.begin(), r.eos_ids.end(), id) != r.eos_ids.end();
    std::optional<TokenLogprobs> lp;
    if (r.logprobs && !eos) lp = compute_logprobs(s.raw, id, r.top_logprobs);
    deliver(s, ids, std::move(lp));
}

void BatchScheduler::deliver(Slot &s, const std::vector<std::int32_t> &ids,
                             std::optional<TokenLogprobs> lp) {
    BatchRequest &r = *s.req;
    const bool eos = std::find(r.eos_ids.begin(), r.eos_ids.end(), ids.front()) != r.eos_ids.end();
    {
        std::lock_guard lk(r.mu);
        if (eos) {
            r.finish = Finish::Stop; // eos is not handed to on_token (as the serial path)
        } else {
            for (std::int32_t x : ids) r.pending.push_back(x);
            if (lp) r.pending_logprobs.push_back(std::move(*lp));
            s.generated += static_cast<std::int64_t>(ids.size());
            if (s.generated == r.budget) r.finish = Finish::Length;
        }
    }
    r.cv.notify_all();
    if (eos) return;
    s.history.insert(s.history.end(), ids.begin(), ids.end());
    s.feed.assign(ids.begin(), ids.end() - 1);
    s.last_id = ids.back();
    s.next_pos = static_cast<std::int64_t>(r.prompt.size()) + s.generated - 1;
}

void BatchScheduler::feed_forced(std::size_t i) {
    Slot &s = *slots_[i];
    const std::int64_t k = static_cast<std::int64_t>(s.feed.size());
    const std::int64_t first = s.next_pos - k; // the fed ids sit right before last_id
    std::vector<std::int64_t> ids(s.feed.begin(), s.feed.end());
    at::Tensor pos =
        at::arange(first, s.next_pos, at::TensorOptions().dtype(at::kLong).device(device_))
            .view({1, k});
    KVCache &row = row_views_(static_cast<std::int64_t>(i), 1);
    model_.forward(long_tensor(ids, 1, device_), pos, s.next_pos, row, false);
    s.feed.clear();
    s.fed = s.next_pos;
}

void BatchScheduler::admit(std::shared_ptr<BatchRequest> req, const PrefixCache::Pick &pick) {
    const std::size_t i = pick.slot;
    const std::int64_t reuse = pick.reuse;
    slots_[i]->req = std::move(req); // first, so that retire() can always reach the request
    Slot &slot = *slots_[i];
    slot.history = slot.req->prompt;
    try {
        slot.sampler.emplace(slot.req->sampling);
        if (slot.req->guide) slot.guided.emplace(*slot.req->guide);
        const auto t0 = Clock::now();
        if (pick.source != i) copy_prefix(cache_, pick.source, i, reuse);
        slot.fed = reuse; // positions [0, reuse) of the row now hold this prompt's prefix
        // Only the prompt beyond the reused prefix runs, at its own positions [reuse, n).
        const std::int64_t n = static_cast<std::int64_t>(slot.req->prompt.size());
        std::vector<std::int64_t> ids(slot.req->prompt.begin() + reuse, slot.req->prompt.end());
        at::Tensor tokens = long_tensor(ids, 1, device_);
        at::Tensor pos = at::arange(reuse, n, at::TensorOptions().dtype(at::kLong).device(device_))
                             .view({1, n - reuse});
        KVCache &row = row_views_(static_cast<std::int64_t>(i), 1);
        at::Tensor logits = model_.forward(tokens, pos, n, row, false).to(at::kCPU).contiguous();
        slot.fed = n;
        prefix_.hold(i, slot.req->prompt); // others may copy from it while it generates
        ++prefills_;
        {
            std::lock_guard lk(slot.req->mu);
            slot.req->cached_tokens = reuse;
        }
        slot.req->prefill_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        sample_and_deliver(slot, logits.data_ptr<float>(), logits.size(-1));
    } catch (...) {
        retire(i, std::current_exception());
        return;
    }
    if (slot.req->finish == Finish::Stop || slot.generated == slot.req->budget) retire(i);
}

void BatchScheduler::decode_step() {
    const auto t0 = Clock::now();
    // Fast-forwarded ids go into their slot's cache row first (a failure retires that slot only).
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (!slots_[i] || slots_[i]->feed.empty()) continue;
        try {
            feed_forced(i);
        } catch (...) {
            retire(i, std::current_exception());
        }
    }
    std::size_t lo = slots_.size(), hi = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i)
        if (slots_[i]) lo = std::min(lo, i), hi = i;
    if (lo > hi) return;
    // The static step runs rows [0, n), n a power of two (few shapes to capture); the free ones
    // in it decode a dummy.
    const bool static_step = static_ && static_->mode() != StaticDecode::Mode::Off;
    if (static_step)
        lo = 0, hi = static_cast<std::size_t>(static_->rows(static_cast<std::int64_t>(hi) + 1)) - 1;
    const std::int64_t B = static_cast<std::int64_t>(hi - lo + 1);
    std::vector<std::int64_t> ids(B, 0), pos(B, 0); // free slots in the range: token 0
    std::int64_t kv_len = 1, active = 0;
    for (std::size_t i = lo; i <= hi; ++i) {
        if (!slots_[i]) continue;
        ++active;
        ids[i - lo] = slots_[i]->last_id;
        pos[i - lo] = slots_[i]->next_pos;
        kv_len = std::max(kv_len, slots_[i]->next_pos + 1);
    }
    // A free row's dummy writes just past its cached prefix, so the prefix survives. Its query
    // must see at least one key (an all-masked softmax would write NaN into the row, and
    // 0 * NaN poisons later masked reads): key 0 is visible from any position, except under a
    // sliding window, where the step attends up to the dummy's own key instead (a longer
    // kv_len for this step; the real rows' mask hides the extra keys).
    const bool window = model_.config().sliding_window.has_value();
    for (std::size_t i = lo; i <= hi; ++i) {
        if (slots_[i]) continue;
        std::int64_t d = prefix_.length(i);
        if (d > cache_.max_ctx - 1) { // cannot happen (the last sampled id never runs): guard
            d = cache_.max_ctx - 1;
            prefix_.truncate(i, d);
        }
        pos[i - lo] = d;
        if (window) kv_len = std::max(kv_len, d + 1);
    }
    // Rows whose logits come to the host for the sampler (host_row[r] = their index in
    // `logits`), and rows whose id is picked on the device (picked[r] = their id, after the
    // forward; device_pick.hpp). A drawing row's uniform is taken from its sampler now, as
    // sample() would take it, so that its random stream is the host path's.
    std::vector<std::int64_t> host_row(static_cast<std::size_t>(B), -1), to_host;
    std::vector<std::int64_t> picked(static_cast<std::size_t>(B), -1);
    DevicePicks picks;
    for (std::size_t i = lo; i <= hi; ++i) {
        if (!slots_[i]) continue;
        const auto r = static_cast<std::int64_t>(i - lo);
        switch (device_pick(*slots_[i])) {
        case Sampler::Plain::Greedy: picks.greedy_rows.push_back(r); break;
        case Sampler::Plain::Temperature:
            picks.draw_rows.push_back(r);
            picks.temperatures.push_back(slots_[i]->req->sampling.temperature);
            picks.units.push_back(slots_[i]->sampler->next_unit());
            break;
        case Sampler::Plain::Nucleus: {
            const SamplingParams &p = slots_[i]->req->sampling;
            picks.nucleus_rows.push_back(r);
            picks.nucleus_temperatures.push_back(p.temperature);
            picks.nucleus_units.push_back(slots_[i]->sampler->next_unit());
            picks.top_p.push_back(p.top_p);
            picks.min_p.push_back(p.min_p);
            picks.top_k.push_back(p.top_k);
            break;
        }
        case Sampler::Plain::No:
            host_row[r] = static_cast<std::int64_t>(to_host.size());
            to_host.push_back(r);
            break;
        }
    }
    at::Tensor logits;
    try {
        at::Tensor out; // [B, V] fp32, on the device
        KVCache &rows = row_views_(static_cast<std::int64_t>(lo), B);
        if (static_step)
            out = static_->step(ids, pos, kv_len, rows);
        else
            out = model_
                      .forward(long_tensor(ids, B, device_), long_tensor(pos, B, device_), kv_len,
                               rows, false)
                      .select(1, 0);
        if (!picks.empty()) {
            const std::vector<std::int64_t> chosen = pick_on_device(out, picks);
            std::size_t k = 0;
            for (std::int64_t r : picks.greedy_rows) picked[r] = chosen[k++];
            for (std::int64_t r : picks.draw_rows) picked[r] = chosen[k++];
            for (std::int64_t r : picks.nucleus_rows) picked[r] = chosen[k++];
        }
        if (!to_host.empty()) {
            if (static_cast<std::int64_t>(to_host.size()) < B)
                out = out.index_select(0, long_tensor(to_host, 1, device_).view({-1}));
            logits = logits_to_host(out); // [rows to host, V]
        }
    } catch (...) {
        auto error = std::current_exception();
        for (std::size_t i = lo; i <= hi; ++i)
            if (slots_[i]) retire(i, error);
        return;
    }
    for (std::size_t i = lo; i <= hi; ++i)
        if (slots_[i]) slots_[i]->fed = slots_[i]->next_pos + 1; // last_id ran
    ++decode_steps_;
    decode_rows_ += active;
    if (active > max_rows_) max_rows_ = active; // only this thread writes
    const std::int64_t V = logits.defined() ? logits.size(-1) : 0;
    for (std::size_t i = lo; i <= hi; ++i) {
        if (!slots_[i]) continue;
        Slot &s = *slots_[i];
        try { // a failing constraint fails its own request, not the batch
            const std::int64_t h = host_row[i - lo];
            if (h < 0) {
                deliver(s, {static_cast<std::int32_t>(picked[i - lo])}, std::nullopt);
                ++device_picked_;
            } else {
                sample_and_deliver(s, logits.data_ptr<float>() + h * V, V);
            }
        } catch (...) {
            retire(i, std::current_exception());
            continue;
        }
        if (s.req->finish == Finish::Stop || s.generated == s.req->budget) retire(i);
    }
    decode_us_ += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

void BatchScheduler::loop() {
    c10::InferenceMode guard; // thread-local: the loop thread needs its own
    for (;;) {
        // Callers that stopped reading (stop string, cancellation) free their slot first.
        for (std::size_t i = 0; i < slots_.size(); ++i)
            if (slots_[i] && slots_[i]->req->abandoned.load()) retire(i);
        publish_occupancy(); // before a wait that may be long: an idle engine reads as idle
        std::vector<std::shared_ptr<BatchRequest>> newcomers;
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [&] { return stop_ || !waiting_.empty() || any_active(); });
            if (stop_) break;
            const auto free = static_cast<std::size_t>(
                std::count_if(slots_.begin(), slots_.end(), [](const auto &s) { return !s; }));
            while (!waiting_.empty() && newcomers.size() < free) { // first come, first served
                auto req = std::move(waiting_.front());
                waiting_.pop_front();
                if (req->abandoned.load()) { // cancelled while it waited: never prefilled
                    std::lock_guard rl(req->mu);
                    req->done = true;
                    req->cv.notify_all();
                    continue;
                }
                newcomers.push_back(std::move(req));
            }
        }
        // After the wait: a set_threads() made while idle applies to this step already.
        use_cpu_threads_here(threads_.load());
        try {
            // One at a time: a newcomer may copy its prefix from the row the previous one filled.
            for (auto &req : newcomers) {
                const auto pick = prefix_.acquire(req->prompt);
                if (!pick) // cannot happen: one free slot was counted per newcomer
                    throw llmh::Error(LLMH_ERR_INTERNAL, "batch scheduler: no free KV-cache slot");
                slots_[pick->slot].emplace(); // reserved; admit() fills it
                admit(std::move(req), *pick);
            }
            decode_step();
            publish_occupancy();
        } catch (...) { // e.g. bad_alloc while sampling: fail the active requests, keep serving
            auto error = std::current_exception();
            for (std::size_t i = 0; i < slots_.size(); ++i) {
                if (slots_[i] && slots_[i]->req) {
                    retire(i, error);
                } else if (slots_[i]) { // reserved for a newcomer that failed before admit
                    slots_[i].reset();
                    prefix_.release(i, {}); // the prefix may not have been copied yet
                }
            }
            for (auto &req : newcomers) // not admitted (moved-from ones are null)
                if (req) {
                    std::lock_guard rl(req->mu);
                    req->done = true;
                    req->error = error;
                    req->cv.notify_all();
                }
        }
    }
    // Shutting down (the engine is being destroyed): nobody may be left waiting forever.
    auto shutdown = std::make_exception_ptr(
        llmh::Error(LLMH_ERR_INTERNAL, "the engine was unloaded while generating",
                    "retry the request; the model was swapped or the provider destroyed"));
    for (std::size_t i = 0; i < slots_.size(); ++i)
        if (slots_[i] && slots_[i]->req) retire(i, shutdown);
    std::lock_guard lk(mu_);
    for (auto &req : waiting_) {
        std::lock_guard rl(req->mu);
        req->done = true;
        req->error = shutdown;
        req->cv.notify_all();
    }
}

} // namespace llmhost::engine
