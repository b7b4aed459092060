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
