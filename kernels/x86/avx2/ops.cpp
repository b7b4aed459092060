// AVX2 + FMA + F16C instantiation of the xsimd row ops (kernels/simd/ops_impl.h: layout,
// accumulation, tails, reference and tolerances are described there). The hooks below are the
// only intrinsics: F16C conversions (vcvtph2ps / vcvtps2ph, round to nearest even) and the
// truncating int32 -> int8 narrowing of the activation quantizers.
#include <immintrin.h>

#include "kernels/simd/ops_impl.h"
#include "kernels/x86/avx2/f16_hooks.h"

namespace nibble::kernels::avx2 {
namespace {

struct Hooks : F16Hooks {
  static uint16_t f2h(float f) {
    return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
  }
  // Low bytes of 32 int32 at a time: mask to 0..255 so the saturating packs cannot saturate,
  // then undo the in-lane interleave of the packs.
  static void narrow_i8(const int32_t* s, int8_t* d, int n) {
    const __m256i m = _mm256_set1_epi32(0xff);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int i = 0; i < n; i += 32) {
      const auto ld = [&](int o) {
        return _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i + o)), m);
      };
      const __m256i ab = _mm256_packus_epi32(ld(0), ld(8));
      const __m256i ce = _mm256_packus_epi32(ld(16), ld(24));
      const __m256i r = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, ce), perm);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), r);
    }
  }
};

}  // namespace

extern const RowOps kRowOps = simd::make_row_ops<Hooks>(Isa::avx2, "avx2");

}  // namespace nibble::kernels::avx2
