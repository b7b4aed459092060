// The attention hooks (kernels/simd/attn_impl.h) of the two 512-bit tables: avx512 (F/BW/DQ/VL)
// and avx512vnni, which differ only in the q8_0 K dot product (decision 61). In an anonymous
// namespace: each table's folder compiles its own copy with its own flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx512/f16_hooks.h"

namespace nibble::kernels::x86 {
namespace {

template <bool kVnni>
struct Attn512Hooks : avx512::F16Hooks {
  static constexpr int kGroups = 4;  // 4 x 4 accumulators of 16 positions (scores), 4 x 4 outputs
  static constexpr int kQ8Groups = 2;  // q8_0 K: 4 x 2 dot products, one 32-position K group
  using I = __m512i;
  static F load_i8(const int8_t* p) {
    return F(_mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
  }
  // VNNI: vpdpbusd takes K as unsigned bytes, k + 128 (the sign bit flipped), so a block's sums
  // start at -128 x (sum of q) and end at the signed dot product. Without VNNI: |q| x (k with
  // q's sign) through vpmaddubsw (pairs at most 2 x 127 x 128, no saturation) and vpmaddwd.
  static I q8_start(int32_t qsum) {
    return kVnni ? _mm512_set1_epi32(-128 * qsum) : _mm512_setzero_si512();
  }
  static I q8_load(const uint8_t* p) {
    const I k = _mm512_loadu_si512(p);
    return kVnni ? _mm512_xor_si512(k, _mm512_set1_epi8(static_cast<char>(0x80))) : k;
  }
  static I q8_dot(I acc, I k, int32_t q4) {
    const I qb = _mm512_set1_epi32(q4);
#if defined(__AVX512VNNI__)
    if constexpr (kVnni) return _mm512_dpbusd_epi32(acc, k, qb);
#endif
    const I ks = _mm512_mask_sub_epi8(k, _mm512_movepi8_mask(qb), _mm512_setzero_si512(), k);
    const I p = _mm512_maddubs_epi16(_mm512_abs_epi8(qb), ks);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(p, _mm512_set1_epi16(1)));
  }
  static F q8_f32(I x) { return F(_mm512_cvtepi32_ps(x)); }
  // e * 2^k in the lanes of keep, 0 elsewhere (k integral): vscalefps under a zero mask.
  static F exp_scale(F e, F k, xsimd::batch_bool<float, arch> keep) {
    return F(_mm512_maskz_scalef_ps(static_cast<__mmask16>(keep), e, k));
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
