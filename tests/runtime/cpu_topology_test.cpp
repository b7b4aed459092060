// The default thread count from fake OS descriptions: SMT siblings count once, efficiency
// cores of big.LITTLE CPUs are left out, unknown topologies fall back sensibly, the affinity
// mask and a cgroup CPU quota bound the count.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/cpu_topology.h"

namespace nibble {
namespace {

namespace fs = std::filesystem;

// Writes a fake /sys/devices/system/cpu: "online" and per cpu its ids and capacity (< 0: no
// capacity file).
struct FakeSysfs {
  fs::path root;
  explicit FakeSysfs(const std::string& name)
      : root(fs::temp_directory_path() / ("nibble_sysfs_" + name)) {
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~FakeSysfs() { fs::remove_all(root); }
  void write(const fs::path& rel, const std::string& text) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << text << "\n";
  }
  void cpu(int id, int package, int core, long capacity) {
    const std::string d = "cpu" + std::to_string(id);
    write(d + "/topology/physical_package_id", std::to_string(package));
    write(d + "/topology/core_id", std::to_string(core));
    if (capacity >= 0) write(d + "/cpu_capacity", std::to_string(capacity));
  }
};

TEST(CpuTopology, SmtSiblingsCountOnce) {
  FakeSysfs s("smt");
  s.write("online", "0-7");
  for (int i = 0; i < 8; ++i) s.cpu(i, 0, i % 4, -1);  // 4 cores x 2 threads
  const auto cpus = read_linux_cpus(s.root.string());
  ASSERT_EQ(cpus.size(), 8u);
  EXPECT_EQ(count_performance_cores(cpus), 4);
}

TEST(CpuTopology, BigLittleCountsTheBigCores) {
  // A phone: 4 little (capacity 446), 3 middle (871), 1 prime (1024) -> the prime core only
  // has the top capacity; a 4+4 laptop-style split -> 4.
  FakeSysfs s("biglittle");
  s.write("online", "0-7");
  for (int i = 0; i < 4; ++i) s.cpu(i, 0, i, 446);
  for (int i = 4; i < 7; ++i) s.cpu(i, 0, i, 871);
  s.cpu(7, 0, 7, 1024);
  EXPECT_EQ(count_performance_cores(read_linux_cpus(s.root.string())), 1);

  FakeSysfs t("foursplit");
  t.write("online", "0-7");
  for (int i = 0; i < 4; ++i) t.cpu(i, 0, i, 512);
  for (int i = 4; i < 8; ++i) t.cpu(i, 0, i, 1024);
  EXPECT_EQ(count_performance_cores(read_linux_cpus(t.root.string())), 4);
}

TEST(CpuTopology, MaxFrequencyWhenNoCapacityAndOfflineCpusSkipped) {
  FakeSysfs s("freq");
  s.write("online", "0-1,4-5");  // 2 and 3 offline
  for (int i : {0, 1}) {
    s.cpu(i, 0, i, -1);
    s.write("cpu" + std::to_string(i) + "/cpufreq/cpuinfo_max_freq", "3200000");
  }
  for (int i : {4, 5}) {
    s.cpu(i, 0, i, -1);
    s.write("cpu" + std::to_string(i) + "/cpufreq/cpuinfo_max_freq", "2000000");
  }
  const auto cpus = read_linux_cpus(s.root.string());
  ASSERT_EQ(cpus.size(), 4u);
  EXPECT_EQ(count_performance_cores(cpus), 2);
}

TEST(CpuTopology, TwoSocketsAndUnknownCores) {
  std::vector<LogicalCpu> cpus = {{0, 0, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 0}};
  EXPECT_EQ(count_performance_cores(cpus), 4);  // core 0 of socket 0 != core 0 of socket 1
  cpus = {{0, -1, 0}, {0, -1, 0}, {0, -1, 0}};
  EXPECT_EQ(count_performance_cores(cpus), 3);  // no topology: every CPU its own core
  EXPECT_EQ(count_performance_cores({}), 0);
}

TEST(CpuTopology, MissingOrMalformedSysfsGivesNothing) {
  EXPECT_TRUE(read_linux_cpus("/nonexistent/sysfs").empty());
  FakeSysfs s("bad");
  s.write("online", "3-1,x");
  EXPECT_TRUE(read_linux_cpus(s.root.string()).empty());
  EXPECT_GE(default_thread_count(), 1);
}

TEST(CpuTopology, AffinityMaskAndQuotaBoundTheCount) {
  FakeSysfs s("mask");
  s.write("online", "0-7");
  for (int i = 0; i < 4; ++i) s.cpu(i, 0, i, 512);   // efficiency cores
  for (int i = 4; i < 8; ++i) s.cpu(i, 0, i, 1024);  // performance cores
  const auto cpus = read_linux_cpus(s.root.string());
  ASSERT_EQ(cpus.size(), 8u);
  EXPECT_EQ(cpus[5].id, 5);
  EXPECT_EQ(usable_performance_cores(cpus, {}, 0), 4);
  const std::vector<int> two_big = {4, 5}, little_only = {0, 1, 2}, one_each = {0, 7};
  EXPECT_EQ(usable_performance_cores(cpus, two_big, 0), 2);
  EXPECT_EQ(usable_performance_cores(cpus, little_only, 0), 3);  // pinned to efficiency cores
  EXPECT_EQ(usable_performance_cores(cpus, one_each, 0), 1);
  EXPECT_EQ(usable_performance_cores(cpus, {}, 3), 3);  // container limited to 3 CPUs
  EXPECT_EQ(usable_performance_cores(cpus, {}, 16), 4);
}

TEST(CpuTopology, CgroupQuota) {
  FakeSysfs s("cgroup");
  s.write("a", "200000 100000");
  s.write("b", "150000 100000");
  s.write("c", "max 100000");
  s.write("d", "-5 100000");
  s.write("e", "garbage");
  EXPECT_EQ(read_cgroup_cpu_quota((s.root / "a").string()), 2);
  EXPECT_EQ(read_cgroup_cpu_quota((s.root / "b").string()), 2);  // 1.5 CPUs: 2 threads
  EXPECT_EQ(read_cgroup_cpu_quota((s.root / "c").string()), 0);
  EXPECT_EQ(read_cgroup_cpu_quota((s.root / "d").string()), 0);
  EXPECT_EQ(read_cgroup_cpu_quota((s.root / "e").string()), 0);
  EXPECT_EQ(read_cgroup_cpu_quota((s.root / "missing").string()), 0);
}

}  // namespace
}  // namespace nibble
