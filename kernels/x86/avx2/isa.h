// The AVX2 (+FMA, F16C) policy of the x86 matmul kernels (contract: kernels/x86/common/isa.h).
// Included only by this folder's units, which are compiled with -mavx2 -mfma -mf16c.
#pragma once

#include "kernels/x86/common/isa.h"

namespace nibble::kernels::x86 {
namespace {

struct Avx2 : MaddDot256, MaddX8 {
  // One accumulator chain per token (the vpaddd chains are short; 2 measured 2-4% slower).
  static constexpr int kChains = 1;
  // 3 tokens per tile (16 vector registers; 4 measured 5-27% slower at 16 tokens, register
  // pressure). The float kernels keep 4 (their own kTokenBlock).
  static constexpr int kTokenBlock = 3;
  static constexpr bool kWide256 = false;
};
static_assert(X86Isa<Avx2> && X86IsaX8<Avx2> && !X86IsaX8Dpbusd<Avx2>);

}  // namespace
}  // namespace nibble::kernels::x86
