// CPU feature detection, done once. x86: cpuid + xgetbv (the OS must save the wider
// registers); Linux/Android arm64: getauxval; Apple arm64: sysctlbyname.
#pragma once

namespace nibble::kernels {

struct CpuFeatures {
  // x86-64
  bool avx2 = false, fma = false, f16c = false, avx_vnni = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false, avx512vnni = false;
  // AMX-TILE and AMX-INT8 reported by cpuid with the tile state enabled in XCR0 (bits 17, 18);
  // using them also needs the OS's per-process permission (amx_permitted()).
  bool amx_tile = false, amx_int8 = false;
  bool amd = false;  // vendor AuthenticAMD / HygonGenuine (kernels' prefetch policy)
  unsigned family = 0;  // cpuid display family (base + extended; AMD Zen 4 25, Zen 5 26)
  // arm64
  bool neon = false, dotprod = false, i8mm = false, fp16 = false;
};

const CpuFeatures& cpu_features();

// Whether this process may use the AMX tile registers: on Linux the first call asks the kernel
// once for the tile data state (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)) and the
// answer is kept; false without amx_tile / amx_int8 and on every other OS (Windows and macOS
// builds keep to the AVX-512 VNNI tiles). Thread-safe.
bool amx_permitted();

}  // namespace nibble::kernels
