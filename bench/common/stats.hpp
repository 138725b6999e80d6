// Order statistics the benches print over their rounds: a nearest-rank quantile and the median
// (the upper one for an even count, as the benches printed it before this header). Header-only,
// shared by bench_generate, bench_kernels and bench_machine.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace bench {

// The value at nearest rank q (0: the smallest, 1: the largest) of v, taken by value so that the
// caller's order stays. v must not be empty.
inline double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(q * double(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

inline double median(std::vector<double> v) { return quantile(std::move(v), 0.5); }

} // namespace bench
