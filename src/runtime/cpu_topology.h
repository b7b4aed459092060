// How many threads the engine uses by default: the physical performance cores. On big.LITTLE
// CPUs (phones, Apple silicon, Intel hybrid laptops) the efficiency cores would make every
// barrier wait for the slowest thread, and SMT siblings share one core's units.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace nibble {

// One logical CPU as the OS describes it.
struct LogicalCpu {
  int package = 0;     // physical package (socket)
  int core = -1;       // core id within the package; -1 unknown (counts as its own core)
  long capacity = 0;   // relative speed (Linux cpu_capacity, else max frequency); 0 unknown
  int id = -1;         // logical CPU number (Linux cpuN); -1 unknown
};

// Distinct physical cores among the CPUs of the highest capacity (all of them when the
// capacities are equal or unknown). 0 for an empty list.
int count_performance_cores(std::span<const LogicalCpu> cpus);

// Performance cores among the CPUs this process may run on (`allowed`: logical CPU ids, from
// the affinity mask; empty = all), capped at `quota` (a cgroup's CPU limit, rounded up; 0 =
// none) and at the number of allowed CPUs. 0 when nothing is known.
int usable_performance_cores(std::span<const LogicalCpu> cpus, std::span<const int> allowed,
                             int quota);

// A cgroup v2 cpu.max file ("QUOTA PERIOD" or "max PERIOD") as whole CPUs, rounded up; 0 for
// no limit, a missing file or a malformed one.
int read_cgroup_cpu_quota(const std::string& cpu_max_path = "/sys/fs/cgroup/cpu.max");

// Linux / Android: reads cpuN/topology/{physical_package_id,core_id} and cpuN/cpu_capacity
// (or cpuN/cpufreq/cpuinfo_max_freq) under `root` for every online cpuN. Empty when absent.
std::vector<LogicalCpu> read_linux_cpus(const std::string& root = "/sys/devices/system/cpu");

// The default thread count: performance cores from the OS (Linux sysfs, Windows
// GetLogicalProcessorInformationEx efficiency classes, Apple hw.perflevel0.physicalcpu),
// else the logical CPU count; on Linux only cores in the process's affinity mask, and no more
// than its cgroup's CPU quota (a container limited to 2 CPUs of 64 gets 2 threads); at least 1.
int default_thread_count();

// Size in bytes of the last-level cache (Windows GetLogicalProcessorInformation, else
// sysconf(_SC_LEVEL3_CACHE_SIZE), else the highest cache level in Linux sysfs); 32 MiB when
// none says. For sizing benchmark buffers well past the cache.
size_t last_level_cache_bytes();

}  // namespace nibble
