// AVX-512 VNNI (512-bit vpdpbusd / vpdpwssd) matmul kernels over the GGUF row-major layout
// (no repacking): Q8_0, Q4_0, Q2_K, Q4_K, Q6_K, TQ1_0, TQ2_0. Same kernels as avx512
// (kernels/x86/common/gemv512_*.inc: layout, bounds, tails); this file supplies the VNNI dot
// products below.
// Prefill: n_tokens > 1 is blocked over 4 tokens per weight row (driver.inc).
// Reference: kernels/ref (dot_row). Integer sums are exact; results differ from the reference
// only by f32 summation order (tests: 1e-5 of the row's sum |w|.|x|).
#include <immintrin.h>

#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::avx512vnni {
namespace {

// vpdpbusd (u8 x s8, 4 products per int32 lane, no saturation in the non-"s" form) and, for
// the scaled k-quants, vpmaddubsw + vpdpwssd (int16 pairs x int16 scales into int32). Bound of
// vpdpbusd here: an int32 lane gets at most 4 products per vector of <= 128 * 127 (Q8_0 / Q4_0
// sign-folded) for one block, or 4 * 4 products of <= 2 * 127 (ternary), then goes to f32.
inline __m256i dp(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
inline __m512i dpz(__m512i acc, __m512i u, __m512i s) { return _mm512_dpbusd_epi32(acc, u, s); }
inline __m512i dpz_scaled(__m512i acc, __m512i u, __m512i s, __m512i sc) {
  return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(u, s), sc);
}
inline __m512i dpz_small(__m512i acc, __m512i u, __m512i s) {
  return _mm512_dpbusd_epi32(acc, u, s);
}
inline __m512i dpz_small_done(__m512i acc) { return acc; }

// Separate include blocks: part 1 (gemv512_q8) defines the 512-bit helpers the others use.
#include "kernels/x86/common/driver.inc"

#include "kernels/x86/common/gemv512_q8.inc"

#include "kernels/x86/common/gemv512_k.inc"
#include "kernels/x86/common/gemv512_tq.inc"

}  // namespace

void gemv_q8_0_q8_0(const MatmulArgs& a) { run_matmul<Q8_0x512>(a); }
void gemv_q4_0_q8_0(const MatmulArgs& a) { run_matmul<Q4_0x512>(a); }
void gemv_q2_k_q8_k(const MatmulArgs& a) { run_matmul<Q2_Kx512>(a); }
void gemv_q4_k_q8_k(const MatmulArgs& a) { run_matmul<Q4_Kx512>(a); }
void gemv_q6_k_q8_k(const MatmulArgs& a) { run_matmul<Q6_Kx512>(a); }
void gemv_tq1_0_q8_k(const MatmulArgs& a) { run_matmul<TQ1_0x512>(a); }
void gemv_tq2_0_q8_k(const MatmulArgs& a) { run_matmul<TQ2_0x512>(a); }

}  // namespace nibble::kernels::avx512vnni
