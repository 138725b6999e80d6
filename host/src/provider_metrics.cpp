// Host::provider_metrics: what each running provider instance reports for /metrics (ABI 2.2).
#include "host_impl.hpp"

namespace llmhost {

std::vector<ProviderMetric> Host::provider_metrics() const {
    // Take the instances under the locks, ask them without: a plugin is never called with a
    // host lock held (it may be slow, and a swap must not wait for a scrape).
    std::vector<std::shared_ptr<detail::ProviderInstance>> running;
    {
        std::shared_lock lock(impl_->mu);
        for (const auto &[name, s] : impl_->slots) {
            std::lock_guard slock(s->mu);
            if (s->current) running.push_back(s->current);
        }
    }
    std::vector<ProviderMetric> out;
    for (const auto &inst : running) {
        std::size_t dropped = 0;
        try {
            auto m = inst->metrics(&dropped);
            out.insert(out.end(), std::make_move_iterator(m.begin()),
                       std::make_move_iterator(m.end()));
        } catch (const HostError &e) {
            impl_->core->log(LLMH_LOG_WARN, "host", e.what());
        }
        if (dropped)
            impl_->core->log(LLMH_LOG_WARN, "host",
                             "provider '" + inst->name() + "' reported " + std::to_string(dropped) +
                                 " malformed metric sample(s) (name not [a-z_][a-z0-9_]*, bad "
                                 "kind or label); they are not shown");
    }
    return out;
}

} // namespace llmhost
