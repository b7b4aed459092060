// AVX-512 (F/BW/DQ/VL) row-major matmul kernels (GGUF layout, no repacking): Q8_0, Q4_0, Q2_K,
// Q4_K, Q6_K, TQ1_0, TQ2_0, F16, F32, the 512-bit set (kernels/x86/common/row_major512.h: which
// width per format) on the AVX-512 policy (isa.h: vpmaddubsw + vpmaddwd, 8- and 4-token tiles).
// Reference: kernels/ref (dot_row). Integer sums are exact; results differ from the reference
// only by f32 summation order (tests: 1e-5 of the row's sum |w|.|x|).
#include "kernels/x86/avx512/isa.h"
#include "kernels/x86/common/row_major512.h"

namespace nibble::kernels::avx512 {

NIBBLE_X86_ROW_MAJOR_INT_ENTRIES(x86::RowMajor512<x86::Avx512>)
NIBBLE_X86_ROW_MAJOR_FLOAT_ENTRIES(x86::RowMajor512<x86::Avx512>)

}  // namespace nibble::kernels::avx512
