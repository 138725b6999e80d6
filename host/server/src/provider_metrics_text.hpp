// The providers' own metrics (ABI 2.2, Host::provider_metrics) as /metrics families:
// llmhost_provider_<name>{provider="...", <label>="..."}. One family per name; a name reported
// with two kinds or two label keys keeps its first form (the others are dropped, not mixed);
// at most kMaxProviderSamples samples a scrape, so a plugin cannot grow the page without bound.
#pragma once

#include "metrics.hpp"

#include <llmhost/host.hpp>

#include <vector>

namespace llmhost::server {

inline constexpr std::size_t kMaxProviderSamples = 2000;

std::vector<metrics::FamilySnapshot> provider_families(const std::vector<ProviderMetric> &samples);

} // namespace llmhost::server
