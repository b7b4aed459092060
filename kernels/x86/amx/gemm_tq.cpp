// AMX prefill GEMM for TQ2_0 and TQ1_0 on the t2x8 layout (kernels/x86/amx/gemm_amx_tq.h): tiles
// of 16 rows x 16 tokens; one token goes to the EVEX t2x8 GEMV (decode unchanged). Built with the
// avx512vnni flags plus -mamx-tile -mamx-int8; dispatched only where isa_supported(Isa::amx)
// (decisions 30, 34).
#include "kernels/x86/avx512vnni/isa.h"
#include "kernels/x86/amx/gemm_amx_tq.h"

namespace nibble::kernels::amx {

// TQ2_0 and TQ1_0 share the layout (TQ1_0's trits unpacked to 2-bit codes at load).
NIBBLE_X86_AMX_TQ_ENTRY(gemm_tq2_0_q8_k_16x16)
NIBBLE_X86_AMX_TQ_ENTRY(gemm_tq1_0_q8_k_16x16)

}  // namespace nibble::kernels::amx

// TQ1_0 on its own base-3 bytes (layout t3x16, decision 38): 1-4 tokens read the trits in place
// (AVX-512 VNNI), more run the AMX tiles above on rows converted to t2x8.
#include "kernels/x86/common/gemv_t3x16.h"

namespace nibble::kernels::amx {

void gemm_tq1_0_q8_k_t3x16(const MatmulArgs& a) { x86::matmul_t3x16<&gemm_tq1_0_q8_k_16x16>(a); }

}  // namespace nibble::kernels::amx
