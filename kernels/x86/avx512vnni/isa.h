// The AVX-512 VNNI (+F/BW/DQ/VL) policy of the x86 matmul kernels (contract:
// kernels/x86/common/isa.h): the EVEX vpdpbusd / vpdpwssd at 256 and 512 bits. Included only
// by this folder's units (the avx512 flags and -mavx512vnni).
#pragma once

// avx512_warnings.h first: its pragmas must precede <immintrin.h>.
#include "kernels/x86/common/avx512_warnings.h"
#include "kernels/x86/common/isa.h"

namespace nibble::kernels::x86 {
namespace {

struct EvexDpbusd {
  static __m256i dpbusd(__m256i a, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(a, u, s); }
  static __m256i dpwssd(__m256i a, __m256i u, __m256i s) { return _mm256_dpwssd_epi32(a, u, s); }
};

struct Avx512Vnni : VnniDot256<EvexDpbusd>, VnniDot512<>, VnniX8<EvexDpbusd> {
  // Two independent int32 chains per token for decode: vpdpbusd / vpdpwssd have a 5-cycle
  // latency (measured +3-8% GEMV for the k-quants and ternary formats with 2).
  static constexpr int kChains = 2;
  // 4 tokens per tile after the 8-token tiles (32 vector registers).
  static constexpr int kTokenBlock = 4;
  static constexpr bool kWide256 = true;  // 8-token tiles in the 256-bit Q8_0 / Q4_0 kernels
};
static_assert(X86Isa512<Avx512Vnni> && X86IsaX8Dpbusd<Avx512Vnni>);

}  // namespace
}  // namespace nibble::kernels::x86
