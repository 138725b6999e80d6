// The providers' own metrics on /metrics (ABI 2.2): echo's counters end to end, and the page
// writer's guards for what a plugin reports (escaping, one series once, one form per name, the
// sample cap), checked by promtool.
#include "ops_test_util.hpp"
#include "provider_metrics_text.hpp"


using namespace llmhost::test;
using namespace llmhost::test::ops;

namespace {

llmhost::ProviderMetric sample(const std::string &provider, const std::string &name, bool counter,
                               const std::string &key, const std::string &value, double v) {
    llmhost::ProviderMetric m;
    m.provider = provider;
    m.name = name;
    m.help = "a fixture sample";
    m.counter = counter;
    m.label_key = key;
    m.label_value = value;
    m.value = v;
    return m;
}

} // namespace

TEST_CASE("provider metrics: echo's own counters on /metrics, as llmhost_provider_*") {
    ServerFixture f(one_echo());
    for (int i = 0; i < 3; ++i)
        REQUIRE(http(f.port, "POST", "/v1/chat/completions", chat_body("a b", false)).status == 200);
    Scrape s = scrape(f.port);
    CHECK(s.at(R"(llmhost_provider_echo_requests_total{provider="echo"})") == 3);
    CHECK(s.at(R"(llmhost_provider_echo_requests_running{provider="echo"})") == 0);
    CHECK(s.text.find("# TYPE llmhost_provider_echo_requests_total counter") != std::string::npos);
}

TEST_CASE("provider metrics: escaping, one series once, one form per name, a cap; promtool") {
    std::vector<llmhost::ProviderMetric> in = {
        sample("p1", "slots_in_use", false, "model", "a\"b\\c\nd", 2),
        sample("p1", "slots_in_use", false, "model", "a\"b\\c\nd", 3), // same series again
        sample("p2", "slots_in_use", false, "model", "m", 1),          // another provider: kept
        sample("p2", "slots_in_use", true, "", "", 4),                  // other form: dropped
        sample("p1", "hits_total", true, "", "", 7),
    };
    const auto fams = llmhost::server::provider_families(in);
    REQUIRE(fams.size() == 2);
    CHECK(fams[0].name == "llmhost_provider_slots_in_use");
    CHECK(fams[0].type == "gauge");
    REQUIRE(fams[0].samples.size() == 2);
    CHECK(fams[0].samples[0].value == 2);
    CHECK(fams[1].type == "counter");
    const std::string text = llmhost::server::metrics::write_text(fams);
    CHECK(text.find(R"(llmhost_provider_slots_in_use{provider="p1",model="a\"b\\c\nd"} 2)") !=
          std::string::npos);

    std::vector<llmhost::ProviderMetric> flood;
    for (int i = 0; i < 5000; ++i)
        flood.push_back(sample("p", "flood_" + std::to_string(i), false, "", "", i));
    std::size_t n = 0;
    for (const auto &f : llmhost::server::provider_families(flood)) n += f.samples.size();
    CHECK(n == llmhost::server::kMaxProviderSamples);

    const auto verdict = promtool_check(text);
    if (!verdict) {
        MESSAGE("skipped: promtool is not installed (Debian package prometheus)");
        return;
    }
    INFO("promtool said: " << verdict->second);
    CHECK(verdict->first == 0);
    CHECK(verdict->second.empty());
}
