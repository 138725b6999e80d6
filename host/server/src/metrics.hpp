// A small metrics registry for `llmhost serve`: counter and histogram families with labels, and
// gauges read when scraped. Updates are one atomic operation once a series exists; finding a
// series takes a mutex (one map lookup), so hot paths look a series up once per request.
// metrics_text.cpp writes a snapshot in the Prometheus text format; server_metrics.cpp defines
// the llmhost_* series.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace llmhost::server::metrics {

using LabelValues = std::vector<std::string>;

// Label values a family accepts as new series before every further new combination is counted
// in one overflow series (all values "other"): a bug in a label's bounding cannot grow memory
// and the scrape without limit.
inline constexpr std::size_t kDefaultMaxSeries = 2000;
inline constexpr const char *kOverflowValue = "other";

struct Sample {
    std::string suffix; // "", or for a histogram "_bucket", "_sum", "_count"
    std::vector<std::pair<std::string, std::string>> labels; // name, unescaped value
    double value = 0;
};

struct FamilySnapshot {
    std::string name, help, type; // type: "counter", "gauge", "histogram"
    std::vector<Sample> samples;
};

class Family {
public:
    Family(std::string name, std::string help, std::vector<std::string> label_names,
           std::size_t max_series)
        : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
          max_series_(max_series) {}
    virtual ~Family() = default;
    virtual FamilySnapshot snapshot() const = 0;
    const std::string &name() const { return name_; }

protected:
    // The key a series is stored under: `values` itself, or the overflow key once full.
    // Called with mu_ held.
    template <class Map>
    LabelValues key_for(const Map &m, LabelValues values) const {
        values.resize(label_names_.size());
        if (m.count(values) || m.size() < max_series_) return values;
        return LabelValues(label_names_.size(), kOverflowValue);
    }
    std::vector<std::pair<std::string, std::string>> pairs(const LabelValues &v) const;

    std::string name_, help_;
    std::vector<std::string> label_names_;
    std::size_t max_series_;
    mutable std::mutex mu_;
};

class CounterFamily final : public Family {
public:
    using Family::Family;
    // The series of `values` (created at 0); the reference stays valid as long as the family.
    std::atomic<uint64_t> &at(LabelValues values);
    void add(const LabelValues &values, uint64_t n = 1) {
        at(values).fetch_add(n, std::memory_order_relaxed);
    }
    // The value of one series; 0 when it does not exist.
    uint64_t value(const LabelValues &values) const;
    FamilySnapshot snapshot() const override;

private:
    std::map<LabelValues, std::unique_ptr<std::atomic<uint64_t>>> series_;
};

// Cumulative histogram: per-bucket counts (non-cumulative in memory, summed when scraped), a sum
// and a count. Bounds are upper bounds in increasing order; +Inf is implied.
class Histogram {
public:
    explicit Histogram(const std::vector<double> &bounds);
    void observe(double v);
    struct Data {
        std::vector<uint64_t> cumulative; // one per bound, then +Inf (= count)
        double sum = 0;
    };
    Data read() const;

private:
    const std::vector<double> &bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> counts_; // bounds + 1 (+Inf)
    std::atomic<double> sum_{0};
};

class HistogramFamily final : public Family {
public:
    HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                    std::vector<double> bounds, std::size_t max_series)
        : Family(std::move(name), std::move(help), std::move(label_names), max_series),
          bounds_(std::move(bounds)) {}
    Histogram &at(LabelValues values);
    void observe(const LabelValues &values, double v) { at(values).observe(v); }
    FamilySnapshot snapshot() const override;

private:
    std::vector<double> bounds_;
    std::map<LabelValues, std::unique_ptr<Histogram>> series_;
};

// A gauge family whose samples are computed when scraped (queue lengths, providers loaded).
class GaugeFamily final : public Family {
public:
    using Reader = std::function<std::vector<std::pair<LabelValues, double>>()>;
    // type "counter": a counter kept elsewhere (the host's routes) and read when scraped.
    GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names,
                Reader reader, std::string type = "gauge")
        : Family(std::move(name), std::move(help), std::move(label_names), kDefaultMaxSeries),
          reader_(std::move(reader)), type_(std::move(type)) {}
    FamilySnapshot snapshot() const override;

private:
    Reader reader_;
    std::string type_;
};

class Registry {
public:
    CounterFamily &counter(std::string name, std::string help, std::vector<std::string> labels,
                           std::size_t max_series = kDefaultMaxSeries);
    HistogramFamily &histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> bounds,
                               std::size_t max_series = kDefaultMaxSeries);
    GaugeFamily &gauge(std::string name, std::string help, std::vector<std::string> labels,
                       GaugeFamily::Reader reader, std::string type = "gauge");
    // Every family, in registration order.
    std::vector<FamilySnapshot> collect() const;

private:
    template <class F>
    F &add(std::unique_ptr<F> f);
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<Family>> families_;
};

// The text exposition format 0.0.4 of `families` (metrics_text.cpp).
inline constexpr const char *kContentType = "text/plain; version=0.0.4; charset=utf-8";
std::string write_text(const std::vector<FamilySnapshot> &families);
// A label value escaped for the text format: backslash, double quote and newline.
std::string escape_label_value(const std::string &v);
// A histogram bound as its `le` label ("0.005", "1", "60").
std::string format_bound(double v);

} // namespace llmhost::server::metrics
