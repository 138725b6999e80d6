// Provider metrics (ABI 2.2): Host::provider_metrics asks each running instance, keeps the valid
// samples and drops the malformed ones with one warning; a failing plugin costs its own samples
// only. The fixture (tests/fixtures/metrics_plugin.c) reports one of each malformed kind.
#include "test_support.hpp"

#include <algorithm>

using llmhost::ProviderMetric;

namespace {

std::vector<ProviderMetric> named(const std::vector<ProviderMetric> &all, const std::string &name) {
    std::vector<ProviderMetric> out;
    for (const auto &m : all)
        if (m.name == name) out.push_back(m);
    return out;
}

} // namespace

TEST_CASE("provider metrics: valid samples pass, each malformed kind is dropped with a warning") {
    test::CleanEnvironment clean;
    test::LogCapture logs;
    auto opts = test::test_options();
    auto host = llmhost::Host::open(opts);
    host->set_log_sink(logs.sink());
    CHECK(host->provider_metrics().empty()); // nothing running yet: no instance is created for it
    host->swap("m", {{"plugin", "metrics"}});
    llmhost::GenerateRequest r;
    r.prompt = "x";
    host->generate("m", r);
    host->generate("m", r);

    const auto all = host->provider_metrics();
    const auto req = named(all, "requests_total");
    REQUIRE(req.size() == 1);
    CHECK(req[0].provider == "m");
    CHECK(req[0].counter);
    CHECK(req[0].value == 2);
    const auto slots = named(all, "slots_in_use");
    // The repeated series stays (one series once is the page's business); the same name as a
    // counter is dropped here already: a counter must end in _total.
    REQUIRE(slots.size() == 2);
    CHECK(slots[0].label_key == "model");
    CHECK(slots[0].label_value == "a\"b\\c\nd"); // escaping is the page writer's job
    CHECK(slots[0].help == "fixture sample");    // one line
    for (const char *bad : {"Bad Name", "9starts_with_digit", "counter_without_suffix", "bad_kind",
                            "provider_label", "bad_label_key", "null_label_value",
                            "short_struct"})
        CHECK_MESSAGE(named(all, bad).empty(), bad);
    CHECK(all.size() == 3); // requests_total + 2 x slots_in_use
    // Bad Name, 9starts..., counter_without_suffix, bad_kind, provider_label, bad_label_key,
    // null_label_value, the 65-byte name, a null name, a null sample, the short struct, and
    // slots_in_use as a counter.
    CHECK(logs.count_containing("provider 'm' reported 12 malformed metric sample(s)") == 1);
}

TEST_CASE("provider metrics: a plugin that fails or predates ABI 2.2 reports nothing, no throw") {
    test::CleanEnvironment clean;
    test::LogCapture logs;
    auto opts = test::test_options();
    auto host = llmhost::Host::open(opts);
    host->set_log_sink(logs.sink());
    host->swap("bad", {{"plugin", "metrics"}, {"config", {{"fail", true}}}});
    host->swap("old", {{"plugin", "newer"}}); // its descriptor has no metrics function
    host->start("bad");
    host->start("old");
    CHECK(host->provider_metrics().empty());
    CHECK(logs.count_containing("metrics: fixture failure") == 1);
}
