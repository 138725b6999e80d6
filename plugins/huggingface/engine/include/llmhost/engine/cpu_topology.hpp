// How many CPU threads the engine uses by default: one per PHYSICAL core this process may run on.
//
// A hyperthread sibling shares its core's vector units and memory port, so a second thread on
// the same core makes matmuls slower, not faster, while it competes with the first; libtorch's
// own default (all logical CPUs) counts those siblings. The count honours the affinity mask
// (taskset, a container's cpuset) and a cgroup CPU quota (docker --cpus), both of which leave
// fewer cores than the machine has.
//
// The parsing is separate from the reading so that tests can describe any machine. Torch-free.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmhost::engine {

// A Linux CPU list as in sysfs and cpusets: "0-3,8,10-11". nullopt when malformed (empty
// items, reversed ranges, non-digits, absurd numbers).
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

// A cgroup CPU limit in CPUs: v2 cpu.max ("150000 100000" -> 1.5, "max 100000" -> none) and
// v1 cpu.cfs_quota_us / cpu.cfs_period_us ("-1" -> none). nullopt: no limit or unreadable.
std::optional<double> parse_cgroup2_cpu_max(std::string_view cpu_max);
std::optional<double> parse_cgroup1_quota(std::string_view quota_us, std::string_view period_us);

struct CpuTopology {
    std::vector<int> allowed;            // CPUs in the affinity mask
    std::map<int, std::string> siblings; // CPU -> its core_cpus_list (or thread_siblings_list)
    std::optional<double> quota_cpus;    // cgroup CPU quota, in CPUs
};

// Physical cores among the allowed CPUs: CPUs with the same sibling list are one core; a CPU
// whose list is missing or malformed counts as a core of its own. Capped by ceil(quota_cpus).
// 0 when nothing is allowed (the caller falls back).
int physical_cores(const CpuTopology &t);

// This process's topology: sched_getaffinity, /sys/devices/system/cpu/cpuN/topology, the
// cgroup (v2 cpu.max, else v1 cfs quota) of /proc/self/cgroup or of the cgroup root.
CpuTopology read_cpu_topology();

// The engine's thread count for LoadOptions::threads == 0: physical_cores(read_cpu_topology()),
// else std::thread::hardware_concurrency(), at least 1.
int default_cpu_threads();

} // namespace llmhost::engine
