// TQ1_0 on its own base-3 bytes (layout t3x16, kernels/x86/common/gemv_t3x16.h, decision 38):
// 1-4 tokens read the trits in place, more run the AVX-512 VNNI t2x8 tiles on converted rows.
#include "kernels/x86/common/gemv_t3x16.h"

namespace nibble::kernels::avx512vnni {

void gemm_tq1_0_q8_k_16x8(const MatmulArgs& a);  // gemm.cpp

void gemv_tq1_0_q8_k_t3x16(const MatmulArgs& a) { x86::matmul_t3x16<&gemm_tq1_0_q8_k_16x8>(a); }

}  // namespace nibble::kernels::avx512vnni
