// AVX-512 VNNI 8-row interleaved matmul kernels (kernels/x86/common/gemv_x8.h) on the AVX-512
// VNNI policy (kernels/x86/avx512vnni/isa.h: EVEX vpdpbusd, 256 bits): CPUs with AVX-512 VNNI
// but no AVX-VNNI (Zen 4, Ice Lake, Cascade Lake) get vpdpbusd here.
// avx512_warnings.h first: its pragmas must precede <immintrin.h> (the zmm pair forms).
#include "kernels/x86/common/avx512_warnings.h"
#include "kernels/x86/common/gemv_x8.h"
#include "kernels/x86/avx512vnni/isa.h"

namespace nibble::kernels::avx512vnni {

NIBBLE_X86_X8_ENTRIES(x86::Avx512Vnni)

}  // namespace nibble::kernels::avx512vnni
