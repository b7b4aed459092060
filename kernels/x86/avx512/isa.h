// The AVX-512 (F/BW/DQ/VL) policy of the x86 matmul kernels (contract:
// kernels/x86/common/isa.h): the vpmaddubsw + vpmaddwd forms at 256 (EVEX-encoded) and 512
// bits. Included only by this folder's units (-mavx512f -mavx512bw -mavx512dq -mavx512vl).
#pragma once

// avx512_warnings.h first: its pragmas must precede <immintrin.h>.
#include "kernels/x86/common/avx512_warnings.h"
#include "kernels/x86/common/isa.h"

namespace nibble::kernels::x86 {
namespace {

struct Avx512 : MaddDot256, MaddDot512<> {
  // One accumulator chain per token (the vpaddd chains are short; 2 measured 2-4% slower).
  static constexpr int kChains = 1;
  // 4 tokens per tile after the 8-token tiles (32 vector registers).
  static constexpr int kTokenBlock = 4;
  static constexpr bool kWide256 = true;  // 8-token tiles in the 256-bit Q8_0 / Q4_0 kernels
};
static_assert(X86Isa512<Avx512>);

}  // namespace
}  // namespace nibble::kernels::x86
