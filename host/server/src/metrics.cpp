#include "metrics.hpp"

#include <algorithm>
#include <stdexcept>

namespace llmhost::server::metrics {

std::vector<std::pair<std::string, std::string>> Family::pairs(const LabelValues &v) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i < label_names_.size(); ++i)
        out.emplace_back(label_names_[i], i < v.size() ? v[i] : std::string());
    return out;
}

std::atomic<uint64_t> &CounterFamily::at(LabelValues values) {
    std::lock_guard lk(mu_);
    auto key = key_for(series_, std::move(values));
    auto &slot = series_[key];
    if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
    return *slot;
}

uint64_t CounterFamily::value(const LabelValues &values) const {
    std::lock_guard lk(mu_);
    auto it = series_.find(values);
    return it == series_.end() ? 0 : it->second->load(std::memory_order_relaxed);
}

FamilySnapshot CounterFamily::snapshot() const {
    FamilySnapshot s{name_, help_, "counter", {}};
    std::lock_guard lk(mu_);
    for (const auto &[k, v] : series_)
        s.samples.push_back(
            {"", pairs(k), static_cast<double>(v->load(std::memory_order_relaxed))});
    return s;
}

Histogram::Histogram(const std::vector<double> &bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds.size() + 1]) {
    for (std::size_t i = 0; i <= bounds.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double v) {
    // First bound >= v: Prometheus buckets are "less than or equal".
    auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                      bounds_.begin());
    // The sum first, the count last: a concurrent scrape may see the sum of an observation whose
    // bucket it does not see yet, never a count without its sum.
    sum_.fetch_add(v, std::memory_order_relaxed);
    counts_[i].fetch_add(1, std::memory_order_release);
}

Histogram::Data Histogram::read() const {
    Data d;
    uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += counts_[i].load(std::memory_order_acquire);
        d.cumulative.push_back(running);
    }
    d.sum = sum_.load(std::memory_order_relaxed);
    return d;
}

Histogram &HistogramFamily::at(LabelValues values) {
    std::lock_guard lk(mu_);
    auto key = key_for(series_, std::move(values));
    auto &slot = series_[key];
    if (!slot) slot = std::make_unique<Histogram>(bounds_);
    return *slot;
}

FamilySnapshot HistogramFamily::snapshot() const {
    FamilySnapshot s{name_, help_, "histogram", {}};
    std::lock_guard lk(mu_);
    for (const auto &[k, h] : series_) {
        const Histogram::Data d = h->read();
        for (std::size_t i = 0; i <= bounds_.size(); ++i) {
            auto labels = pairs(k);
            labels.emplace_back("le", i < bounds_.size() ? format_bound(bounds_[i]) : "+Inf");
            s.samples.push_back(
                {"_bucket", std::move(labels), static_cast<double>(d.cumulative[i])});
        }
        s.samples.push_back({"_sum", pairs(k), d.sum});
        s.samples.push_back({"_count", pairs(k), static_cast<double>(d.cumulative.back())});
    }
    return s;
}

FamilySnapshot GaugeFamily::snapshot() const {
    FamilySnapshot s{name_, help_, type_, {}};
    for (auto &[k, v] : reader_()) s.samples.push_back({"", pairs(k), v});
    return s;
}

template <class F>
F &Registry::add(std::unique_ptr<F> f) {
    std::lock_guard lk(mu_);
    for (const auto &g : families_)
        if (g->name() == f->name()) throw std::logic_error("metric registered twice: " + f->name());
    F &ref = *f;
    families_.push_back(std::move(f));
    return ref;
}

CounterFamily &Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> labels, std::size_t max_series) {
    return add(std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(labels),
                                               max_series));
}

HistogramFamily &Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> labels, std::vector<double> bounds,
                                     std::size_t max_series) {
    if (!std::is_sorted(bounds.begin(), bounds.end()))
        throw std::logic_error("histogram bounds out of order: " + name);
    return add(std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                                 std::move(labels), std::move(bounds), max_series));
}

GaugeFamily &Registry::gauge(std::string name, std::string help, std::vector<std::string> labels,
                             GaugeFamily::Reader reader, std::string type) {
    return add(std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(labels),
                                             std::move(reader), std::move(type)));
}

std::vector<FamilySnapshot> Registry::collect() const {
    std::lock_guard lk(mu_);
    std::vector<FamilySnapshot> out;
    for (const auto &f : families_) out.push_back(f->snapshot());
    return out;
}

} // namespace llmhost::server::metrics
