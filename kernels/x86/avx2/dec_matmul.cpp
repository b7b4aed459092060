// AVX2 instantiation of the generic decode-to-int8 matmul (kernels/simd/dec_matmul.h: layout,
// accumulation and why it cannot overflow, tails, reference and tolerance are described there)
// for Q4_1, Q5_0, Q5_1, IQ4_NL, Q3_K, Q5_K and BF16. Registered in registry_x86.inc at a low
// priority, below any hand-tuned kernel of the same format.
//
// int8 x int8 dot: vpsignb folds the weight's sign into the activation so vpmaddubsw (unsigned
// x signed) can be used: |w| <= 128 as an unsigned byte, pairs <= 2 * 128 * 127 < 2^15; then
// vpmaddwd widens to int32 (times the sub-block scales, |sc| <= 63, for the k-quants).
#include <immintrin.h>

#include "kernels/simd/dec_matmul.h"

namespace nibble::kernels::avx2 {
namespace {

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// 16 int16 lanes: pairwise sums of w[i] * x[i] over 32 bytes.
inline __m256i pairs(const int8_t* w, const int8_t* x) {
  const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  return _mm256_maddubs_epi16(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
}

struct Hooks {
  using arch = xsimd::fma3<xsimd::avx2>;
  using F = xsimd::batch<float, arch>;
  static float h2f(uint16_t h) { return _cvtsh_ss(h); }
  static int32_t dot32(const int8_t* w, const int8_t* x) {
    return hsum_i32(_mm256_madd_epi16(pairs(w, x), _mm256_set1_epi16(1)));
  }
  static int32_t dot_scaled(const int8_t* w, const int8_t* x, const int16_t* sc, int sub) {
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < QK_K / 32; ++c) {
      // sub 32: one scale for the 32 bytes; sub 16: the low 128 bits are sub-block 2c.
      const __m256i s =
          sub == 32 ? _mm256_set1_epi16(sc[c])
                    : _mm256_set_m128i(_mm_set1_epi16(sc[2 * c + 1]), _mm_set1_epi16(sc[2 * c]));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs(w + 32 * c, x + 32 * c), s));
    }
    return hsum_i32(acc);
  }
  static void lut16(const int8_t* table, const uint8_t* qs, int8_t* out) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(table));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i m = _mm_set1_epi8(0xF);
    const __m128i lo = _mm_shuffle_epi8(t, _mm_and_si128(b, m));
    const __m128i hi = _mm_shuffle_epi8(t, _mm_and_si128(_mm_srli_epi16(b, 4), m));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_set_m128i(hi, lo));
  }
  // Byte j gets byte j / 8 of qh, ORed with every bit but bit j % 8: all ones iff bit j is set.
  static void bits_to_16(const uint8_t* qh, uint8_t* out) {
    uint32_t bits;
    std::memcpy(&bits, qh, 4);
    const __m256i shuf =
        _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
    __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
    b = _mm256_or_si256(b, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    b = _mm256_and_si256(_mm256_cmpeq_epi8(b, _mm256_set1_epi8(-1)), _mm256_set1_epi8(16));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), b);
  }
  static F load_bf16(const uint16_t* p) {
    const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return F(_mm256_castsi256_ps(_mm256_slli_epi32(u, 16)));
  }
};

}  // namespace

NIBBLE_SIMD_DEC_ENTRIES(Hooks)

}  // namespace nibble::kernels::avx2
