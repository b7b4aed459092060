// AVX-512 VNNI (EVEX-encoded, 256-bit) copies of the AVX-VNNI 8-row interleaved Q4_0 and Q8_0
// kernels (kernels/x86/avxvnni/gemv_x8.cpp, layouts and bounds in kernels/x86/avx2/gemv_x8.cpp):
// CPUs with AVX-512 VNNI but no AVX-VNNI (Zen 4, Ice Lake, Cascade Lake) get vpdpbusd here.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::avx512vnni {
#include "kernels/x86/common/gemv_x8_vnni.inc"

#include "kernels/x86/common/gemv_x8.inc"

}  // namespace nibble::kernels::avx512vnni
