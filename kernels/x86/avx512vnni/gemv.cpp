// AVX-512 VNNI (+F/BW/DQ/VL) matmul kernels over the GGUF row-major layout (no repacking):
// Q8_0, Q4_0, Q2_K, Q4_K, Q6_K, TQ1_0, TQ2_0 (F16/F32: the avx512 ones). Each variant runs
// whichever width measured faster on Sapphire Rapids (docs/kernels-x86.md), per format and per
// decode / prefill:
//   512-bit (gemv512_*.inc): Q6_K always; Q2_K, Q4_K, TQ1_0, TQ2_0 for prefill;
//   256-bit (gemv256_*.inc, EVEX-encoded here): Q8_0, Q4_0 always; Q2_K, Q4_K, TQ1_0, TQ2_0
//   for decode.
// Layout, bounds and tails are described in those files; the integer dot products
// are the EVEX VNNI form of kernels/x86/common/hooks.inc (256 and 512 bits).
// Prefill: n_tokens > 1 is blocked over 4 tokens (8 in the 512-bit k-quant / ternary kernels)
// per weight row (driver.inc).
// Reference: kernels/ref (dot_row). Integer sums are exact; results differ from the reference
// only by f32 summation order (tests: 1e-5 of the row's sum |w|.|x|).
// GCC 12's AVX-512 intrinsic headers initialise their "undefined" vectors from themselves
// (__Y = __Y), which -Wuninitialized reports at every inlined use: a false positive of the
// headers, silenced for this file (the pragmas must precede the include).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::avx512vnni {
namespace {

#include "kernels/x86/common/hooks.inc"

// Independent int32 accumulator chains per token for decode: vpdpbusd / vpdpwssd have a
// 5-cycle latency (measured +3-8% GEMV for the k-quants and ternary formats with 2).
inline constexpr int kChains = 2;

// Token block (after the 8-token blocks, see kWide256 / kWideTokenBlock).
inline constexpr int kTokenBlock = 4;
inline constexpr bool kWide256 = true;  // 8-token blocks in 256-bit Q8_0/Q4_0

#include "kernels/x86/common/driver.inc"
#include "kernels/x86/common/gemv256_k.inc"
#include "kernels/x86/common/gemv256_q8.inc"
#include "kernels/x86/common/gemv256_tq.inc"
#include "kernels/x86/common/gemv512_base.inc"
#include "kernels/x86/common/gemv512_k.inc"
#include "kernels/x86/common/gemv512_tq.inc"

}  // namespace

void gemv_q8_0_q8_0(const MatmulArgs& a) { run_matmul_q8_0<Q8_0x256>(a); }
void gemv_q4_0_q8_0(const MatmulArgs& a) { run_matmul_q8_0<Q4_0x256>(a); }
void gemv_q2_k_q8_k(const MatmulArgs& a) { run_decode_prefill<Q2_Kx256, Q2_Kx512>(a); }
void gemv_q4_k_q8_k(const MatmulArgs& a) { run_decode_prefill<Q4_Kx256, Q4_Kx512>(a); }
void gemv_q6_k_q8_k(const MatmulArgs& a) { run_matmul<Q6_Kx512>(a); }
void gemv_tq1_0_q8_k(const MatmulArgs& a) { run_decode_prefill<TQ1_0x256, TQ1_0x512>(a); }
void gemv_tq2_0_q8_k(const MatmulArgs& a) { run_decode_prefill<TQ2_0x256, TQ2_0x512>(a); }

}  // namespace nibble::kernels::avx512vnni
