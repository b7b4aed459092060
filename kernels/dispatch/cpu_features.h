// CPU feature detection, done once. x86: cpuid + xgetbv (the OS must save the wider
// registers); Linux/Android arm64: getauxval; Apple arm64: sysctlbyname.
#pragma once

namespace nibble::kernels {

struct CpuFeatures {
  // x86-64
  bool avx2 = false, fma = false, f16c = false, avx_vnni = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false, avx512vnni = false;
  bool amd = false;  // vendor AuthenticAMD / HygonGenuine (kernels' prefetch policy)
  // arm64
  bool neon = false, dotprod = false, i8mm = false, fp16 = false;
};

const CpuFeatures& cpu_features();

}  // namespace nibble::kernels
