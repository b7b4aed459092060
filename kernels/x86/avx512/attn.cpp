// AVX-512 (F/BW/DQ/VL) instantiation of the attention block kernel
// (kernels/simd/attn_impl.h): 16 lanes; hooks are the 512-bit F16C conversions and the exact
// int8 -> f32 widening of q8_0 values (vpmovsxbd + vcvtdq2ps).
#include "kernels/x86/common/avx512_warnings.h"  // first: GCC 12 intrinsics false positive

#include <immintrin.h>

#include "kernels/simd/attn_impl.h"
#include "kernels/x86/avx512/f16_hooks.h"

namespace nibble::kernels::avx512 {
namespace {

struct AttnHooks : F16Hooks {
  static constexpr int kGroups = 4;  // 4 x 4 accumulators of 16 positions (scores), 4 x 4 outputs
  static F load_i8(const int8_t* p) {
    return F(_mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
  }
};

}  // namespace

extern const AttnOps kAttnOps = simd::make_attn_ops<AttnHooks>(Isa::avx512, "avx512");

}  // namespace nibble::kernels::avx512
