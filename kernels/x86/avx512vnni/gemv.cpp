// AVX-512 VNNI row-major matmul kernels (GGUF layout, no repacking): Q8_0, Q4_0, Q2_K, Q4_K,
// Q6_K, TQ1_0, TQ2_0 (F16/F32: avx512), the 512-bit set (kernels/x86/common/row_major512.h) on
// the AVX-512 VNNI policy (isa.h: EVEX vpdpbusd / vpdpwssd, two accumulator chains).
// Reference: kernels/ref (dot_row). Integer sums are exact; results differ from the reference
// only by f32 summation order (tests: 1e-5 of the row's sum |w|.|x|).
#include "kernels/x86/avx512vnni/isa.h"
#include "kernels/x86/common/row_major512.h"

namespace nibble::kernels::avx512vnni {

NIBBLE_X86_ROW_MAJOR_INT_ENTRIES(x86::RowMajor512<x86::Avx512Vnni>)

}  // namespace nibble::kernels::avx512vnni
