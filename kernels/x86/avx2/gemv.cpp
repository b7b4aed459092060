// AVX2 (+FMA, F16C) row-major matmul kernels (GGUF layout, no repacking): Q8_0, Q4_0, Q2_K,
// Q4_K, Q6_K, TQ1_0, TQ2_0, F16, F32, the 256-bit set (kernels/x86/common/row_major.h: kernels,
// layout, bounds, tails) on the AVX2 policy (isa.h: vpmaddubsw + vpmaddwd, 3-token tiles).
// Reference: kernels/ref (dot_row). Integer sums are exact; results differ from the reference
// only by f32 summation order (tests: 1e-5 of the row's sum |w|.|x|).
#include "kernels/x86/avx2/isa.h"
#include "kernels/x86/common/row_major.h"

namespace nibble::kernels::avx2 {

NIBBLE_X86_ROW_MAJOR_INT_ENTRIES(x86::RowMajor256<x86::Avx2>)
NIBBLE_X86_ROW_MAJOR_FLOAT_ENTRIES(x86::RowMajor256<x86::Avx2>)

}  // namespace nibble::kernels::avx2
