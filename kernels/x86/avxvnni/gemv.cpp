// AVX-VNNI (VEX vpdpbusd / vpdpwssd, 256-bit) matmul kernels over the GGUF row-major layout
// (no repacking): Q8_0, Q4_0, Q2_K, Q4_K, Q6_K, TQ1_0, TQ2_0 (F16/F32: avx2). Same kernels as avx2
// (kernels/x86/common/gemv256_*.inc: layout, bounds, tails); its integer dot products are
// the VNNI form of kernels/x86/common/hooks.inc. vpdpbusd (u8 x s8, 4 products per int32 lane, no saturation:
// the non-"s" form) replaces vpmaddubsw + vpmaddwd for Q8_0 / Q4_0 (one block per int32 sum:
// <= 4 * 128 * 127 < 2^16) and the ternary formats (8 vectors per block: <= 8 * 4 * 2 * 127
// < 2^13). The k-quants keep vpmaddubsw for the int16 pairs (bounds in gemv256_k.inc) and
// multiply them by the scales with vpdpwssd, which accumulates into int32 (< 2^31, same file).
// Prefill: n_tokens > 1 is blocked over 4 tokens per weight row (driver.inc).
// Reference: kernels/ref (dot_row). Integer sums are exact; results differ from the reference
// only by f32 summation order (tests: 1e-5 of the row's sum |w|.|x|).
#include <immintrin.h>

#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::avxvnni {
namespace {

#include "kernels/x86/common/hooks.inc"

// Independent int32 accumulator chains per token for decode: vpdpbusd / vpdpwssd have a
// 5-cycle latency (measured +3-8% GEMV for the k-quants and ternary formats with 2).
inline constexpr int kChains = 2;

// Token block of the 256-bit integer kernels: 3 (16 vector registers; 4 measured 5-27% slower
// at 16 tokens, register pressure). The float kernels keep 4.
inline constexpr int kTokenBlock = 3;
inline constexpr bool kWide256 = false;  // 8-token blocks in 256-bit Q8_0/Q4_0

#include "kernels/x86/common/driver.inc"
#include "kernels/x86/common/gemv256_k.inc"
#include "kernels/x86/common/gemv256_q8.inc"
#include "kernels/x86/common/gemv256_tq.inc"

}  // namespace

void gemv_q8_0_q8_0(const MatmulArgs& a) { run_matmul_q8_0<Q8_0x256>(a); }
void gemv_q4_0_q8_0(const MatmulArgs& a) { run_matmul_q8_0<Q4_0x256>(a); }
void gemv_q2_k_q8_k(const MatmulArgs& a) { run_matmul<Q2_Kx256>(a); }
void gemv_q4_k_q8_k(const MatmulArgs& a) { run_matmul<Q4_Kx256>(a); }
void gemv_q6_k_q8_k(const MatmulArgs& a) { run_matmul<Q6_Kx256>(a); }
void gemv_tq1_0_q8_k(const MatmulArgs& a) { run_matmul<TQ1_0x256>(a); }
void gemv_tq2_0_q8_k(const MatmulArgs& a) { run_matmul<TQ2_0x256>(a); }

}  // namespace nibble::kernels::avxvnni
