// Picking a batched decode step's ids on the device, for the rows whose sampler needs nothing but
// the raw logits (Sampler::plain()): only the ids come back to the host, not the rows' logits
// (~0.5 MB each at a 128k vocabulary).
//   - greedy rows: the first maximum (NaN never wins), as Sampler's greedy pick;
//   - temperature rows: Sampler::draw_vocab's draw without its top-p/min-p branch, with the same
//     uniform (Sampler::next_unit(), taken by the caller): weights exp(l / t - max) in id order,
//     the first id whose cumulative weight (summed in double) passes u x total; id 0 when no id
//     has weight (every logit -inf or NaN). The weights' last bits differ from the host's exp,
//     so a draw landing within rounding of a boundary (~1e-7 of draws) may take the neighbour.
//   - nucleus rows: draw_vocab's top-p / min-p branch, and pick()'s top-k path: ids sorted by l
//     (stable: ties keep the lower id first), the first top_k of them when top_k is set,
//     probabilities w / (their total) as float, kept up to the first id below min_p x the best
//     one's (never the best) or through the first whose cumulative probability reaches top_p,
//     whichever comes first; then the first kept id whose cumulative probability passes u x the
//     kept mass (the last kept id if rounding leaves u beyond it).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace llmhost::engine {

struct DevicePicks {
    std::vector<std::int64_t> greedy_rows;   // rows of the logits to take the argmax of
    std::vector<std::int64_t> draw_rows;     // rows to draw from at a temperature
    std::vector<double> temperatures, units; // per draw row: > 0, and in [0, 1)
    // Rows to draw from after top-k / top-p / min-p, with their temperature, uniform, top_k (off
    // unless > 0), top_p (off unless in (0, 1)) and min_p (off unless > 0).
    std::vector<std::int64_t> nucleus_rows;
    std::vector<double> nucleus_temperatures, nucleus_units, top_p, min_p;
    std::vector<std::int64_t> top_k;
    bool empty() const { return greedy_rows.empty() && draw_rows.empty() && nucleus_rows.empty(); }
};

// logits: [rows, V] fp32 on any device. Returns the ids of greedy_rows, then of draw_rows, then
// of nucleus_rows, on the host (one copy).
std::vector<std::int64_t> pick_on_device(const at::Tensor &logits, const DevicePicks &picks);

} // namespace llmhost::engine
