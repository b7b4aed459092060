// Base-3 byte arithmetic on zmm, shared by the TQ1_0 kernels (gemv512_tq.h: row-major GEMV;
// gemv_t3x16.h: the t3x16 layout). Trit n of a byte q (GGUF's TQ1_0 decoder) is the top trit
// of q 3^n mod 256, i.e. floor(3 q_n / 256) = [q_n >= 86] + [q_n >= 171].
#pragma once

// avx512_warnings.h first: its pragmas must precede <immintrin.h>.
#include "kernels/x86/common/avx512_warnings.h"

#include <immintrin.h>

namespace nibble::kernels::x86 {
namespace {

// q x 3 mod 256 per byte (the next trit plane).
inline __m512i times3(__m512i q) { return _mm512_add_epi8(q, _mm512_add_epi8(q, q)); }

// Per byte: [q >= 86] and [q >= 171], whose sum is the top trit.
inline __mmask64 trit_ge1(__m512i q) { return _mm512_cmpge_epu8_mask(q, _mm512_set1_epi8(86)); }
inline __mmask64 trit_ge2(__m512i q) {
  return _mm512_cmpge_epu8_mask(q, _mm512_set1_epi8(static_cast<char>(171)));
}

// out + c x top_trit(q) per byte, as two masked adds.
inline __m512i add_top_trit(__m512i out, __m512i q, __m512i c) {
  out = _mm512_mask_add_epi8(out, trit_ge1(q), out, c);
  return _mm512_mask_add_epi8(out, trit_ge2(q), out, c);
}

}  // namespace
}  // namespace nibble::kernels::x86
