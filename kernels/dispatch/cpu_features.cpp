#include "kernels/dispatch/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif

#include <cstring>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP_FPHP
#define HWCAP_FPHP (1 << 9)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace nibble::kernels {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
// cpuid / xgetbv through GCC/Clang's <cpuid.h> or MSVC's <intrin.h>.
#if defined(_MSC_VER)
unsigned long long xgetbv0() { return _xgetbv(0); }
void cpuid(unsigned leaf, unsigned sub, unsigned& a, unsigned& b, unsigned& c, unsigned& d) {
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(sub));
  a = static_cast<unsigned>(r[0]), b = static_cast<unsigned>(r[1]);
  c = static_cast<unsigned>(r[2]), d = static_cast<unsigned>(r[3]);
}
#else
unsigned long long xgetbv0() {
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
void cpuid(unsigned leaf, unsigned sub, unsigned& a, unsigned& b, unsigned& c, unsigned& d) {
  __cpuid_count(leaf, sub, a, b, c, d);
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a, b, c, d;
  cpuid(0, 0, a, b, c, d);
  const unsigned max_leaf = a;
  if (max_leaf < 1) return f;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  const bool amd = std::strcmp(vendor, "AuthenticAMD") == 0 || std::strcmp(vendor, "HygonGenuine") == 0;
  cpuid(1, 0, a, b, c, d);
  const unsigned base_family = (a >> 8) & 0xf;
  const unsigned family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
  const bool osxsave = c & (1u << 27);
  const bool avx = c & (1u << 28);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  if (!osxsave || !avx) return CpuFeatures{};
  const auto xcr0 = xgetbv0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;            // SSE + AVX state
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;          // + opmask, ZMM hi256, hi16 ZMM
  if (!os_ymm) return CpuFeatures{};
  if (max_leaf < 7) return f;
  cpuid(7, 0, a, b, c, d);
  f.avx2 = b & (1u << 5);
  if (os_zmm) {
    f.avx512f = b & (1u << 16);
    f.avx512dq = b & (1u << 17);
    f.avx512bw = b & (1u << 30);
    f.avx512vl = b & (1u << 31);
    f.avx512vnni = c & (1u << 11);
  }
  // AMX: tile configuration and data state (XCR0 bits 17 and 18) enabled by the OS.
  if (((xcr0 >> 17) & 3) == 3) {
    f.amx_tile = d & (1u << 24);
    f.amx_int8 = d & (1u << 25);
  }
  cpuid(7, 1, a, b, c, d);
  f.avx_vnni = a & (1u << 4);
  if (!f.fma || !f.f16c) f.avx2 = false;  // nibble's AVX2 level includes FMA and F16C
  f.amd = amd;
  f.family = family;
  return f;
}
#elif defined(__aarch64__)
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // mandatory on arm64
#if defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP);
  const unsigned long hw2 = getauxval(AT_HWCAP2);
  f.dotprod = hw & HWCAP_ASIMDDP;
  f.fp16 = hw & HWCAP_FPHP;
  f.i8mm = hw2 & HWCAP2_I8MM;
#elif defined(__APPLE__)
  auto has = [](const char* name) {
    int v = 0;
    size_t n = sizeof(v);
    return sysctlbyname(name, &v, &n, nullptr, 0) == 0 && v != 0;
  };
  f.dotprod = has("hw.optional.arm.FEAT_DotProd");
  f.i8mm = has("hw.optional.arm.FEAT_I8MM");
  f.fp16 = has("hw.optional.arm.FEAT_FP16");
#endif
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

namespace {
bool request_amx() {
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__linux__)
  constexpr long kArchReqXcompPerm = 0x1023;  // ARCH_REQ_XCOMP_PERM (Linux 5.16+)
  constexpr long kXfeatureXtiledata = 18;
  const CpuFeatures& f = cpu_features();
  if (!f.amx_tile || !f.amx_int8) return false;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}
}  // namespace

bool amx_permitted() {
  static const bool ok = request_amx();
  return ok;
}

}  // namespace nibble::kernels
