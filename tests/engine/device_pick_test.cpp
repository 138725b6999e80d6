// Ids picked on the device (engine/src/device_pick.hpp), run here on CPU tensors: the same
// ATen ops run on CUDA. The batch scheduler's use of them: batching_test.cpp.
#include "../../plugins/huggingface/engine/src/device_pick.hpp"

#include <ATen/ATen.h> // before doctest: libtorch's logging defines a CHECK of its own
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <llmhost/engine/sampling.hpp>

namespace {

// Probabilities 0.4, 0.2, 0.2, 0.1, 0.1 on ids 3, 0, 4, 1, 2 (ties: ids 0 < 4, 1 < 2).
at::Tensor five_ids() {
    return at::log(at::tensor(std::vector<float>{0.2f, 0.1f, 0.1f, 0.4f, 0.2f}, at::kFloat))
        .view({1, 5});
}

// One nucleus draw from row 0 of `l` at temperature 1.
std::int64_t nucleus_draw(const at::Tensor &l, double u, double top_p, double min_p,
                          std::int64_t top_k) {
    llmhost::engine::DevicePicks p;
    p.nucleus_rows = {0};
    p.nucleus_temperatures = {1.0};
    p.nucleus_units = {u};
    p.top_p = {top_p};
    p.min_p = {min_p};
    p.top_k = {top_k};
    return llmhost::engine::pick_on_device(l, p).at(0);
}

} // namespace

TEST_CASE("device picks: greedy is the first maximum, NaN never wins, a row of -inf gives 0") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
    const at::Tensor l = at::tensor(std::vector<float>{1, 5, 5, 2,     //
                                                       nan, 3, nan, 1, //
                                                       -inf, -inf, -inf, -inf},
                                    at::kFloat)
                             .view({3, 4});
    llmhost::engine::DevicePicks p;
    p.greedy_rows = {0, 1, 2};
    CHECK(llmhost::engine::pick_on_device(l, p) == std::vector<std::int64_t>{1, 1, 0});
    CHECK(llmhost::engine::pick_on_device(l, {}).empty());
}

TEST_CASE("device picks: a temperature draw is the inverse CDF in id order with the given "
          "uniform, as the host sampler's") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
    // Row 0: weights e^0, e^0, e^0, e^0 at t = 1 (ids 0-3 each a quarter); row 1: a NaN and a
    // -inf have no weight; row 2: nothing has weight.
    const at::Tensor l = at::tensor(std::vector<float>{2, 2, 2, 2,      //
                                                       nan, 0, -inf, 0, //
                                                       -inf, nan, -inf, -inf},
                                    at::kFloat)
                             .view({3, 4});
    auto draw = [&](std::int64_t row, double u, double t = 1.0) {
        llmhost::engine::DevicePicks p;
        p.draw_rows = {row};
        p.temperatures = {t};
        p.units = {u};
        return llmhost::engine::pick_on_device(l, p).at(0);
    };
    CHECK(draw(0, 0.0) == 0);
    CHECK(draw(0, 0.24) == 0);
    CHECK(draw(0, 0.26) == 1);
    CHECK(draw(0, 0.74) == 2);
    CHECK(draw(0, 0.76) == 3);
    CHECK(draw(0, 0.999999) == 3);
    CHECK(draw(1, 0.1) == 1); // the NaN (id 0) is skipped
    CHECK(draw(1, 0.6) == 3); // so is the -inf (id 2)
    CHECK(draw(2, 0.5) == 0); // no weight anywhere: id 0, as the host's fallback
    // Greedy and draw rows together: greedy ids first, then the draws.
    llmhost::engine::DevicePicks both;
    both.greedy_rows = {1};
    both.draw_rows = {0, 0};
    both.temperatures = {1.0, 0.5};
    both.units = {0.3, 0.9};
    CHECK(llmhost::engine::pick_on_device(l, both) == std::vector<std::int64_t>{1, 1, 3});
}

TEST_CASE("device picks: top-p and min-p keep the host's ids, sorted by logit with ties by id") {
    const at::Tensor l = five_ids();
    auto draw = [&](double u, double top_p, double min_p) {
        return nucleus_draw(l, u, top_p, min_p, 0);
    };
    // No cut (top_p 1, min_p 0): the sorted order 3, 0, 4, 1, 2 with mass 1.
    CHECK(draw(0.0, 1.0, 0.0) == 3);
    CHECK(draw(0.45, 1.0, 0.0) == 0);
    CHECK(draw(0.65, 1.0, 0.0) == 4);
    CHECK(draw(0.85, 1.0, 0.0) == 1);
    CHECK(draw(0.95, 1.0, 0.0) == 2);
    // top_p 0.55 keeps 3 and 0 (0.4 + 0.2 reaches it): mass 0.6. (0.6 itself would keep a third
    // id, on the host too: 0.4f + 0.2f summed in double is just below the float 0.6f.)
    CHECK(draw(0.6, 0.55, 0.0) == 3);  // u x mass = 0.36 < 0.4
    CHECK(draw(0.7, 0.55, 0.0) == 0);  // 0.42
    CHECK(draw(0.99, 0.55, 0.0) == 0); // never past the kept ids
    // min_p 0.3 cuts below 0.3 x 0.4 = 0.12: 3, 0, 4 kept (mass 0.8).
    CHECK(draw(0.99, 1.0, 0.3) == 4);
    // min_p 0.9: only the best is kept, whatever u.
    CHECK(draw(0.99, 1.0, 0.9) == 3);
    // Both: top_p 0.95 would keep four, min_p 0.3 three: the first cut wins.
    CHECK(draw(0.99, 0.95, 0.3) == 4);
    // A row without weight: id 0.
    const at::Tensor dead = at::full({1, 5}, -std::numeric_limits<float>::infinity());
    llmhost::engine::DevicePicks p;
    p.nucleus_rows = {0};
    p.nucleus_temperatures = {1.0};
    p.nucleus_units = {0.5};
    p.top_p = {0.9};
    p.min_p = {0.0};
    p.top_k = {2};
    CHECK(llmhost::engine::pick_on_device(dead, p) == std::vector<std::int64_t>{0});
}

TEST_CASE("device picks: the same draws as the host Sampler with the same seed, over random rows "
          "and parameters (temperature, top-k, top-p, min-p)") {
    std::mt19937 rng(11);
    std::normal_distribution<float> logit(0.0f, 3.0f);
    int compared = 0, same = 0;
    for (int row = 0; row < 300; ++row) {
        const std::int64_t V = 50 + row % 700;
        std::vector<float> v(static_cast<std::size_t>(V));
        for (auto &x : v) x = logit(rng);
        if (row % 7 == 0) v[static_cast<std::size_t>(row % V)] = std::nanf("");
        if (row % 5 == 0) v[0] = v[1] = v[2]; // ties
        llmhost::engine::SamplingParams sp;
        sp.temperature = 0.3f + 0.2f * static_cast<float>(row % 8);
        sp.top_p = row % 3 == 0 ? 1.0f : 0.5f + 0.1f * static_cast<float>(row % 5);
        sp.min_p = row % 4 == 0 ? 0.05f * static_cast<float>(1 + row % 3) : 0.0f;
        sp.top_k = row % 6 == 1 ? 1 + row % 40 : row % 6 == 2 ? 100000 : 0; // 100000: >= V, off
        sp.seed = static_cast<std::uint64_t>(row) * 7919u;
        llmhost::engine::Sampler host(sp), device(sp);
        std::vector<float> copy = v;
        const std::int32_t want = host.sample(copy, {});
        llmhost::engine::DevicePicks p;
        const bool cut = device.plain() == llmhost::engine::Sampler::Plain::Nucleus;
        REQUIRE(device.plain() != llmhost::engine::Sampler::Plain::No);
        // push_back, not `(cut ? a : b) = {x}`: g++ 13 finds no operator= for the braced list
        (cut ? p.nucleus_rows : p.draw_rows).push_back(0);
        (cut ? p.nucleus_temperatures : p.temperatures).push_back(sp.temperature);
        (cut ? p.nucleus_units : p.units).push_back(device.next_unit());
        if (cut) p.top_p = {sp.top_p}, p.min_p = {sp.min_p}, p.top_k = {sp.top_k};
        const at::Tensor l = at::tensor(v, at::kFloat).view({1, V});
        ++compared;
        same += llmhost::engine::pick_on_device(l, p).at(0) == want;
    }
    // Equal but for a draw within rounding of a boundary (~1e-7 of draws): none expected here.
    CHECK(same == compared);
    CHECK(compared == 300);
}

TEST_CASE("device picks: top-k keeps the k best (ties by id) and renormalises among them") {
    const at::Tensor l = five_ids();
    auto draw = [&](double u, std::int64_t k, double top_p) {
        return nucleus_draw(l, u, top_p, 0.0, k);
    };
    CHECK(draw(0.99, 1, 1.0) == 3);
    // k = 2: ids 3 and 0 at 2/3 and 1/3.
    CHECK(draw(0.6, 2, 1.0) == 3);
    CHECK(draw(0.7, 2, 1.0) == 0);
    // k = 3 keeps 3, 0, 4 (0 before 4: equal logits, lower id first): 0.5, 0.25, 0.25.
    CHECK(draw(0.74, 3, 1.0) == 0);
    CHECK(draw(0.76, 3, 1.0) == 4);
    // top-p 0.7 after k = 3: 0.5 + 0.25 reaches it, so 4 is cut.
    CHECK(draw(0.99, 3, 0.7) == 0);
    // k past the vocabulary: no cut.
    CHECK(draw(0.99, 99, 1.0) == 2);
}
