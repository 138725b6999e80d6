// A regex for the decimal integers in [lo, hi] (either bound optional), in JSON's form: no
// leading zeros, no "-0".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace llmhost::constraint {

std::string int_range_regex(std::optional<int64_t> lo, std::optional<int64_t> hi);

} // namespace llmhost::constraint
