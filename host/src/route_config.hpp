// A route's configuration: a provider entry {"route": {...}} that lists targets (other plugin
// providers, or provider/model pairs) instead of a plugin, a strategy that orders them, per-target
// limits and a cooldown rule (docs/configuration.md, "Routes"). Parsing checks shape and bounds;
// check_route_targets checks the names once every provider of the configuration is known.
#pragma once

#include "config_file.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace llmhost::detail {

enum class RouteStrategy { fallback, round_robin, least_busy, latency };
const char *to_string(RouteStrategy s);

struct RouteTarget {
    std::string provider;        // a configured plugin provider
    std::string model;           // "" : the request's model (or the provider's own)
    uint64_t context = 0;        // declared context window in tokens; 0: unknown
    uint32_t max_concurrent = 0; // 0: unlimited
    uint32_t rpm = 0;            // requests started per rolling minute; 0: unlimited
    uint64_t tpm = 0;            // prompt + completion tokens per rolling minute; 0: unlimited
    // "provider" or "provider/model": what GenerateResult::served_by and the metrics say.
    std::string label() const { return model.empty() ? provider : provider + "/" + model; }
};

struct RouteCooldown {
    uint32_t failures = 3; // this many failures ...
    double window_s = 30;  // ... within this many seconds ...
    double seconds = 20;   // ... skip the target for this long
};

struct RouteConfig {
    RouteStrategy strategy = RouteStrategy::fallback;
    std::vector<RouteTarget> targets;
    RouteCooldown cooldown;
    nlohmann::json entry; // the "route" object as given (expanded): equality and display
};

// The limits a route accepts; beyond them a value is a typo or hostile, not a setting.
inline constexpr std::size_t kMaxRouteTargets = 64;
inline constexpr uint64_t kMaxRouteContext = 100'000'000;
inline constexpr uint32_t kMaxRouteConcurrent = 100'000;
inline constexpr uint32_t kMaxRouteRpm = 10'000'000;
inline constexpr uint64_t kMaxRouteTpm = 10'000'000'000ULL;
inline constexpr uint32_t kMaxCooldownFailures = 1000;
inline constexpr double kMaxCooldownSeconds = 86400;

// True when a provider entry is a route ({"route": ...}).
inline bool is_route_entry(const nlohmann::json &entry) {
    return entry.is_object() && entry.contains("route");
}

// Parses the entry's "route" value; `pointer` is the provider entry's ("/providers/smart").
// Throws HostError(LLMHOST_ERR_CONFIG) naming the JSON pointer and the fix.
RouteConfig parse_route(const nlohmann::json &entry, const std::string &pointer,
                        const Locate &locate);

// Every target names a configured plugin provider: not an unknown name, not the route itself,
// not another route (routes do not nest, so no cycle can form). `kind` answers for a provider
// name: nullopt unknown, true a route, false a plugin provider; `known` lists the names for the
// "did you mean".
void check_route_targets(const std::string &name, const RouteConfig &route,
                         const std::function<std::optional<bool>(const std::string &)> &kind,
                         const std::vector<std::string> &known, const std::string &pointer,
                         const Locate &locate);

} // namespace llmhost::detail
