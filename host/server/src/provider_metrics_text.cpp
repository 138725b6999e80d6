// provider_families: see provider_metrics_text.hpp.
#include "provider_metrics_text.hpp"

#include <map>
#include <set>

namespace llmhost::server {

std::vector<metrics::FamilySnapshot> provider_families(const std::vector<ProviderMetric> &samples) {
    struct Form {
        std::size_t index; // into out
        bool counter;
        std::string label_key;
    };
    std::vector<metrics::FamilySnapshot> out;
    std::map<std::string, Form> forms; // metric name -> its first form
    std::set<std::string> seen; // series already written
    std::size_t kept = 0;
    for (const ProviderMetric &m : samples) {
        if (kept == kMaxProviderSamples) break;
        auto it = forms.find(m.name);
        if (it == forms.end()) {
            metrics::FamilySnapshot f;
            f.name = "llmhost_provider_" + m.name;
            f.help = m.help.empty() ? "Reported by the provider's plugin." : m.help;
            f.type = m.counter ? "counter" : "gauge";
            out.push_back(std::move(f));
            it = forms.emplace(m.name, Form{out.size() - 1, m.counter, m.label_key}).first;
        } else if (it->second.counter != m.counter || it->second.label_key != m.label_key) {
            continue; // another provider's (or plugin version's) different form of the same name
        }
        if (!seen.insert(m.name + '\n' + m.provider + '\n' + m.label_value).second)
            continue; // one series once: a repeated sample would make the page invalid
        metrics::Sample s;
        s.labels.push_back({"provider", m.provider});
        if (!m.label_key.empty()) s.labels.push_back({m.label_key, m.label_value});
        s.value = m.value;
        out[it->second.index].samples.push_back(std::move(s));
        ++kept;
    }
    return out;
}

} // namespace llmhost::server
