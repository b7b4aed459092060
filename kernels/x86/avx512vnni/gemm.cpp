// AVX-512 VNNI prefill GEMM (kernels/x86/common/gemm_x8.h) on the x8 layouts: tiles of 16 rows
// (two x8 groups per zmm) x 8 tokens for Q4_0 / Q8_0, x 6 tokens for Q4_K; one token goes to
// the EVEX x8 GEMV (gemv_x8.cpp's code on the same layout).
#include "kernels/x86/avx512vnni/isa.h"
#include "kernels/x86/common/gemm_x8_tq.h"

namespace nibble::kernels::avx512vnni {

using Zmm = x86::GemmZmm<x86::Avx512Vnni>;
NIBBLE_X86_GEMM_ENTRY(gemm_q4_0_q8_0_16x8, x86::GemmQ4_0, Zmm)
NIBBLE_X86_GEMM_ENTRY(gemm_q8_0_q8_0_16x8, x86::GemmQ8_0, Zmm)
NIBBLE_X86_GEMM_ENTRY(gemm_q4_k_q8_k_16x6, x86::GemmQ4_K, Zmm)
NIBBLE_X86_GEMM_ENTRY(gemm_tq2_0_q8_k_16x8, x86::GemmT2, Zmm)
NIBBLE_X86_GEMM_ENTRY(gemm_tq1_0_q8_k_16x8, x86::GemmT2, Zmm)

}  // namespace nibble::kernels::avx512vnni
