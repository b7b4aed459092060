// AVX2 8-row interleaved matmul kernels (layouts q4_0_x8, q8_0_x8, q4_k_x8, q2_k_x8, t2x8:
// kernels/x86/common/gemv_x8.h describes layouts, blocking, bounds and tails) on the AVX2
// policy (kernels/x86/avx2/isa.h: vpmaddubsw into int16, sign-folded Q8_0).
#include "kernels/x86/common/gemv_x8.h"
#include "kernels/x86/avx2/isa.h"

namespace nibble::kernels::avx2 {

NIBBLE_X86_X8_ENTRIES(x86::Avx2)

}  // namespace nibble::kernels::avx2
