// arm64 dotprod (ARMv8.2 SDOT, vdotq_s32) integer GEMV kernels. GGUF row-major layout (no
// repacking); each decoded weight block feeds up to 4 tokens (kernels/arm/gemv.h), any row
// range, any token count.
//
// Weights are decoded to signed int8 exactly as the reference's IntBlock::q
// (kernels/arm/decode.h) and multiplied with the int8 activations by SDOT: 4 products per
// int32 lane, no int16 intermediate, so no saturation for any int8 input.
// Accumulation bounds (|x| <= 128; int32 per (row, token)):
//   Q8_0 x Q8_0   32 * 128 * 128 = 2^19 per block, then f32.
//   Q4_0 x Q8_0   32 * 8 * 128 per block, then f32; likewise Q5_0 (|q| <= 16), IQ4_NL (127),
//                 and Q4_1 / Q5_1 x Q8_1 (q <= 15 / 31; m_w * s_x added in f32).
//   Q4_K x Q8_K   per 16: 16 * 15 * 128 = 30720, x scale <= 63, x 16 = 31.0e6 < 2^31;
//                 mins 16 * 63 * 2048 = 2.1e6.
//   Q6_K x Q8_K   per 16: 16 * 32 * 128 = 65536, x |scale| <= 128, x 16 = 134e6 < 2^31.
//   Q5_K x Q8_K   per 16: 16 * 31 * 128 = 63488, x scale <= 63, x 16 = 64.0e6 < 2^31.
//   Q2_K x Q8_K   per 16: 16 * 3 * 128, x scale <= 15, x 16 = 1.5e6; mins 16 * 15 * 2048.
//   Q3_K x Q8_K   per 16: 16 * 4 * 128, x |scale| <= 32, x 16 = 4.2e6.
//   TQ2_0 x Q8_K  256 * 2 * 128 = 65536 (q - 1 in -1..2).
//   TQ1_0 x Q8_K  256 * 1 * 128 = 32768 (trits -1..1).
// Float: block results scaled by d_w * d_x (and dmin_w * d_x for the mins) and summed in f32.
// Reference: kernels/ref dot_row; integer sums exact, results differ only by f32 summation
// order (tests/kernels/conformance_test.cpp: 1e-5 of the row's sum |w| * |x|).
#include "kernels/arm/gemv.h"
#include "kernels/arm/dotprod/isa.h"

namespace nibble::kernels::dotprod {

NIBBLE_ARM_GEMV_ENTRIES(arm::Dotprod)

}  // namespace nibble::kernels::dotprod
