// Ids picked on the device (engine/src/device_pick.hpp), run here on CPU tensors: the same
// ATen ops run on CUDA. The batch scheduler's use of them: batching_test.cpp.
#include "../../plugins/huggingface/engine/src/device_pick.hpp"

#include <ATen/ATen.h> // before doctest: libtorch's logging defines a CHECK of its own
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

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
