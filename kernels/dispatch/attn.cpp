// The attention tables compiled into this binary (kernels/attention.h): the scalar reference,
// then the SIMD ones of this architecture; attn_ops picks one under a cap.
#include "kernels/attention.h"

namespace nibble::kernels {

#if defined(__x86_64__) || defined(_M_X64)
namespace avx2 {
extern const AttnOps kAttnOps;
}
namespace avx512 {
extern const AttnOps kAttnOps;
}
namespace avx512vnni {
extern const AttnOps kAttnOps;
}
#endif
#if defined(__aarch64__)
namespace neon {
extern const AttnOps kAttnOps;
}
namespace dotprod {
extern const AttnOps kAttnOps;
}
#endif

namespace {
constexpr AttnOps kScalarAttn{Isa::scalar, "scalar", ref::attn_scores, ref::attn_expsum,
                               ref::attn_values, attn_expsum_range<ref::attn_expsum>};
}

std::span<const AttnOps* const> attn_op_tables() {
  static const AttnOps* const kTables[] = {
    &kScalarAttn,
#if defined(__x86_64__) || defined(_M_X64)
    &avx2::kAttnOps,
    &avx512::kAttnOps,
    &avx512vnni::kAttnOps,
#endif
#if defined(__aarch64__)
    &neon::kAttnOps,
    &dotprod::kAttnOps,
#endif
  };
  return kTables;
}

const AttnOps& attn_ops(Isa cap) {
  const AttnOps* best = &kScalarAttn;
  for (const AttnOps* t : attn_op_tables())
    if (static_cast<int>(t->isa) <= static_cast<int>(cap) && isa_supported(t->isa) &&
        static_cast<int>(t->isa) > static_cast<int>(best->isa))
      best = t;
  return *best;
}

}  // namespace nibble::kernels
