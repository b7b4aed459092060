// AVX-VNNI row-major matmul kernels (GGUF layout, no repacking): Q8_0, Q4_0, Q2_K, Q4_K, Q6_K,
// TQ1_0, TQ2_0 (F16/F32: avx2), the 256-bit set (kernels/x86/common/row_major.h) on the
// AVX-VNNI policy (isa.h: VEX vpdpbusd / vpdpwssd, two accumulator chains, 3-token tiles).
// Reference: kernels/ref (dot_row). Integer sums are exact; results differ from the reference
// only by f32 summation order (tests: 1e-5 of the row's sum |w|.|x|).
#include "kernels/x86/avxvnni/isa.h"
#include "kernels/x86/common/row_major.h"

namespace nibble::kernels::avxvnni {

NIBBLE_X86_ROW_MAJOR_INT_ENTRIES(x86::RowMajor256<x86::AvxVnni>)

}  // namespace nibble::kernels::avxvnni
