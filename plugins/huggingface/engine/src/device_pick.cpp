// Ids picked on the device (device_pick.hpp).
#include "device_pick.hpp"

#include <limits>
#include <tuple>

namespace llmhost::engine {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

at::Tensor index_tensor(const std::vector<std::int64_t> &v, at::Device device) {
    return at::tensor(v, at::kLong).to(device);
}

at::Tensor column(const std::vector<double> &v, at::Device device, at::ScalarType type) {
    return at::tensor(v, at::kDouble).to(device, type).view({-1, 1});
}

// The first column where `hit` ([R, V] bool) is true, per row; V where it never is.
at::Tensor first_true(const at::Tensor &hit) {
    const at::Tensor first = hit.to(at::kByte).argmax(-1); // the first maximum: the first true
    return at::where(hit.any(-1), first, at::full_like(first, hit.size(-1)));
}

// exp(l / t - max(l / t)) of the `rows` of the logits, NaN as -inf (a row of -inf only: max -
// max is NaN, so every weight and the total are NaN, and the row gets id 0). `scaled`: l / t.
at::Tensor weights(const at::Tensor &logits, const std::vector<std::int64_t> &rows,
                   const std::vector<double> &temperatures, at::Tensor &scaled) {
    const at::Device device = logits.device();
    at::Tensor l = logits.index_select(0, index_tensor(rows, device));
    scaled = l.masked_fill(l.isnan(), kNegInf) / column(temperatures, device, at::kFloat);
    return (scaled - scaled.amax(-1, /*keepdim=*/true)).exp();
}

// Temperature draws: the first id in id order whose cumulative weight exceeds u x total.
at::Tensor draw(const at::Tensor &logits, const DevicePicks &picks) {
    const at::Device device = logits.device();
    const std::int64_t V = logits.size(-1);
    at::Tensor l;
    const at::Tensor w = weights(logits, picks.draw_rows, picks.temperatures, l);
    const at::Tensor cum = w.to(at::kDouble).cumsum(-1); // [R, V]
    const at::Tensor total = cum.narrow(-1, V - 1, 1);   // [R, 1]
    const at::Tensor u = column(picks.units, device, at::kDouble) * total;
    // right: the first i with cum[i] > u (cum[i - 1] <= u < cum[i]).
    const at::Tensor id =
        at::searchsorted(cum, u, /*out_int32=*/false, /*right=*/true).view({-1}).clamp_max(V - 1);
    return at::where(total.view({-1}) > 0, id, at::zeros_like(id));
}

// Nucleus draws: top-k / top-p / min-p over the ids sorted by logit, then the draw among those
// kept.
at::Tensor nucleus(const at::Tensor &logits, const DevicePicks &picks) {
    const at::Device device = logits.device();
    const std::int64_t V = logits.size(-1);
    at::Tensor l;
    const at::Tensor w = weights(logits, picks.nucleus_rows, picks.nucleus_temperatures, l);
    // By logit, descending; stable, so equal logits keep the lower id first.
    const at::Tensor order = std::get<1>(l.sort(/*stable=*/true, /*dim=*/-1, /*descending=*/true));
    // top-k: the first k sorted ids only, their probabilities renormalised among them (pick()'s
    // top-k path); k = V when off.
    std::vector<std::int64_t> ks;
    for (std::int64_t k : picks.top_k) ks.push_back(k > 0 && k < V ? k : V);
    const at::Tensor k = at::tensor(ks, at::kLong).to(device).view({-1, 1});
    const at::Tensor sorted_w =
        w.gather(-1, order)
            .to(at::kDouble)
            .masked_fill(
                at::arange(V, at::TensorOptions().dtype(at::kLong).device(device)).view({1, V}) >=
                    k,
                0.0);
    const at::Tensor total = sorted_w.sum(-1, /*keepdim=*/true); // [R, 1]
    // As the host: each probability a float, summed in double.
    const at::Tensor prob = (sorted_w / total).to(at::kFloat);
    const at::Tensor cum = prob.to(at::kDouble).cumsum(-1);
    // min-p: the first id below min_p x the best one's probability (never the best itself).
    const at::Tensor mp = column(picks.min_p, device, at::kFloat);
    at::Tensor below = (prob < mp * prob.narrow(-1, 0, 1)) & (mp > 0);
    below.narrow(-1, 0, 1).fill_(false);
    // top-p: through the first id whose cumulative probability reaches top_p.
    const at::Tensor tp = column(picks.top_p, device, at::kDouble);
    const at::Tensor reach = (cum >= tp) & (tp > 0) & (tp < 1);
    const at::Tensor keep =
        at::minimum(at::minimum(first_true(below), (first_true(reach) + 1).clamp_max(V)),
                    k.view({-1}))
            .clamp_min(1);
    const at::Tensor mass = cum.gather(-1, (keep - 1).view({-1, 1})); // [R, 1]
    const at::Tensor u = column(picks.nucleus_units, device, at::kDouble) * mass;
    const at::Tensor i = at::minimum(
        at::searchsorted(cum, u, /*out_int32=*/false, /*right=*/true).view({-1}), keep - 1);
    const at::Tensor id = order.gather(-1, i.view({-1, 1})).view({-1});
    return at::where(total.view({-1}) > 0, id, at::zeros_like(id));
}

} // namespace

std::vector<std::int64_t> pick_on_device(const at::Tensor &logits, const DevicePicks &picks) {
    if (picks.empty()) return {};
    std::vector<at::Tensor> parts;
    if (!picks.greedy_rows.empty()) {
        at::Tensor l = logits.index_select(0, index_tensor(picks.greedy_rows, logits.device()));
        parts.push_back(l.masked_fill(l.isnan(), kNegInf).argmax(-1)); // NaN never wins
    }
    if (!picks.draw_rows.empty()) parts.push_back(draw(logits, picks));
    if (!picks.nucleus_rows.empty()) parts.push_back(nucleus(logits, picks));
    const at::Tensor all = (parts.size() == 1 ? parts[0] : at::cat(parts)).to(at::kCPU);
    const auto *p = all.data_ptr<std::int64_t>();
    return std::vector<std::int64_t>(p, p + all.numel());
}

} // namespace llmhost::engine
