// Expands kernels/registry.inc into the variant list, after one scalar reference per
// computable format.
#include "kernels/registry.h"

#include "kernels/ref/ref.h"

namespace nibble::kernels {

#define NIBBLE_MATMUL(W, ISA, FN, ROWS, PRIO) \
  namespace ISA {                              \
  void FN(const MatmulArgs&);                  \
  }
#define NIBBLE_MATMUL_PACKED(W, ISA, FN, ROWS, PRIO, PACKFN) NIBBLE_MATMUL(W, ISA, FN, ROWS, PRIO)
#include "kernels/registry.inc"
#undef NIBBLE_MATMUL_PACKED
#undef NIBBLE_MATMUL

namespace ref {
// Scalar reference matmul: every row x token through dot_row.
template <TensorType T>
void matmul(const MatmulArgs& a) {
  const auto info = tensor_type_info(T);
  const size_t row_bytes = static_cast<size_t>(a.k / info.block_size) * info.type_size;
  for (int t = 0; t < a.n_tokens; ++t) {
    const void* x = static_cast<const uint8_t*>(a.x) + t * a.x_stride;
    for (int64_t r = a.row_begin; r < a.row_end; ++r) {
      const void* w = static_cast<const uint8_t*>(a.w) + r * (a.w_row_bytes ? a.w_row_bytes : row_bytes);
      a.y[t * a.y_stride + r] = dot_row(T, w, x, a.k);
    }
  }
}
}  // namespace ref

std::span<const MatmulVariant> matmul_variants() {
#define REF(T) \
  {TensorType::T, Isa::scalar, &ref::matmul<TensorType::T>, 1, 0, "matmul_" #T "__ref", nullptr, nullptr}
#define NIBBLE_MATMUL(W, ISA, FN, ROWS, PRIO) \
  {TensorType::W, Isa::ISA, &ISA::FN, ROWS, PRIO, #FN "__" #ISA, nullptr, nullptr},
#define NIBBLE_MATMUL_PACKED(W, ISA, FN, ROWS, PRIO, PACKFN) \
  {TensorType::W, Isa::ISA, &ISA::FN, ROWS, PRIO, #FN "__" #ISA, &pack::PACKFN, #PACKFN},
  static const MatmulVariant kVariants[] = {
      REF(F32),  REF(F16),  REF(BF16), REF(Q4_0), REF(Q4_1),   REF(Q5_0),  REF(Q5_1),  REF(Q8_0),
      REF(IQ4_NL), REF(Q2_K), REF(Q3_K), REF(Q4_K), REF(Q5_K), REF(Q6_K), REF(TQ1_0), REF(TQ2_0),
#include "kernels/registry.inc"
  };
#undef NIBBLE_MATMUL_PACKED
#undef NIBBLE_MATMUL
#undef REF
  return kVariants;
}

}  // namespace nibble::kernels
