#include "server_metrics.hpp"

#include "provider_metrics_text.hpp"

#include <algorithm>
#include <tuple>

namespace llmhost::server {

std::string ModelLabels::label(const std::string &provider, const std::string &model) {
    if (model.empty()) return "default";
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lk(mu_);
        auto it = known_.find(provider);
        if (it != known_.end()) {
            if (it->second.models.count(model)) return model;
            if (now - it->second.fetched < kRefresh) return metrics::kOverflowValue;
        }
        // Claim the refresh before listing, so concurrent unknown names list once.
        known_[provider].fetched = now;
    }
    std::set<std::string> listed;
    try {
        for (auto &m : lister_(provider)) {
            if (listed.size() >= kMaxModelsPerProvider) break;
            listed.insert(std::move(m));
        }
    } catch (...) { // a provider that cannot list: its models stay "other" until the next try
    }
    std::lock_guard lk(mu_);
    auto &k = known_[provider];
    k.models = std::move(listed);
    return k.models.count(model) ? model : metrics::kOverflowValue;
}

std::string endpoint_label(const std::string &path) {
    static const char *const known[] = {"/v1/chat/completions", "/v1/completions", "/v1/models",
                                        "/admin/reload"};
    for (const char *k : known)
        if (path == k) return k;
    if (path.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
    if (path.rfind("/admin/providers/", 0) == 0) return "/admin/providers/{name}";
    return "other";
}

namespace {

// 1 ms .. 60 s, roughly x2.5 per step: fine enough for a TTFT of a local model and a long
// generation alike.
std::vector<double> seconds_buckets() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
}

// Per output token: 0.1 ms (a fast engine, echo) .. 5 s (a struggling one).
std::vector<double> per_token_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
            0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
}

std::string status_label(int status) { return status > 0 ? std::to_string(status) : "none"; }

} // namespace

// Routes (docs/serving.md, Metrics): read from the host's route objects when scraped, so they
// are exactly the state the router decides with. Routes and targets come from the configuration:
// bounded. A swap or reload of a route starts its counters again (a counter reset).
static void add_route_metrics(metrics::Registry &registry,
                       std::function<std::vector<RouteTargetStatus>()> routes) {
    if (!routes) return;
    using Out = std::vector<std::pair<metrics::LabelValues, double>>;
    registry.gauge(
        "llmhost_route_target_requests_total",
        "Requests a route gave each target, by outcome: ok, failed (moved on or returned), "
        "skipped_cooldown, skipped_limit (max_concurrent, rpm or tpm reached).",
        {"route", "target", "outcome"},
        [routes] {
            Out out;
            for (const auto &s : routes()) {
                out.push_back({{s.route, s.target, "ok"}, double(s.ok)});
                out.push_back({{s.route, s.target, "failed"}, double(s.failed)});
                out.push_back({{s.route, s.target, "skipped_cooldown"}, double(s.skipped_cooldown)});
                out.push_back({{s.route, s.target, "skipped_limit"}, double(s.skipped_limit)});
            }
            return out;
        },
        "counter");
    registry.gauge("llmhost_route_target_cooldown",
                   "1 while a route's target is cooling down (skipped), else 0.",
                   {"route", "target"}, [routes] {
                       Out out;
                       for (const auto &s : routes())
                           out.push_back({{s.route, s.target}, s.cooling_down ? 1.0 : 0.0});
                       return out;
                   });
    registry.gauge("llmhost_route_target_cooldown_remaining_seconds",
                   "Seconds until a cooling target is tried again (0 when it is not cooling).",
                   {"route", "target"}, [routes] {
                       Out out;
                       for (const auto &s : routes())
                           out.push_back({{s.route, s.target}, s.cooldown_remaining_s});
                       return out;
                   });
    registry.gauge("llmhost_route_target_in_flight",
                   "Requests running on a route's target now.", {"route", "target"}, [routes] {
                       Out out;
                       for (const auto &s : routes())
                           out.push_back({{s.route, s.target}, double(s.in_flight)});
                       return out;
                   });
}

ServerMetrics::ServerMetrics(Readers readers, ModelLabels::Lister lister)
    : provider_metrics_(readers.provider_metrics), labels_(std::move(lister)),
      requests_(registry_.counter(
          "llmhost_requests_total",
          "Requests answered, by provider, model, endpoint, HTTP status and key name.",
          {"provider", "model", "endpoint", "status", "key"})),
      prompt_tokens_(registry_.counter(
          "llmhost_prompt_tokens_total",
          "Prompt tokens of finished generations, as the provider reported them.", {"provider"})),
      completion_tokens_(registry_.counter(
          "llmhost_completion_tokens_total",
          "Completion tokens (reasoning included) of finished generations.", {"provider"})),
      reasoning_tokens_(registry_.counter(
          "llmhost_reasoning_tokens_total",
          "Reasoning tokens of finished generations (part of the completion tokens).",
          {"provider"})),
      prompt_cached_tokens_(registry_.counter(
          "llmhost_prompt_cached_tokens_total",
          "Prompt tokens the provider served from its prefix cache (part of the prompt tokens; "
          "the ratio to llmhost_prompt_tokens_total is the cache's hit rate in tokens).",
          {"provider"})),
      reloads_(registry_.counter("llmhost_config_reloads_total",
                                 "Configuration reloads, by trigger (sighup, admin) and result.",
                                 {"trigger", "result"})),
      swaps_(registry_.counter("llmhost_admin_swaps_total",
                               "Provider swaps through POST /admin/providers/{name}, by result.",
                               {"result"})),
      key_requests_(registry_.counter(
          "llmhost_key_requests_total",
          "Requests by client key name (never the key), provider and HTTP status.",
          {"key", "provider", "status"})),
      key_tokens_(registry_.counter(
          "llmhost_key_tokens_total",
          "Tokens of finished generations by client key name, provider and kind (prompt, "
          "completion).",
          {"key", "provider", "kind"})),
      latency_(
          registry_.histogram("llmhost_request_duration_seconds",
                              "Time from a generation request's arrival to its complete answer.",
                              {"provider", "endpoint", "stream"}, seconds_buckets())),
      ttft_(registry_.histogram(
          "llmhost_time_to_first_token_seconds",
          "Time from a generation request's arrival to its first generated token.",
          {"provider", "stream"}, seconds_buckets())),
      tpot_(registry_.histogram("llmhost_time_per_output_token_seconds",
                                "Mean time per output token after the first, per generation.",
                                {"provider"}, per_token_buckets())) {
    auto one = [](std::function<double()> f) {
        return [f = std::move(f)] {
            return std::vector<std::pair<metrics::LabelValues, double>>{{{}, f()}};
        };
    };
    registry_.gauge(
        "llmhost_requests_in_flight",
        "Requests received and not yet fully answered (scrapes and health checks not counted).", {},
        one(readers.in_flight));
    registry_.gauge("llmhost_requests_running",
                    "Jobs running on the worker pool (generations and model listings); at most "
                    "--max-concurrency.",
                    {}, one(readers.running));
    registry_.gauge("llmhost_requests_queued",
                    "Jobs waiting for a worker; beyond --queue clients get 429.", {},
                    one(readers.queued));
    auto providers = readers.providers;
    registry_.gauge(
        "llmhost_provider_info",
        "One series per configured provider, with its state (configured, loading, ready, failed).",
        {"provider", "state"}, [providers] {
            std::vector<std::pair<metrics::LabelValues, double>> out;
            for (auto &[name, state, gen] : providers()) out.push_back({{name, state}, 1});
            return out;
        });
    registry_.gauge("llmhost_provider_instances_created",
                    "Instances created for each provider so far: the first load plus every swap or "
                    "reload that replaced it.",
                    {"provider"}, [providers] {
                        std::vector<std::pair<metrics::LabelValues, double>> out;
                        for (auto &[name, state, gen] : providers()) out.push_back({{name}, gen});
                        return out;
                    });
    add_route_metrics(registry_, readers.routes);
}

void ServerMetrics::record(const RequestRecord &r) {
    const std::string provider = r.provider.empty() ? "none" : r.provider;
    const std::string model = r.provider.empty() ? "none" : r.model_label;
    requests_.add({provider, model, r.endpoint, status_label(r.status), r.key});
    if (r.key != "none") key_requests_.add({r.key, provider, status_label(r.status)});
    if (!r.generation || r.provider.empty()) return;
    if (r.has_usage && r.key != "none") {
        key_tokens_.add({r.key, provider, "prompt"}, r.prompt_tokens);
        key_tokens_.add({r.key, provider, "completion"}, r.completion_tokens);
    }
    if (r.has_usage) {
        prompt_tokens_.add({provider}, r.prompt_tokens);
        completion_tokens_.add({provider}, r.completion_tokens);
        reasoning_tokens_.add({provider}, r.reasoning_tokens);
        prompt_cached_tokens_.add({provider}, r.cached_tokens);
    }
    if (r.status != 200) return; // the timings of an answer, not of a refusal
    const std::string stream = r.stream ? "true" : "false";
    latency_.observe({provider, r.endpoint, stream}, r.total_ms / 1000);
    if (r.ttft_ms >= 0) {
        ttft_.observe({provider, stream}, r.ttft_ms / 1000);
        if (r.has_usage && r.completion_tokens >= 2)
            tpot_.observe({provider}, (r.total_ms - r.ttft_ms) / 1000 / (r.completion_tokens - 1));
    }
}

std::string ServerMetrics::scrape() const {
    auto families = registry_.collect();
    if (provider_metrics_) {
        auto own = provider_families(provider_metrics_());
        families.insert(families.end(), std::make_move_iterator(own.begin()),
                        std::make_move_iterator(own.end()));
    }
    return metrics::write_text(families);
}

} // namespace llmhost::server
