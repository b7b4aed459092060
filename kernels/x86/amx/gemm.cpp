// AMX prefill GEMM (kernels/x86/amx/gemm_amx.h, gemm_amx_k.h) on the x8 layouts: tiles of 16
// rows x 16 tokens for Q4_0, Q8_0 and Q4_K; one token goes to the EVEX x8 GEMV and 2-15 tokens
// to AMX tiles of n token rows (gemm_amx_small.h, decision 35). Built with the avx512vnni
// flags plus -mamx-tile -mamx-int8; dispatched only where isa_supported(Isa::amx) (decision 30).
#include "kernels/x86/avx512vnni/isa.h"
#include "kernels/x86/amx/gemm_amx.h"
#include "kernels/x86/amx/gemm_amx_k.h"
#include "kernels/x86/amx/gemm_amx_small.h"

namespace nibble::kernels::amx {

NIBBLE_X86_AMX_SMALL_ENTRY(gemm_q4_0_q8_0_16x16, AmxQ8<x86::AmxQ4_0>, AmxSmallQ8<x86::AmxQ4_0>)
NIBBLE_X86_AMX_SMALL_ENTRY(gemm_q8_0_q8_0_16x16, AmxQ8<x86::AmxQ8_0>, AmxSmallQ8<x86::AmxQ8_0>)
NIBBLE_X86_AMX_SMALL_ENTRY(gemm_q4_k_q8_k_16x16, AmxQ4_K, AmxSmallQ4_K)

}  // namespace nibble::kernels::amx
