// Host::Impl — the state behind llmhost::Host: the resolved configuration, the plugin catalog,
// and one slot per provider holding its current instance.
#pragma once

#include "plugin_catalog.hpp"
#include "provider_instance.hpp"
#include "resolved_config.hpp"
#include "route.hpp"

#include <llmhost/host.hpp>

#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>

namespace llmhost {

namespace detail {

// One named provider. `current` is swapped atomically under `mu`; requests copy the shared_ptr
// and run without any lock held.
struct ProviderSlot {
    std::mutex mu;
    std::mutex create_mu; // one lazy creation at a time
    ProviderSpec spec;
    std::shared_ptr<ProviderInstance> current;
    std::shared_ptr<Route> route; // a route's state (spec.route set); made on first use
    ProviderState state = ProviderState::configured;
    std::string error;
    uint64_t generation = 0;
    uint64_t spec_version = 0; // bumped when reload replaces the spec of a not-yet-created instance
};

} // namespace detail

struct Host::Impl {
    HostOptions options;
    std::shared_ptr<detail::HostCore> core = std::make_shared<detail::HostCore>();
    detail::PluginCatalog catalog{core};

    mutable std::shared_mutex mu; // guards config and slots (the map, not the slots' contents)
    detail::ResolvedConfig config;
    std::map<std::string, std::shared_ptr<detail::ProviderSlot>, std::less<>> slots;

    std::mutex warned_mu;
    std::set<std::string> warned_missing_secret; // "provider\nsecret" warned about, once each

    void apply_config(detail::ResolvedConfig rc); // at open: slots from scratch
    void learn_secrets(const detail::ProviderSpec &spec);
    void update_plugin_dirs();
    std::shared_ptr<detail::ProviderSlot> slot(std::string_view name) const; // throws NO_PROVIDER
    std::shared_ptr<detail::ProviderInstance> instance(detail::ProviderSlot &slot);
    std::shared_ptr<detail::ProviderInstance> create_instance(const detail::ProviderSpec &spec);
    // The slot's route object (made on first use), or null when the slot is a plugin provider.
    std::shared_ptr<detail::Route> route_of(detail::ProviderSlot &slot);
    // One attempt of a route: the target provider's instance runs the request.
    GenerateResult run_target(const detail::RouteTarget &target, const GenerateRequest &request,
                              const TokenCallback &on_token);
    // A route given to swap(): its targets must be plugin providers configured now.
    void check_swapped_route(const std::string &name, const detail::ProviderSpec &spec) const;
    // Replaces the slot's instance by a new one created from spec (created first; throws on failure).
    void swap_slot(detail::ProviderSlot &slot, const detail::ProviderSpec &spec);
};

} // namespace llmhost
