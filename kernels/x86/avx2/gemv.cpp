// AVX2 (+FMA, F16C) matmul kernels, GGUF row-major layout (no repacking), one row x one token
// per inner loop; n_tokens > 1 repeats the row loop per token (prefill through the GEMV path).
//
// Integer formats: weights unpacked to bytes, multiplied with the int8 activations by
// vpmaddubsw (unsigned x signed -> int16 pairs; sign-folded with vpsignb where the weights are
// signed), widened by vpmaddwd, then:
//   Q8_0/Q4_0 x Q8_0: int32 block sums -> float, times d_w*d_x, f32 FMA accumulation.
//     int16 pairs <= 2*127*127 = 32258 (Q8_0) so vpmaddubsw cannot saturate.
//   Q4_K x Q8_K: per 32-sub-block sums times the 6-bit scale in int32: <= 8 * 63 * 32*15*127
//     = 30.7e6 < 2^31; mins through the activation block sums.
//   Q6_K x Q8_K: q in 0..63 (offset 32 removed through the block sums), int16 pairs <= 16002,
//     scaled per 16 by int8 scales: <= 16 * 128 * 16*63*127 < 2^31.
//   TQ2_0 x Q8_K: q in 0..2 (offset 1 removed through the block sums).
// Float formats: 8-wide FMA over the row (F16 via vcvtph2ps), scalar tail.
// Reference: kernels/ref (dot_row). Integer sums are exact; results differ from the reference
// only by f32 summation order (tests: relative 1e-5 of the row's |w|.|x|).
#include <immintrin.h>

#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"
#include "kernels/ref/fp16.h"

namespace nibble::kernels::avx2 {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// Sum of signed w[i] * x[i] over 32 int8 pairs, as 8 int32 lanes.
inline __m256i dot_s8(__m256i w, __m256i x) {
  const __m256i aw = _mm256_sign_epi8(w, w);
  const __m256i sx = _mm256_sign_epi8(x, w);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sx), _mm256_set1_epi16(1));
}

// Sum of unsigned u[i] * signed x[i] as 16 int16 lanes (pairs).
inline __m256i dot_u8_16(__m256i u, __m256i x) { return _mm256_maddubs_epi16(u, x); }

inline float fp16(uint16_t h) { return fp16_to_f32(h); }

template <typename RowDot>
void for_rows(const MatmulArgs& a, RowDot dot) {
  for (int t = 0; t < a.n_tokens; ++t) {
    const uint8_t* x = static_cast<const uint8_t*>(a.x) + t * a.x_stride;
    for (int64_t r = a.row_begin; r < a.row_end; ++r) {
      const uint8_t* w = static_cast<const uint8_t*>(a.w) + r * a.w_row_bytes;
      a.y[t * a.y_stride + r] = dot(w, x, a.k);
    }
  }
}

float dot_q8_0(const uint8_t* wp, const uint8_t* xp, int64_t k) {
  const auto* w = reinterpret_cast<const BlockQ8_0*>(wp);
  const auto* x = reinterpret_cast<const BlockQ8_0*>(xp);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < k / QK; ++i) {
    const __m256i qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i].qs));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
    const __m256 d = _mm256_set1_ps(fp16(w[i].d) * fp16(x[i].d));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_s8(qw, qx)), acc);
  }
  return hsum(acc);
}

float dot_q4_0(const uint8_t* wp, const uint8_t* xp, int64_t k) {
  const auto* w = reinterpret_cast<const BlockQ4_0*>(wp);
  const auto* x = reinterpret_cast<const BlockQ8_0*>(xp);
  const __m256i low = _mm256_set1_epi8(0xF), eight = _mm256_set1_epi8(8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < k / QK; ++i) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].qs));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    const __m256i qw = _mm256_sub_epi8(_mm256_and_si256(both, low), eight);
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
    const __m256 d = _mm256_set1_ps(fp16(w[i].d) * fp16(x[i].d));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_s8(qw, qx)), acc);
  }
  return hsum(acc);
}

float dot_q4_k(const uint8_t* wp, const uint8_t* xp, int64_t k) {
  const auto* w = reinterpret_cast<const BlockQ4_K*>(wp);
  const auto* x = reinterpret_cast<const BlockQ8_K*>(xp);
  const __m256i low = _mm256_set1_epi8(0xF);
  float sum = 0;
  for (int64_t i = 0; i < k / QK_K; ++i) {
    int16_t sc[8], mn[8];
    const uint8_t* s = w[i].scales;
    for (int j = 0; j < 4; ++j) {
      sc[j] = s[j] & 63;
      mn[j] = s[j + 4] & 63;
      sc[j + 4] = static_cast<int16_t>((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
      mn[j + 4] = static_cast<int16_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
    __m256i isum = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i].qs + 32 * c));
      const __m256i lo = _mm256_and_si256(b, low);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), low);
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 64 * c));
      const __m256i x1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 64 * c + 32));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(dot_u8_16(lo, x0),
                                                      _mm256_set1_epi16(sc[2 * c])));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(dot_u8_16(hi, x1),
                                                      _mm256_set1_epi16(sc[2 * c + 1])));
    }
    int32_t mins = 0;
    for (int j = 0; j < 8; ++j) mins += mn[j] * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
    sum += fp16(w[i].d) * x[i].d * static_cast<float>(hsum_i32(isum)) -
           fp16(w[i].dmin) * x[i].d * static_cast<float>(mins);
  }
  return sum;
}

float dot_q6_k(const uint8_t* wp, const uint8_t* xp, int64_t k) {
  const auto* w = reinterpret_cast<const BlockQ6_K*>(wp);
  const auto* x = reinterpret_cast<const BlockQ8_K*>(xp);
  const __m256i low = _mm256_set1_epi8(0xF), three = _mm256_set1_epi8(3);
  float sum = 0;
  for (int64_t i = 0; i < k / QK_K; ++i) {
    __m256i isum = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w[i].ql + 64 * h;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i qh =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i].qh + 32 * h));
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(l0, low),
                             _mm256_slli_epi16(_mm256_and_si256(qh, three), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(l1, low),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), three), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), three), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), three), 4));
      const int8_t* sc = w[i].scales + 8 * h;
      for (int j = 0; j < 4; ++j) {
        const __m256i xv =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 128 * h + 32 * j));
        const __m256i scv = _mm256_set_m128i(_mm_set1_epi16(sc[2 * j + 1]), _mm_set1_epi16(sc[2 * j]));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(dot_u8_16(q[j], xv), scv));
      }
    }
    int32_t off = 0;
    for (int j = 0; j < 16; ++j) off += w[i].scales[j] * x[i].bsums[j];
    sum += fp16(w[i].d) * x[i].d * static_cast<float>(hsum_i32(isum) - 32 * off);
  }
  return sum;
}

float dot_tq2_0(const uint8_t* wp, const uint8_t* xp, int64_t k) {
  const auto* w = reinterpret_cast<const BlockTQ2_0*>(wp);
  const auto* x = reinterpret_cast<const BlockQ8_K*>(xp);
  const __m256i three = _mm256_set1_epi8(3);
  float sum = 0;
  for (int64_t i = 0; i < k / QK_K; ++i) {
    __m256i acc16 = _mm256_setzero_si256();  // int16 lanes: <= 16 * 2*2*127 = 8128
    for (int j = 0; j < 2; ++j) {
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i].qs + 32 * j));
      for (int l = 0; l < 4; ++l) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(b, 2 * l), three);
        const __m256i xv =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 128 * j + 32 * l));
        acc16 = _mm256_add_epi16(acc16, dot_u8_16(q, xv));
      }
    }
    int32_t xsum = 0;
    for (int j = 0; j < 16; ++j) xsum += x[i].bsums[j];
    const int32_t isum = hsum_i32(_mm256_madd_epi16(acc16, _mm256_set1_epi16(1)));
    sum += fp16(w[i].d) * x[i].d * static_cast<float>(isum - xsum);
  }
  return sum;
}

float dot_f16(const uint8_t* wp, const uint8_t* xp, int64_t k) {
  const auto* w = reinterpret_cast<const uint16_t*>(wp);
  const auto* x = reinterpret_cast<const float*>(xp);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    const __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    acc = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + i), acc);
  }
  float s = hsum(acc);
  for (; i < k; ++i) s += fp16(w[i]) * x[i];
  return s;
}

float dot_f32(const uint8_t* wp, const uint8_t* xp, int64_t k) {
  const auto* w = reinterpret_cast<const float*>(wp);
  const auto* x = reinterpret_cast<const float*>(xp);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc);
  float s = hsum(acc);
  for (; i < k; ++i) s += w[i] * x[i];
  return s;
}

}  // namespace

void gemv_q8_0_q8_0(const MatmulArgs& a) { for_rows(a, dot_q8_0); }
void gemv_q4_0_q8_0(const MatmulArgs& a) { for_rows(a, dot_q4_0); }
void gemv_q4_k_q8_k(const MatmulArgs& a) { for_rows(a, dot_q4_k); }
void gemv_q6_k_q8_k(const MatmulArgs& a) { for_rows(a, dot_q6_k); }
void gemv_tq2_0_q8_k(const MatmulArgs& a) { for_rows(a, dot_tq2_0); }
void gemv_f16_f32(const MatmulArgs& a) { for_rows(a, dot_f16); }
void gemv_f32_f32(const MatmulArgs& a) { for_rows(a, dot_f32); }

}  // namespace nibble::kernels::avx2
