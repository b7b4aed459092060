// The AVX-VNNI policy of the x86 matmul kernels (contract: kernels/x86/common/isa.h): the VEX
// vpdpbusd / vpdpwssd, 256 bits. Included only by this folder's units (-mavxvnni).
#pragma once

#include "kernels/x86/common/isa.h"

namespace nibble::kernels::x86 {
namespace {

struct VexDpbusd {
  static __m256i dpbusd(__m256i a, __m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(a, u, s);
  }
  static __m256i dpwssd(__m256i a, __m256i u, __m256i s) {
    return _mm256_dpwssd_avx_epi32(a, u, s);
  }
};

struct AvxVnni : VnniDot256<VexDpbusd>, VnniX8<VexDpbusd> {
  // Two independent int32 chains per token for decode: vpdpbusd / vpdpwssd have a 5-cycle
  // latency (measured +3-8% GEMV for the k-quants and ternary formats with 2).
  static constexpr int kChains = 2;
  // 3 tokens per tile (16 vector registers, as AVX2).
  static constexpr int kTokenBlock = 3;
  static constexpr bool kWide256 = false;
};
static_assert(X86Isa<AvxVnni> && X86IsaX8Dpbusd<AvxVnni>);

}  // namespace
}  // namespace nibble::kernels::x86
