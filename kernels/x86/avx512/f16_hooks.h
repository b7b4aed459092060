// The F16C conversions the AVX-512 row ops (ops.cpp) and attention kernels (attn.cpp) share:
// 16 lanes, round to nearest even.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include <xsimd/xsimd.hpp>

namespace nibble::kernels::avx512 {

struct F16Hooks {
  using arch = xsimd::avx512bw;
  using F = xsimd::batch<float, arch>;
  static F load_h(const uint16_t* p) {
    return F(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
  }
  static void store_h(uint16_t* p, F v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static float h2f(uint16_t h) { return _cvtsh_ss(h); }
};

}  // namespace nibble::kernels::avx512
