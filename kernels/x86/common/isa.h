// The contract between the x86 matmul kernels (kernels/x86/common/*.h, templates) and the
// per-ISA policy types they are instantiated with (kernels/x86/<isa>/isa.h), stated as C++20
// concepts, plus the integer dot-product forms those policies are assembled from.
//
// Linkage: everything in the x86 kernel headers sits in an anonymous namespace, and every
// policy type too. Each ISA folder's translation units are compiled with that ISA's -m flags
// (kernels/CMakeLists.txt); an inline function or template instantiation with external linkage
// compiled in two of them (say, with and without -mavx512f) could be merged by the linker into
// the copy with the wider instructions and run on a CPU without them. Internal linkage keeps
// every copy in the unit (and ISA) that compiled it.
//
// Integer dot-product forms (bounds: the kernel headers):
//   MaddDot256 (avx2, avx512): vpmaddubsw (u8 x s8 -> int16 pairs) + vpmaddwd by 1 or by the
//     int16 sub-block scales; dp_small accumulates in int16 lanes (ternary only; bound in
//     gemv256_tq.h) and dp_small_done widens them.
//   VnniDot256<Raw> (avxvnni: VEX, avx512vnni: EVEX): vpdpbusd (u8 x s8, 4 products per int32
//     lane, no saturation in the non-"s" form) and, for the scaled k-quants, vpmaddubsw +
//     vpdpwssd (int16 pairs x int16 scales into int32). Bound of vpdpbusd here: an int32 lane
//     gets at most 4 products per vector of <= 128 * 127 (Q8_0 / Q4_0 sign-folded) within one
//     block before going to f32 (< 2^17), or 8 * 4 products of <= 2 * 127 (ternary: < 2^13).
//   MaddDot512 / VnniDot512: the same at 512 bits (avx512 / avx512vnni).
//   MaddX8 / VnniX8<Raw>: the hooks of the 8-row interleaved kernels (gemv_x8.h).
#pragma once

#include <immintrin.h>

#include <concepts>
#include <cstdint>

namespace nibble::kernels::x86 {
namespace {

// --- the contracts -----------------------------------------------------------------------------

// The requirements below call these to check that a hook returns that vector type
// (std::same_as<__m256i> would drop the type's vector attribute: -Wignored-attributes).
inline void is_ymm(__m256i) {}
inline void is_zmm(__m512i) {}

// Every x86 policy: 256-bit integer dot products and the blocking constants.
//   dp(acc, u, s)              acc + sum of 4 (u8 x s8) per int32 lane (exact as long as each
//                              pair of u*s fits int16: bounds in gemv256_q8.h)
//   dp_scaled(acc, u, s, sc)   acc + sum over int16 pairs of (u*s + u*s) * sc (sc: int16 lanes)
//   dp_small(acc, u, s)        accumulate small products (int16 or int32 lanes, policy's choice)
//   dp_small_done(acc)         int32 lanes of what dp_small accumulated
//   kChains      independent int32 accumulator chains per token for 1-2 tokens (4 at 512 bits)
//   kTokenBlock  tokens per tile of the row-major kernels after the 8-token tiles
//   kWide256     8-token tiles in the 256-bit Q8_0 / Q4_0 kernels (32 vector registers)
template <class P>
concept X86Isa = requires(__m256i v) {
  is_ymm(P::dp(v, v, v));
  is_ymm(P::dp_scaled(v, v, v, v));
  is_ymm(P::dp_small(v, v, v));
  is_ymm(P::dp_small_done(v));
  requires std::same_as<decltype(P::kChains), const int> && P::kChains >= 1;
  requires std::same_as<decltype(P::kTokenBlock), const int> && P::kTokenBlock >= 1 &&
      P::kTokenBlock <= 4;
  requires std::same_as<decltype(P::kWide256), const bool>;
};

// Policies that run the 512-bit kernels (gemv512_*.h): the zmm forms of the hooks above.
template <class P>
concept X86Isa512 = X86Isa<P> && requires(__m512i z) {
  is_zmm(P::dpz_scaled(z, z, z, z));
  is_zmm(P::dpz_small(z, z, z));
  is_zmm(P::dpz_small_done(z));
};

// Policies that run the 8-row interleaved kernels (gemv_x8.h):
//   x8_mac(acc, lo, hi, x_lo, x_hi)  Q4_0-style nibbles (u8, one row per int32 lane) times the
//                                    broadcast activations (s8) into the policy's accumulator
//   x8_isum(acc)                     that accumulator as one int32 sum per row
//   x8_add(a, b)                     the sum of two x8_mac accumulators
//   x8_scale(isum, acc, sc)          isum + the x8_mac accumulator times the rows' 8 scale bytes
//   Q8x8W, q8x8_prep(w)              Q8_0: the int8 weights (4 elements x 8 rows) prepared once
//                                    for all tokens
//   q8x8_mac(acc, w, x)              acc + the int32 sum per row of its 4 products with x
//   kQ8x8Offset                      what q8x8_prep adds to every weight (0 or 128), taken off
//                                    with the activation block sums
// Optional: x8_dpbusd(acc, u, x), a plain vpdpbusd; where present the ternary kernel uses its
// in-place bit-pair form (X86IsaX8Dpbusd).
template <class P>
concept X86IsaX8 = requires(__m256i v, __m128i s) {
  typename P::Q8x8W;
  is_ymm(P::x8_mac(v, v, v, v, v));
  is_ymm(P::x8_isum(v));
  is_ymm(P::x8_add(v, v));
  is_ymm(P::x8_scale(v, v, s));
  { P::q8x8_prep(v) } -> std::same_as<typename P::Q8x8W>;
  is_ymm(P::q8x8_mac(v, P::q8x8_prep(v), v));
  requires std::same_as<decltype(P::kQ8x8Offset), const int32_t>;
};
template <class P>
concept X86IsaX8Dpbusd = X86IsaX8<P> && requires(__m256i v) {
  is_ymm(P::x8_dpbusd(v, v, v));
};

// --- the dot-product forms -----------------------------------------------------------------------

struct MaddDot256 {
  static __m256i dp(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc,
                            _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
  }
  static __m256i dp_scaled(__m256i acc, __m256i u, __m256i s, __m256i sc) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), sc));
  }
  static __m256i dp_small(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi16(acc, _mm256_maddubs_epi16(u, s));
  }
  static __m256i dp_small_done(__m256i acc) { return _mm256_madd_epi16(acc, _mm256_set1_epi16(1)); }
};

// Raw: static dpbusd(acc, u, s) and dpwssd(acc, u, s) at 256 bits (VEX or EVEX encoding).
template <class Raw>
struct VnniDot256 {
  static __m256i dp(__m256i acc, __m256i u, __m256i s) { return Raw::dpbusd(acc, u, s); }
  static __m256i dp_scaled(__m256i acc, __m256i u, __m256i s, __m256i sc) {
    return Raw::dpwssd(acc, _mm256_maddubs_epi16(u, s), sc);
  }
  static __m256i dp_small(__m256i acc, __m256i u, __m256i s) { return Raw::dpbusd(acc, u, s); }
  static __m256i dp_small_done(__m256i acc) { return acc; }
};

// Templates (the default argument is never changed) so that a unit compiled without AVX-512
// never compiles their bodies.
template <class = void>
struct MaddDot512 {
  static __m512i dpz_scaled(__m512i acc, __m512i u, __m512i s, __m512i sc) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), sc));
  }
  static __m512i dpz_small(__m512i acc, __m512i u, __m512i s) {
    return _mm512_add_epi16(acc, _mm512_maddubs_epi16(u, s));
  }
  static __m512i dpz_small_done(__m512i acc) {
    return _mm512_madd_epi16(acc, _mm512_set1_epi16(1));
  }
};
template <class = void>
struct VnniDot512 {
  static __m512i dpz_scaled(__m512i acc, __m512i u, __m512i s, __m512i sc) {
    return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(u, s), sc);
  }
  static __m512i dpz_small(__m512i acc, __m512i u, __m512i s) {
    return _mm512_dpbusd_epi32(acc, u, s);
  }
  static __m512i dpz_small_done(__m512i acc) { return acc; }
};

// 8-row interleaved hooks without VNNI. Q4_0: int16 pair sums (vpmaddubsw, |.| <= 30720 per
// block: gemv_x8.h), widened per block. Q8_0: signed x signed by sign folding, as the plain
// Q8_0 kernel: |w| (u8, <= 128) times x with w's sign (|x| <= 127: the Q8 activation quantizer
// never produces -128), int16 pairs <= 2 x 128 x 127 = 32512 (no vpmaddubsw saturation),
// vpmaddwd to int32 at once (two pairs could overflow int16). No weight offset.
struct MaddX8 {
  static __m256i x8_mac(__m256i acc, __m256i lo, __m256i hi, __m256i x_lo, __m256i x_hi) {
    return _mm256_add_epi16(
        acc, _mm256_add_epi16(_mm256_maddubs_epi16(lo, x_lo), _mm256_maddubs_epi16(hi, x_hi)));
  }
  static __m256i x8_isum(__m256i acc) { return _mm256_madd_epi16(acc, _mm256_set1_epi16(1)); }
  static __m256i x8_add(__m256i a, __m256i b) { return _mm256_add_epi16(a, b); }
  // Q4_K: the int16 pairs times the row's scale (both halves of the row's lane) by vpmaddwd.
  // Scale byte r goes to both int16 halves of lane r by one vpshufb of the 8 bytes broadcast
  // to both 128-bit lanes (from memory the broadcast is a load, no shuffle port): one shuffle
  // per sub-block instead of two (vpunpcklbw + vpmovzxbw).
  static __m256i x8_scale(__m256i isum, __m256i acc, __m128i sc) {
    const __m256i ctl = _mm256_setr_epi8(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1,
                                         4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1);
    const __m256i s16 = _mm256_shuffle_epi8(_mm256_broadcastq_epi64(sc), ctl);
    return _mm256_add_epi32(isum, _mm256_madd_epi16(acc, s16));
  }
  struct Q8x8W {
    __m256i abs, sign;
  };
  static constexpr int32_t kQ8x8Offset = 0;
  static Q8x8W q8x8_prep(__m256i w) { return {_mm256_sign_epi8(w, w), w}; }
  static __m256i q8x8_mac(__m256i acc, const Q8x8W& w, __m256i x) {
    const __m256i p = _mm256_maddubs_epi16(w.abs, _mm256_sign_epi8(x, w.sign));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
  }
};

// 8-row interleaved hooks with vpdpbusd (Raw as for VnniDot256): straight into int32 per row.
// Q8_0: vpdpbusd of (w + 128) (u8, 0..255) with x (s8): per block and row |sum| <= 32 x 255 x
// 128 < 2^21; the offset comes off as 128 x (sum x) per block.
template <class Raw>
struct VnniX8 {
  static __m256i x8_dpbusd(__m256i a, __m256i u, __m256i s) { return Raw::dpbusd(a, u, s); }
  static __m256i x8_mac(__m256i acc, __m256i lo, __m256i hi, __m256i x_lo, __m256i x_hi) {
    return Raw::dpbusd(Raw::dpbusd(acc, lo, x_lo), hi, x_hi);
  }
  static __m256i x8_isum(__m256i acc) { return acc; }
  static __m256i x8_add(__m256i a, __m256i b) { return _mm256_add_epi32(a, b); }
  // Q4_K: the int32 row sums times the row's scale (vpmulld).
  static __m256i x8_scale(__m256i isum, __m256i acc, __m128i sc) {
    return _mm256_add_epi32(isum, _mm256_mullo_epi32(acc, _mm256_cvtepu8_epi32(sc)));
  }
  struct Q8x8W {
    __m256i u;
  };
  static constexpr int32_t kQ8x8Offset = 128;
  static Q8x8W q8x8_prep(__m256i w) { return {_mm256_xor_si256(w, _mm256_set1_epi8(-128))}; }
  static __m256i q8x8_mac(__m256i acc, const Q8x8W& w, __m256i x) {
    return Raw::dpbusd(acc, w.u, x);
  }
};

}  // namespace
}  // namespace nibble::kernels::x86
