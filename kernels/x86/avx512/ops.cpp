// AVX-512 (F/BW/DQ/VL) instantiation of the xsimd row ops (kernels/simd/ops_impl.h: layout,
// accumulation, tails, reference and tolerances are described there): 16 lanes, F16C-style
// conversions on zmm (vcvtph2ps / vcvtps2ph) and vpmovdb for the truncating int32 -> int8
// narrowing of the activation quantizers.
// GCC 12 warns about _mm512_undefined_*() inside its own intrinsic headers (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "kernels/simd/ops_impl.h"
#include "kernels/x86/avx512/f16_hooks.h"

namespace nibble::kernels::avx512 {
namespace {

struct Hooks : F16Hooks {
  static uint16_t f2h(float f) {
    return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
  }
  static void narrow_i8(const int32_t* s, int8_t* d, int n) {
    for (int i = 0; i < n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i),
                       _mm512_cvtepi32_epi8(_mm512_loadu_si512(s + i)));
  }
};

}  // namespace

extern const RowOps kRowOps = simd::make_row_ops<Hooks>(Isa::avx512, "avx512");

}  // namespace nibble::kernels::avx512
