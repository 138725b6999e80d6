// The llmhost_* series of `llmhost serve` (GET /metrics) over the registry of metrics.hpp, and
// the bounding of the labels that come from requests: a client picks the model, so a model
// becomes a label value only when its provider lists it; anything else is counted as "other".
#pragma once

#include "metrics.hpp"
#include "backend.hpp"
#include "request_log.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace llmhost::server {

// Which model names may become label values: the models each provider lists (fetched on the
// first unknown name, again at most every kRefresh, so a client sending random names costs one
// listing per provider per kRefresh, not a series each).
class ModelLabels {
public:
    using Lister = std::function<std::vector<std::string>(const std::string &provider)>;
    static constexpr auto kRefresh = std::chrono::minutes(5);
    static constexpr std::size_t kMaxModelsPerProvider = 200;

    explicit ModelLabels(Lister lister) : lister_(std::move(lister)) {}
    // "default" for the provider's configured model (empty name), the name when the provider
    // lists it, else "other". May call the lister (blocking): call it from a worker.
    std::string label(const std::string &provider, const std::string &model);
    void forget() { // after a swap or reload the lists may have changed
        std::lock_guard lk(mu_);
        known_.clear();
    }

private:
    struct Known {
        std::set<std::string> models;
        std::chrono::steady_clock::time_point fetched;
    };
    Lister lister_;
    std::mutex mu_;
    std::map<std::string, Known> known_;
};

// The endpoint label of a request path: the path of one of the server's endpoints, or "other".
std::string endpoint_label(const std::string &path);

class ServerMetrics {
public:
    struct Readers {
        std::function<double()> in_flight, running, queued;
        // provider name -> {state, instances created}
        std::function<std::vector<std::tuple<std::string, std::string, double>>()> providers;
        // every route target's state (GenerateResult::served_by's targets); may be empty
        std::function<std::vector<RouteTargetStatus>()> routes;
        // what the running providers report about themselves (ABI 2.2); may be empty
        std::function<std::vector<ProviderMetric>()> provider_metrics;
    };
    ServerMetrics(Readers readers, ModelLabels::Lister lister);

    // Counts one finished request (its model label comes from labels(), on the worker).
    void record(const RequestRecord &r);
    void reload_done(const std::string &trigger, bool ok) {
        reloads_.add({trigger, ok ? "ok" : "failed"});
    }
    void swap_done(bool ok) { swaps_.add({ok ? "ok" : "failed"}); }
    ModelLabels &labels() { return labels_; }
    // The registry's families, then the providers' own (llmhost_provider_*).
    std::string scrape() const;
    const metrics::Registry &registry() const { return registry_; }

private:
    metrics::Registry registry_;
    std::function<std::vector<ProviderMetric>()> provider_metrics_;
    ModelLabels labels_;
    metrics::CounterFamily &requests_, &prompt_tokens_, &completion_tokens_, &reasoning_tokens_;
    metrics::CounterFamily &prompt_cached_tokens_; // of the prompt tokens, from a prefix cache
    metrics::CounterFamily &reloads_, &swaps_;
    metrics::CounterFamily &key_requests_, &key_tokens_; // per key name (keys are configured: bounded)
    metrics::HistogramFamily &latency_, &ttft_, &tpot_;
};

} // namespace llmhost::server
