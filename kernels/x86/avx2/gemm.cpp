// AVX2 prefill GEMM (kernels/x86/common/gemm_x8.h) on the x8 layouts (vpmaddubsw / vpmaddwd):
// tiles of 8 rows x 8 tokens for Q4_0, 8 x 4 for Q8_0, 8 x 3 for Q4_K (16 vector registers;
// kernels/x86/common/gemm_x8.h); ternary: 16 rows x 4 tokens over weights unpacked once per 64
// tokens (GemmT2Wide, kernels/x86/common/gemm_x8_tq.h); one token goes to the x8 GEMV on the
// same layout.
#include "kernels/x86/avx2/isa.h"
#include "kernels/x86/common/gemm_x8_tq.h"

namespace nibble::kernels::avx2 {

using Ymm = x86::GemmYmm<x86::Avx2>;
NIBBLE_X86_GEMM_ENTRY(gemm_q4_0_q8_0_8x8, x86::GemmQ4_0, Ymm)
NIBBLE_X86_GEMM_ENTRY(gemm_q8_0_q8_0_8x4, x86::GemmQ8_0, Ymm)
NIBBLE_X86_GEMM_ENTRY(gemm_q4_k_q8_k_8x3, x86::GemmQ4_K, Ymm)
// Ternary: its own driver (x86::GemmT2Wide, kernels/x86/common/gemm_x8_tq.h).
void gemm_tq2_0_q8_k_8x16(const MatmulArgs& a) {
  if (a.n_tokens == 1) return x86::matmul_x8<x86::T2x8<x86::Avx2>>(a);
  x86::GemmT2Wide<x86::Avx2>::run(a);
}
void gemm_tq1_0_q8_k_8x16(const MatmulArgs& a) { gemm_tq2_0_q8_k_8x16(a); }

}  // namespace nibble::kernels::avx2
