#include "step_profile.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>

namespace bench {

namespace {

namespace profiler = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

double duration_us(const profiler::KinetoEvent &e) {
#if TORCH_VERSION_MAJOR >= 2
    return static_cast<double>(e.durationNs()) / 1e3; // 2.x counts in nanoseconds
#else
    return static_cast<double>(e.durationUs());
#endif
}

} // namespace

WorkProfile profile_work(const std::function<void()> &work, bool cuda) {
    const ProfilerConfig config(ProfilerState::KINETO);
    std::set<ActivityType> activities{ActivityType::CPU};
    if (cuda) activities.insert(ActivityType::CUDA);
    try {
        profiler::prepareProfiler(config, activities);
        profiler::enableProfiler(config, activities);
    } catch (const std::exception &e) {
        throw std::runtime_error(std::string("torch's profiler would not start: ") + e.what());
    }
    const auto t0 = std::chrono::steady_clock::now();
    try {
        work();
    } catch (...) {
        (void)profiler::disableProfiler();
        throw;
    }
    const double wall_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    const auto result = profiler::disableProfiler();

    WorkProfile out;
    out.what = cuda ? "CUDA device events" : "CPU operators (nested)";
    out.wall_us = wall_us;
    std::map<std::string, ProfiledName> sums;
    for (const auto &e : result->events()) {
        if ((e.deviceType() == c10::DeviceType::CUDA) != cuda) continue;
        auto &s = sums[e.name()];
        s.name = e.name();
        ++s.calls;
        s.total_us += duration_us(e);
        out.busy_us += duration_us(e);
    }
    for (auto &[name, s] : sums) out.by_name.push_back(std::move(s));
    std::sort(out.by_name.begin(), out.by_name.end(),
              [](const ProfiledName &a, const ProfiledName &b) { return a.total_us > b.total_us; });
    return out;
}

} // namespace bench
