// Ids picked on the device (device_pick.hpp).
#include "device_pick.hpp"

#include <limits>

namespace llmhost::engine {

namespace {

at::Tensor index_tensor(const std::vector<std::int64_t> &v, at::Device device) {
    return at::tensor(v, at::kLong).to(device);
}

} // namespace

std::vector<std::int64_t> pick_on_device(const at::Tensor &logits, const DevicePicks &picks) {
    if (picks.empty()) return {};
    constexpr double kNegInf = -std::numeric_limits<double>::infinity();
    const at::Device device = logits.device();
    const std::int64_t V = logits.size(-1);
    std::vector<at::Tensor> parts;
    if (!picks.greedy_rows.empty()) {
        at::Tensor l = logits.index_select(0, index_tensor(picks.greedy_rows, device));
        parts.push_back(l.masked_fill(l.isnan(), kNegInf).argmax(-1));
    }
    if (!picks.draw_rows.empty()) {
        const auto R = static_cast<std::int64_t>(picks.draw_rows.size());
        at::Tensor l = logits.index_select(0, index_tensor(picks.draw_rows, device));
        const at::Tensor t = at::tensor(picks.temperatures, at::kDouble).to(device, at::kFloat);
        l = l.masked_fill(l.isnan(), kNegInf) / t.view({R, 1});
        // A row of -inf only: max - max is NaN, every weight NaN, total NaN: id 0 below.
        const at::Tensor w = (l - l.amax(-1, /*keepdim=*/true)).exp();
        const at::Tensor cum = w.to(at::kDouble).cumsum(-1); // [R, V]
        const at::Tensor total = cum.select(-1, V - 1);      // [R]
        const at::Tensor u = at::tensor(picks.units, at::kDouble).to(device) * total;
        // The first id whose cumulative weight exceeds u (right: cum[i - 1] <= u < cum[i]).
        at::Tensor id = at::searchsorted(cum, u.view({R, 1}), /*out_int32=*/false, /*right=*/true)
                            .view({R})
                            .clamp_max(V - 1);
        parts.push_back(at::where(total > 0, id, at::zeros_like(id)));
    }
    const at::Tensor all = (parts.size() == 1 ? parts[0] : at::cat(parts)).to(at::kCPU);
    const auto *p = all.data_ptr<std::int64_t>();
    return std::vector<std::int64_t>(p, p + all.numel());
}

} // namespace llmhost::engine
