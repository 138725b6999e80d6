// Stop strings across token boundaries, and the sampler's processors and determinism.
#include <llmhost/engine/sampling.hpp>
#include <llmhost/engine/stop_strings.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

using namespace llmhost::engine;

namespace {
// Feeds pieces; returns what was emitted and whether a stop fired.
std::pair<std::string, bool> run(std::vector<std::string> stops, std::vector<std::string> pieces) {
    StopStringMatcher m(std::move(stops));
    std::string out;
    for (const auto &p : pieces) {
        auto r = m.push(p);
        out += r.text;
        if (r.stopped) return {out, true};
    }
    return {out + m.flush(), false};
}
// V logits from a normal distribution (a random model's last layer, as flat as sigma makes it).
std::vector<float> gaussian_logits(int V, unsigned seed, float sigma) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, sigma);
    std::vector<float> v(static_cast<std::size_t>(V));
    for (auto &x : v) x = d(rng);
    return v;
}
} // namespace

TEST_CASE("stop strings: matched across token boundaries, never emitted") {
    CHECK(run({"END"}, {"hello E", "N", "D tail"}) == std::pair<std::string, bool>{"hello ", true});
    CHECK(run({"\n\nUser:"}, {"ok.\n", "\nUs", "er: hi"}) ==
          std::pair<std::string, bool>{"ok.", true});
    // A false start is released as soon as it cannot match any more.
    StopStringMatcher m({"END"});
    CHECK(m.push("abcE").text == "abc");
    CHECK(m.push("Nx").text == "ENx");
    // Earliest of several stop strings wins; unmatched text is flushed at the end.
    CHECK(run({"bb", "c"}, {"aab", "cbb"}) == std::pair<std::string, bool>{"aab", true});
    CHECK(run({"zz"}, {"ab", "z"}) == std::pair<std::string, bool>{"abz", false});
    CHECK(run({}, {"a", "b"}) == std::pair<std::string, bool>{"ab", false});
    // UTF-8 stop strings and text: holds back whole characters only.
    CHECK(run({"é!"}, {"caf", "é", "!"}) == std::pair<std::string, bool>{"caf", true});
}

TEST_CASE("sampler: greedy, penalties, truncation and seeds") {
    std::vector<float> base = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f};
    {
        Sampler s({}); // greedy; ties go to the lowest id
        auto l = base;
        CHECK(s.sample(l, {}) == 1);
    }
    { // greedy over a real vocabulary: the first maximum wherever it is, as std::max_element
        std::mt19937 rng(7);
        std::normal_distribution<float> d;
        const float inf = std::numeric_limits<float>::infinity();
        for (std::size_t where : {std::size_t(0), std::size_t(17), std::size_t(31999)}) {
            std::vector<float> l(32000);
            for (auto &x : l) x = d(rng);
            l[where] = 50.0f;
            l[(where + 9000) % 32000] = 50.0f; // a tie later on: the first one wins
            const auto want = std::min(where, (where + 9000) % 32000);
            CHECK(Sampler({}).sample(l, {}) == static_cast<std::int32_t>(want));
        }
        // Sizes that are not whole blocks of 64, the maximum in the tail or at a block's edge.
        for (std::size_t n : {std::size_t(1), std::size_t(63), std::size_t(100), std::size_t(129)})
            for (std::size_t where :
                 {std::size_t(0), n / 2, n - 1, std::min(n - 1, std::size_t(64))}) {
                std::vector<float> l(n, 0.5f);
                l[where] = 2.0f;
                CHECK(Sampler({}).sample(l, {}) == static_cast<std::int32_t>(where));
            }
        std::vector<float> all_masked(100, -inf);
        CHECK(Sampler({}).sample(all_masked, {}) == 0);
        std::vector<float> with_nan = {1.0f, std::nanf(""), 3.0f, 2.0f};
        CHECK(Sampler({}).sample(with_nan, {}) ==
              static_cast<std::int32_t>(std::max_element(with_nan.begin(), with_nan.end()) -
                                        with_nan.begin()));
    }
    {
        SamplingParams p;
        p.repetition_penalty = 2.0f; // 3 -> 1.5 for ids 1 and 3: id 2 wins
        Sampler s(p);
        auto l = base;
        std::vector<std::int32_t> hist = {1, 3, 3};
        CHECK(s.sample(l, hist) == 2);
        CHECK(l[1] == doctest::Approx(1.5f));
        CHECK(l[4] == doctest::Approx(-1.0f)); // not in history: untouched
    }
    {
        SamplingParams p;
        p.temperature = 1.0f;
        p.top_k = 1; // only the best candidate survives
        p.seed = 99;
        Sampler s(p);
        for (int i = 0; i < 20; ++i) {
            auto l = base;
            CHECK(s.sample(l, {}) == 1);
        }
    }
    {
        SamplingParams p;
        p.temperature = 1.0f;
        p.min_p = 0.5f; // keeps ids with p >= 0.5 * p_max: 1, 3 (e^0), 2 (e^-1 = 0.37 < 0.5: out)
        p.seed = 5;
        Sampler s(p);
        std::map<int, int> seen;
        for (int i = 0; i < 200; ++i) {
            auto l = base;
            seen[s.sample(l, {})]++;
        }
        CHECK(seen.size() == 2);
        CHECK(seen.count(1) == 1);
        CHECK(seen.count(3) == 1);
    }
    {
        SamplingParams p;
        p.temperature = 1.0f;
        p.top_p = 0.6f; // p(1) = p(3) = 0.40: the first two reach 0.6
        p.seed = 5;
        Sampler s(p);
        std::map<int, int> seen;
        for (int i = 0; i < 200; ++i) {
            auto l = base;
            seen[s.sample(l, {})]++;
        }
        CHECK(seen.size() == 2);
    }
    // Same seed -> same draws; another seed -> a different sequence.
    auto draws = [&](std::uint64_t seed) {
        SamplingParams p;
        p.temperature = 1.5f;
        p.seed = seed;
        Sampler s(p);
        std::vector<int> r;
        for (int i = 0; i < 64; ++i) {
            auto l = base;
            r.push_back(s.sample(l, {}));
        }
        return r;
    };
    CHECK(draws(42) == draws(42));
    CHECK(draws(42) != draws(43));
}

TEST_CASE("sampler: OpenAI presence and frequency penalties count generated tokens only") {
    const std::vector<float> base = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f};
    {
        // Greedy with a presence penalty of 1.5: id 1 (3.0), then id 3 (3.0 > 1.5), then id 2
        // (2.0 > 1.5); the prompt (history) never counts, only what this sampler produced.
        SamplingParams p;
        p.presence_penalty = 1.5f;
        Sampler s(p);
        const std::vector<std::int32_t> prompt = {2, 2, 2};
        std::vector<int> picks;
        for (int i = 0; i < 3; ++i) {
            auto l = base;
            picks.push_back(s.sample(l, prompt));
        }
        CHECK(picks == std::vector<int>{1, 3, 2});
        auto l = base;
        s.sample(l, prompt); // every id seen once now: each loses exactly 1.5, once
        CHECK(l[1] == doctest::Approx(1.5f));
        CHECK(l[2] == doctest::Approx(0.5f));
        CHECK(l[4] == doctest::Approx(-1.0f)); // never generated: untouched
    }
    {
        // Frequency 0.4: ids 1 and 3 (both 3.0) alternate, each losing 0.4 per use, until both
        // fall to 1.8 and id 2 (2.0) wins the 7th step.
        SamplingParams p;
        p.frequency_penalty = 0.4f;
        Sampler s(p);
        std::map<int, int> count;
        std::vector<int> picks;
        for (int i = 0; i < 7; ++i) {
            auto l = base;
            const int id = s.sample(l, {});
            picks.push_back(id);
            // The penalty grows with each occurrence: logits[t] = base[t] - 0.4 * count[t].
            for (int t = 0; t < 5; ++t)
                CHECK(l[t] == doctest::Approx(base[t] - 0.4f * static_cast<float>(count[t])));
            count[id]++;
        }
        CHECK(picks == std::vector<int>{1, 3, 1, 3, 1, 3, 2});
    }
    {
        // Negative values encourage repetition (OpenAI allows -2..2).
        SamplingParams p;
        p.presence_penalty = -5.0f;
        Sampler s(p);
        auto l = base;
        CHECK(s.sample(l, {}) == 1);
        for (int i = 0; i < 5; ++i) {
            auto m = base;
            CHECK(s.sample(m, {}) == 1);
        }
    }
}

// The whole-vocabulary draws (Sampler::draw_vocab: vectorised weights, a partial sort that grows
// until the top-p / min-p cut-off lies inside it) against a reference computed here the plain
// way, in double: a full sort, the shortest prefix reaching top_p, the min-p floor. Draws outside
// the reference's kept set, or frequencies away from its probabilities, fail.
TEST_CASE("sampler: large vocabularies draw from the same kept set with the same probabilities") {
    const int V = 5000;
    std::vector<float> base = gaussian_logits(V, 11, 2.0f);
    base[17] = 9.0f; // a clear favourite, and a tie for second place (the lower id sorts first)
    base[4000] = base[300] = 8.0f;
    base[123] = std::nanf(""); // never drawn
    struct Case {
        float temperature, top_p, min_p;
    };
    for (const Case c : {Case{1.0f, 0.0f, 0.0f}, Case{0.7f, 0.9f, 0.0f}, Case{1.3f, 0.5f, 0.0f},
                         Case{1.0f, 0.0f, 0.05f}, Case{0.8f, 0.95f, 0.1f}}) {
        CAPTURE(c.temperature);
        CAPTURE(c.top_p);
        CAPTURE(c.min_p);
        // Reference: probabilities in double, ids sorted by logit (ties: lower id first).
        std::vector<double> p(V, 0.0);
        double mx = -INFINITY, total = 0;
        for (int i = 0; i < V; ++i)
            if (!std::isnan(base[i])) mx = std::max(mx, double(base[i] / c.temperature));
        for (int i = 0; i < V; ++i)
            if (!std::isnan(base[i]))
                total += p[i] = std::exp(double(base[i] / c.temperature) - mx);
        for (auto &x : p) x /= total;
        std::vector<int> order(V);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
        int keep = V;
        if (c.top_p > 0) {
            double cum = 0;
            for (int i = 0; i < V; ++i)
                if ((cum += p[order[i]]) >= c.top_p) {
                    keep = i + 1;
                    break;
                }
        }
        if (c.min_p > 0) {
            int n = 1;
            while (n < keep && p[order[n]] >= c.min_p * p[order[0]]) ++n;
            keep = n;
        }
        std::vector<double> kept(V, 0.0);
        double mass = 0;
        for (int i = 0; i < keep; ++i) mass += p[order[i]];
        for (int i = 0; i < keep; ++i) kept[order[i]] = p[order[i]] / mass;

        SamplingParams sp;
        sp.temperature = c.temperature;
        sp.top_p = c.top_p;
        sp.min_p = c.min_p;
        sp.seed = 3;
        Sampler s(sp);
        const int draws = 4000;
        std::map<int, int> seen;
        for (int i = 0; i < draws; ++i) {
            auto l = base;
            const int id = s.sample(l, {});
            REQUIRE(id >= 0);
            REQUIRE(id < V);
            CHECK_MESSAGE(kept[id] > 0, "drew id " << id << " outside the kept set of " << keep);
            seen[id]++;
        }
        CHECK(seen.count(123) == 0);
        if (c.top_p == 0 && c.min_p == 0) { // the same logits through top-k (the sorting path)
            SamplingParams kp = sp;
            kp.top_k = 40;
            Sampler ks(kp);
            for (int i = 0; i < 500; ++i) {
                auto l = base;
                const int id = ks.sample(l, {});
                REQUIRE(id >= 0);
                CHECK(std::find(order.begin(), order.begin() + 40, id) != order.begin() + 40);
            }
        }
        // The three most likely ids: their share of the draws within 5 standard deviations.
        for (int r = 0; r < std::min(keep, 3); ++r) {
            const int id = order[r];
            const double want = kept[id], sd = std::sqrt(want * (1 - want) / draws);
            CAPTURE(id);
            CHECK(std::fabs(double(seen[id]) / draws - want) <= 5 * sd + 1e-9);
        }
    }
}

// Under a mask that allows much of the vocabulary (draw_vocab's route for masks of >= 1/8):
// never a refused id, the allowed ids with their renormalised probabilities, and an allowed id
// even when every allowed logit is -inf.
TEST_CASE("sampler: a wide mask draws only allowed ids, with their probabilities") {
    const int V = 4096;
    std::vector<float> base = gaussian_logits(V, 5, 1.5f);
    std::vector<std::uint32_t> mask(V / 32, 0);
    std::vector<bool> allowed(V, false);
    for (int i = 0; i < V; ++i)
        if ((i * 7919) % 5 < 3) { // 60 % allowed, scattered
            allowed[i] = true;
            mask[i / 32] |= 1u << (i % 32);
        }
    base[1] = 12.0f; // refused (1 * 7919 % 5 == 4) and the largest logit: must never come out
    REQUIRE_FALSE(allowed[1]);
    for (const float top_p : {0.0f, 0.8f}) {
        CAPTURE(top_p);
        SamplingParams sp;
        sp.temperature = 1.0f;
        sp.top_p = top_p;
        sp.seed = 8;
        Sampler s(sp);
        // Reference over the allowed ids only.
        std::vector<double> p(V, 0.0);
        double total = 0, mx = -INFINITY;
        for (int i = 0; i < V; ++i)
            if (allowed[i]) mx = std::max(mx, double(base[i]));
        for (int i = 0; i < V; ++i)
            if (allowed[i]) total += p[i] = std::exp(double(base[i]) - mx);
        for (auto &x : p) x /= total;
        std::vector<int> order;
        for (int i = 0; i < V; ++i)
            if (allowed[i]) order.push_back(i);
        std::sort(order.begin(), order.end(),
                  [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
        std::size_t keep = order.size();
        if (top_p > 0) {
            double cum = 0;
            for (std::size_t i = 0; i < order.size(); ++i)
                if ((cum += p[order[i]]) >= top_p) {
                    keep = i + 1;
                    break;
                }
        }
        double mass = 0;
        for (std::size_t i = 0; i < keep; ++i) mass += p[order[i]];
        const int draws = 3000;
        std::map<int, int> seen;
        for (int i = 0; i < draws; ++i) {
            auto l = base;
            const int id = s.draw_masked(l, {}, mask);
            REQUIRE(id >= 0);
            REQUIRE(id < V);
            REQUIRE(allowed[id]);
            CHECK(std::find(order.begin(), order.begin() + long(keep), id) !=
                  order.begin() + long(keep));
            seen[id]++;
        }
        for (std::size_t r = 0; r < std::min<std::size_t>(keep, 3); ++r) {
            const double want = p[order[r]] / mass, sd = std::sqrt(want * (1 - want) / draws);
            CAPTURE(order[r]);
            CHECK(std::fabs(double(seen[order[r]]) / draws - want) <= 5 * sd + 1e-9);
        }
    }
    // Every allowed logit -inf: an allowed id all the same (the lowest), never a refused one.
    // Id 0 is refused here too, so that "0" could not pass by chance.
    mask[0] &= ~1u;
    allowed[0] = false;
    const int lowest = int(std::find(allowed.begin(), allowed.end(), true) - allowed.begin());
    std::vector<float> l(V, -INFINITY);
    l[0] = l[1] = 3.0f; // refused
    SamplingParams sp;
    sp.temperature = 1.0f;
    sp.seed = 1;
    Sampler s(sp);
    const int id = s.draw_masked(l, {}, mask);
    CHECK(allowed[id]);
    CHECK(id == lowest);
}
