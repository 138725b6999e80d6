// A regex for the decimal integers in [lo, hi] (either bound optional), in JSON's form: no
// leading zeros, no "-0".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace llmhost::constraint {

std::string int_range_regex(std::optional<int64_t> lo, std::optional<int64_t> hi);
// JSON numbers (fraction, exponent) in [lo, hi] with integral bounds. Exact: where a bound
// depends on the value's magnitude, that side takes no exponent form (1e-05 is refused under
// "maximum": 3, accepted under "minimum": 0).
std::string number_range_regex(std::optional<int64_t> lo, std::optional<int64_t> hi);

} // namespace llmhost::constraint
