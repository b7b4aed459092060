// CPU feature detection and dispatch: the detected features are self-consistent, match what
// the test runner says the CPU has (NIBBLE_EXPECT_ISA, set by scripts/test-aarch64.sh for each
// emulated QEMU CPU model), and the kernel table picks the best variant the CPU can run.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "kernels/kernels.h"
#include "kernels/registry.h"
#include "kernels/dispatch/cpu_features.h"

namespace nibble::kernels {
namespace {

int level(Isa isa) { return static_cast<int>(isa); }

std::string feature_list() {
  const CpuFeatures& f = cpu_features();
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (on) s += std::string(s.empty() ? "" : ",") + name;
  };
  add(f.avx2, "avx2");
  add(f.avx_vnni, "avx_vnni");
  add(f.avx512f, "avx512f");
  add(f.avx512vnni, "avx512vnni");
  add(f.amx_tile && f.amx_int8, "amx");
  add(f.neon, "neon");
  add(f.dotprod, "dotprod");
  add(f.i8mm, "i8mm");
  add(f.fp16, "fp16");
  return s.empty() ? "none" : s;
}

TEST(CpuFeatures, LevelsAreNested) {
  const CpuFeatures& f = cpu_features();
  RecordProperty("features", feature_list());
  std::printf("detected CPU features: %s; best ISA: %s\n", feature_list().c_str(),
              std::string(isa_name(best_supported_isa())).c_str());
#if defined(__aarch64__)
  EXPECT_TRUE(f.neon) << "NEON (ASIMD) is mandatory on arm64";
  EXPECT_TRUE(isa_supported(Isa::neon));
  EXPECT_FALSE(isa_supported(Isa::avx2));
#elif defined(__x86_64__)
  EXPECT_FALSE(f.neon);
  EXPECT_FALSE(isa_supported(Isa::neon));
#endif
  EXPECT_EQ(isa_supported(Isa::dotprod), f.neon && f.dotprod);
  EXPECT_EQ(isa_supported(Isa::i8mm), f.neon && f.dotprod && f.i8mm);
  if (isa_supported(Isa::i8mm)) {
    EXPECT_TRUE(isa_supported(Isa::dotprod));
  }
  if (isa_supported(Isa::dotprod)) {
    EXPECT_TRUE(isa_supported(Isa::neon));
  }
  EXPECT_TRUE(isa_supported(best_supported_isa()));
}

// The vendor bit behind the prefetch policy agrees with the kernel's view of the CPU (Linux:
// /proc/cpuinfo's vendor_id), and the policy follows it unless NIBBLE_PREFETCH overrides.
TEST(CpuFeatures, VendorAndPrefetchPolicy) {
  const CpuFeatures& f = cpu_features();
#if defined(__x86_64__) && defined(__linux__)
  std::FILE* cpuinfo = std::fopen("/proc/cpuinfo", "r");
  ASSERT_NE(cpuinfo, nullptr);
  char line[256];
  std::string vendor;
  long family = -1;
  while (std::fgets(line, sizeof line, cpuinfo) && (vendor.empty() || family < 0)) {
    std::string l(line);
    if (l.rfind("vendor_id", 0) == 0) {
      vendor = l.substr(l.find(':') + 2);
      vendor.erase(vendor.find_last_not_of(" \n") + 1);
    } else if (l.rfind("cpu family", 0) == 0) {
      family = std::strtol(l.c_str() + l.find(':') + 1, nullptr, 10);
    }
  }
  std::fclose(cpuinfo);
  ASSERT_FALSE(vendor.empty());
  EXPECT_EQ(f.amd, vendor == "AuthenticAMD" || vendor == "HygonGenuine") << vendor;
  ASSERT_GE(family, 0);
  EXPECT_EQ(static_cast<long>(f.family), family);
#elif defined(__x86_64__) && defined(__GNUC__)
  // No /proc/cpuinfo (Windows): compare with the vendor string of cpuid leaf 0 as GCC's
  // <cpuid.h> reads it (the machine may be AMD: the vendor bit must follow the CPU).
  unsigned a = 0, b = 0, c = 0, d = 0;
  ASSERT_TRUE(__get_cpuid(0, &a, &b, &c, &d));
  char v[13] = {};
  std::memcpy(v, &b, 4);
  std::memcpy(v + 4, &d, 4);
  std::memcpy(v + 8, &c, 4);
  const std::string vendor = v;
  EXPECT_EQ(f.amd, vendor == "AuthenticAMD" || vendor == "HygonGenuine") << vendor;
#else
  EXPECT_FALSE(f.amd);
#endif
  const char* env = std::getenv("NIBBLE_PREFETCH");
  if (env && (env[0] == '0' || env[0] == '1')) {
    EXPECT_EQ(weight_prefetch, env[0] == '1');
  } else {
    EXPECT_EQ(weight_prefetch, !f.amd || f.family >= 26);  // on from Zen 5 (decision 55)
  }
}

// The runner states which ISA level the (emulated) CPU has; detection must agree exactly.
TEST(CpuFeatures, MatchesTheExpectedCpuModel) {
  const char* want = std::getenv("NIBBLE_EXPECT_ISA");
  if (!want || !*want)
    GTEST_SKIP() << "NIBBLE_EXPECT_ISA not set (scripts/test-aarch64.sh sets it)";
  Isa isa;
  ASSERT_TRUE(parse_isa(want, &isa)) << "bad NIBBLE_EXPECT_ISA=" << want;
  EXPECT_EQ(isa_name(best_supported_isa()), isa_name(isa)) << "features: " << feature_list();
}

// The cap the tables are built under: NIBBLE_ISA when set, else none.
Isa env_cap() {
  Isa cap = Isa::i8mm;
  const char* v = std::getenv("NIBBLE_ISA");
  if (v && *v && !parse_isa(v, &cap)) cap = Isa::i8mm;
  return cap;
}

// Highest-priority registered variant for `w` that the CPU runs at or below `cap` (packed
// layouts only when `packed` allows them: prepare without repacking picks among plain ones).
const MatmulVariant* best_variant(TensorType w, Isa cap, bool packed) {
  const MatmulVariant* best = nullptr;
  for (const MatmulVariant& v : matmul_variants()) {
    if (v.weight != w || level(v.isa) > level(cap) || !isa_supported(v.isa)) continue;
    if (v.packed() && !packed) continue;
    if (!best || v.priority > best->priority) best = &v;
  }
  return best;
}

TEST(Dispatch, PicksTheBestAvailableVariant) {
  for (Isa cap : {Isa::scalar, Isa::neon, Isa::dotprod, Isa::i8mm, Isa::avx2, Isa::avx512vnni}) {
    const Isa eff = level(env_cap()) < level(cap) ? env_cap() : cap;
    const KernelTable& t = KernelTable::get(cap);
    // The table's ISA is the highest among the variants it chooses (the best of each format;
    // a registered variant that never wins does not count).
    Isa want = Isa::scalar;
    for (const MatmulVariant& v : matmul_variants()) {
      if (v.isa != Isa::scalar) continue;  // one scalar reference per format
      const MatmulVariant* b = best_variant(v.weight, eff, true);
      if (b && level(b->isa) > level(want)) want = b->isa;
    }
    EXPECT_EQ(isa_name(t.isa()), isa_name(want)) << "cap " << isa_name(cap);
    EXPECT_TRUE(isa_supported(t.isa()));
    EXPECT_LE(level(t.isa()), level(eff));
    // Every format gets its best variant.
    for (const MatmulVariant& v : matmul_variants()) {
      if (v.isa != Isa::scalar) continue;  // one scalar reference per format
      const MatmulVariant* b = best_variant(v.weight, eff, false);
      ASSERT_NE(b, nullptr);
      const PreparedWeights p = t.prepare(v.weight, 1, 256, nullptr, false);
      EXPECT_EQ(p.fn, b->fn) << "cap " << isa_name(cap) << ": expected " << b->name;
    }
  }
}

// Without a cap, the best table uses the best ISA the CPU has whenever some variant of that
// ISA is registered (on arm64 every level has variants, so it equals best_supported_isa()).
TEST(Dispatch, UncappedTableUsesTheBestIsa) {
  if (std::getenv("NIBBLE_ISA")) GTEST_SKIP() << "NIBBLE_ISA caps the table";
  bool registered = false;
  for (const MatmulVariant& v : matmul_variants()) registered |= v.isa == best_supported_isa();
  if (!registered) GTEST_SKIP() << "no variant registered for " << isa_name(best_supported_isa());
  EXPECT_EQ(isa_name(KernelTable::get().isa()), isa_name(best_supported_isa()));
}

}  // namespace
}  // namespace nibble::kernels
