#include "runtime/cpu_topology.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include "runtime/win32.h"
#else
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#endif

namespace nibble {

int count_performance_cores(std::span<const LogicalCpu> cpus) {
  long top = 0;
  for (const LogicalCpu& c : cpus) top = std::max(top, c.capacity);
  std::set<std::pair<int, int>> cores;
  int unknown = 0;
  for (const LogicalCpu& c : cpus) {
    if (c.capacity != top) continue;
    if (c.core < 0)
      ++unknown;
    else
      cores.insert({c.package, c.core});
  }
  return static_cast<int>(cores.size()) + unknown;
}

int usable_performance_cores(std::span<const LogicalCpu> cpus, std::span<const int> allowed,
                             int quota) {
  std::vector<LogicalCpu> mine;
  for (const LogicalCpu& c : cpus)
    if (allowed.empty() || std::find(allowed.begin(), allowed.end(), c.id) != allowed.end())
      mine.push_back(c);
  if (mine.empty()) mine.assign(cpus.begin(), cpus.end());  // ids unknown: the mask says nothing
  int n = count_performance_cores(mine);
  if (!allowed.empty() && n > static_cast<int>(allowed.size())) n = static_cast<int>(allowed.size());
  if (quota > 0 && n > quota) n = quota;
  return n;
}

int read_cgroup_cpu_quota(const std::string& cpu_max_path) {
  std::ifstream in(cpu_max_path);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
  if (quota.empty() || quota.find_first_not_of("0123456789") != std::string::npos ||
      quota.size() > 15)
    return 0;
  const long long q = std::stoll(quota);
  if (q <= 0) return 0;
  return static_cast<int>(std::min<long long>((q + period - 1) / period, 1 << 20));
}

namespace {

bool read_long(const std::string& path, long* out) {
  std::ifstream in(path);
  long v = 0;
  if (!(in >> v)) return false;
  *out = v;
  return true;
}

// "0-3,6,8-9" -> {0,1,2,3,6,8,9}; empty on a malformed list.
std::vector<int> parse_cpu_list(const std::string& s) {
  std::vector<int> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    const std::string part = s.substr(i, j - i);
    const size_t dash = part.find('-');
    try {
      const int lo = std::stoi(part.substr(0, dash));
      const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
      if (lo < 0 || hi < lo || hi > 65535) return {};
      for (int c = lo; c <= hi; ++c) out.push_back(c);
    } catch (...) {
      return {};
    }
    i = j + 1;
  }
  return out;
}

}  // namespace

std::vector<LogicalCpu> read_linux_cpus(const std::string& root) {
  std::ifstream online(root + "/online");
  std::string list;
  if (!std::getline(online, list)) return {};
  std::vector<LogicalCpu> cpus;
  for (int id : parse_cpu_list(list)) {
    const std::string dir = root + "/cpu" + std::to_string(id);
    LogicalCpu c;
    c.id = id;
    long v = 0;
    if (read_long(dir + "/topology/physical_package_id", &v)) c.package = static_cast<int>(v);
    if (read_long(dir + "/topology/core_id", &v)) c.core = static_cast<int>(v);
    if (read_long(dir + "/cpu_capacity", &v) || read_long(dir + "/cpufreq/cpuinfo_max_freq", &v))
      c.capacity = v;
    cpus.push_back(c);
  }
  return cpus;
}

int default_thread_count() {
  int n = 0;
#if defined(_WIN32)
  // Cores with the highest efficiency class (Windows 10+; 0 everywhere on uniform CPUs).
  DWORD len = 0;
  GetLogicalProcessorInformationEx(RelationProcessorCore, nullptr, &len);
  std::vector<char> buf(len);
  if (len && GetLogicalProcessorInformationEx(
                 RelationProcessorCore,
                 reinterpret_cast<SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(buf.data()), &len)) {
    std::vector<LogicalCpu> cores;
    for (DWORD off = 0; off < len;) {
      auto* p = reinterpret_cast<SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(buf.data() + off);
      // PROCESSOR_RELATIONSHIP: BYTE Flags, BYTE EfficiencyClass (Windows 10+; older SDK
      // headers, MinGW's among them, still call that byte Reserved[0]).
      const BYTE efficiency = reinterpret_cast<const BYTE*>(&p->Processor)[1];
      cores.push_back({0, static_cast<int>(cores.size()), static_cast<long>(efficiency)});
      off += p->Size;
    }
    n = count_performance_cores(cores);
  }
#elif defined(__APPLE__)
  int v = 0;
  size_t size = sizeof(v);
  if (sysctlbyname("hw.perflevel0.physicalcpu", &v, &size, nullptr, 0) == 0 ||
      sysctlbyname("hw.physicalcpu", &v, &size, nullptr, 0) == 0)
    n = v;
#else
  const auto cpus = read_linux_cpus();
  std::vector<int> allowed;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) allowed.push_back(i);
#endif
  n = usable_performance_cores(cpus, allowed, read_cgroup_cpu_quota());
#endif
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(n, 1);
}

size_t last_level_cache_bytes() {
#if defined(_WIN32)
  DWORD len = 0;
  GetLogicalProcessorInformation(nullptr, &len);
  std::vector<SYSTEM_LOGICAL_PROCESSOR_INFORMATION> info(len / sizeof info[0] + 1);
  size_t win_best = 0;
  int win_level = -1;
  if (len && GetLogicalProcessorInformation(info.data(), &len))
    for (size_t i = 0; i < len / sizeof(info[0]); ++i)
      if (info[i].Relationship == RelationCache && info[i].Cache.Level > win_level)
        win_level = info[i].Cache.Level, win_best = info[i].Cache.Size;
  if (win_best) return win_best;
#endif
#ifdef _SC_LEVEL3_CACHE_SIZE
  if (long v = sysconf(_SC_LEVEL3_CACHE_SIZE); v > 0) return static_cast<size_t>(v);
#endif
  size_t best = 0;
  int best_level = -1;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i);
    std::ifstream lv(dir + "/level"), sz(dir + "/size");
    int level = 0;
    std::string size;
    if (!(lv >> level) || !(sz >> size)) continue;
    size_t bytes = std::strtoull(size.c_str(), nullptr, 10);
    if (size.find('K') != std::string::npos) bytes <<= 10;
    if (size.find('M') != std::string::npos) bytes <<= 20;
    if (level > best_level) best_level = level, best = bytes;
  }
  return best ? best : (size_t{32} << 20);
}

}  // namespace nibble
