#include <llmhost/engine/cpu_topology.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <sched.h>

namespace llmhost::engine {

namespace {

// More CPUs than any Linux kernel supports (NR_CPUS <= 8192): a bigger number is garbage.
constexpr int kMaxCpu = 1 << 16;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// A whole non-negative decimal number, nothing else.
std::optional<long long> to_number(std::string_view s) {
    s = trim(s);
    long long v = 0;
    if (s.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

std::optional<std::string> read_small_file(const std::string &path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::string s(4096, '\0'); // sysfs and cgroup files here are one short line
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    s.resize(static_cast<std::size_t>(in.gcount()));
    return s;
}

std::optional<double> quota_from_dir(const std::string &dir) {
    if (auto v2 = read_small_file(dir + "/cpu.max")) return parse_cgroup2_cpu_max(*v2);
    auto q = read_small_file(dir + "/cpu.cfs_quota_us");
    auto p = read_small_file(dir + "/cpu.cfs_period_us");
    if (q && p) return parse_cgroup1_quota(*q, *p);
    return std::nullopt;
}

// The quota of this process's cgroup: its own directory (as /proc/self/cgroup names it, under
// the v2 mount or the v1 "cpu" controller's), else the mount's root — inside a container the
// root IS the container's cgroup and the named path usually does not exist.
std::optional<double> read_cgroup_quota() {
    std::vector<std::string> dirs;
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        // "0::/path" (v2) or "4:cpu,cpuacct:/path" (v1). A hostile path cannot climb out: ".."
        // segments are refused.
        const auto a = line.find(':'), b = line.find(':', a == std::string::npos ? a : a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        if (path.find("..") != std::string::npos || path.empty() || path[0] != '/') continue;
        if (controllers.empty()) dirs.push_back("/sys/fs/cgroup" + path);
        std::stringstream cs(controllers);
        for (std::string c; std::getline(cs, c, ',');)
            if (c == "cpu") {
                dirs.push_back("/sys/fs/cgroup/cpu" + path);
                dirs.push_back("/sys/fs/cgroup/cpu,cpuacct" + path);
            }
    }
    dirs.push_back("/sys/fs/cgroup");
    dirs.push_back("/sys/fs/cgroup/cpu");
    for (const auto &d : dirs)
        if (auto q = quota_from_dir(d)) return q;
    return std::nullopt;
}

} // namespace

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
    text = trim(text);
    if (text.empty()) return std::nullopt;
    std::set<int> cpus;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        const auto dash = item.find('-');
        const auto lo = to_number(item.substr(0, dash));
        const auto hi = dash == std::string_view::npos ? lo : to_number(item.substr(dash + 1));
        if (!lo || !hi || *lo > *hi || *hi >= kMaxCpu) return std::nullopt;
        for (long long c = *lo; c <= *hi; ++c) cpus.insert(static_cast<int>(c));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
        if (text.empty()) return std::nullopt; // trailing comma
    }
    return std::vector<int>(cpus.begin(), cpus.end());
}

std::optional<double> parse_cgroup2_cpu_max(std::string_view cpu_max) {
    cpu_max = trim(cpu_max);
    const auto sp = cpu_max.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    if (trim(cpu_max.substr(0, sp)) == "max") return std::nullopt;
    return parse_cgroup1_quota(cpu_max.substr(0, sp), cpu_max.substr(sp + 1));
}

std::optional<double> parse_cgroup1_quota(std::string_view quota_us, std::string_view period_us) {
    const auto q = to_number(quota_us), p = to_number(period_us); // "-1" (no limit) fails here
    if (!q || !p || *q == 0 || *p == 0) return std::nullopt;
    return static_cast<double>(*q) / static_cast<double>(*p);
}

int physical_cores(const CpuTopology &t) {
    std::set<int> cores; // each core named by its lowest sibling
    for (int cpu : t.allowed) {
        int key = cpu;
        if (auto it = t.siblings.find(cpu); it != t.siblings.end())
            if (auto sib = parse_cpu_list(it->second);
                sib && std::find(sib->begin(), sib->end(), cpu) != sib->end())
                key = sib->front();
        cores.insert(key);
    }
    int n = static_cast<int>(cores.size());
    if (t.quota_cpus && *t.quota_cpus > 0)
        n = std::min(n, std::max(1, static_cast<int>(std::ceil(*t.quota_cpus - 1e-9))));
    return n;
}

CpuTopology read_cpu_topology() {
    CpuTopology t;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) t.allowed.push_back(c);
    }
    for (int cpu : t.allowed) {
        const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
        // core_cpus_list is the newer name (Linux 5.5); thread_siblings_list the older one.
        auto s = read_small_file(dir + "core_cpus_list");
        if (!s) s = read_small_file(dir + "thread_siblings_list");
        if (s) t.siblings[cpu] = *s;
    }
    t.quota_cpus = read_cgroup_quota();
    return t;
}

int default_cpu_threads() {
    const int n = physical_cores(read_cpu_topology());
    if (n > 0) return n;
    return std::max(1u, std::thread::hardware_concurrency());
}

} // namespace llmhost::engine
