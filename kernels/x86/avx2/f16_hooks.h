// The F16C conversions the AVX2 row ops (ops.cpp) and attention kernels (attn.cpp) share:
// vcvtph2ps / vcvtps2ph, round to nearest even.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include <xsimd/xsimd.hpp>

namespace nibble::kernels::avx2 {

struct F16Hooks {
  using arch = xsimd::fma3<xsimd::avx2>;
  using F = xsimd::batch<float, arch>;
  static F load_h(const uint16_t* p) {
    return F(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static void store_h(uint16_t* p, F v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static float h2f(uint16_t h) { return _cvtsh_ss(h); }
};

}  // namespace nibble::kernels::avx2
