// AVX-VNNI 8-row interleaved matmul kernels (kernels/x86/common/gemv_x8.h) on the AVX-VNNI
// policy (kernels/x86/avxvnni/isa.h: VEX vpdpbusd straight into int32 per row, no int16 step
// and no saturation).
#include "kernels/x86/common/gemv_x8.h"
#include "kernels/x86/avxvnni/isa.h"

namespace nibble::kernels::avxvnni {

NIBBLE_X86_X8_ENTRIES(x86::AvxVnni)

}  // namespace nibble::kernels::avxvnni
