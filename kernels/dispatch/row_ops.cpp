// The row-op tables compiled into this binary: the scalar reference table, then the SIMD
// tables of this architecture (kernels/x86/*/ops.cpp, kernels/arm/*/ops.cpp).
#include "kernels/row_ops.h"

#include "kernels/ref/fp16.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels {

#if defined(__x86_64__) || defined(_M_X64)
namespace avx2 {
extern const RowOps kRowOps;
}
namespace avx512 {
extern const RowOps kRowOps;
}
#endif
#if defined(__aarch64__)
namespace neon {
extern const RowOps kRowOps;
}
#endif

namespace {

void f16_to_f32_ref(const uint16_t* s, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = fp16_to_f32(s[i]);
}
void f32_to_f16_ref(const float* s, uint16_t* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = f32_to_fp16(s[i]);
}
template <TensorType T>
void quantize_ref(const float* x, void* dst, int64_t n) {
  ref::quantize_row(T, x, dst, n);
}

constexpr RowOps kScalar{Isa::scalar,
                         "scalar",
                         f16_to_f32_ref,
                         f32_to_f16_ref,
                         ref::rmsnorm,
                         ref::softmax,
                         ref::swiglu,
                         ref::geglu,
                         ref::add,
                         ref::scale,
                         ref::softcap,
                         ref::rope,
                         ref::attn_scores_f16,
                         ref::attn_values_f16,
                         quantize_ref<TensorType::Q8_0>,
                         quantize_ref<TensorType::Q8_1>,
                         quantize_ref<TensorType::Q8_K>};

}  // namespace

std::span<const RowOps* const> row_op_tables() {
  static const RowOps* const kTables[] = {
    &kScalar,
#if defined(__x86_64__) || defined(_M_X64)
    &avx2::kRowOps,
    &avx512::kRowOps,
#endif
#if defined(__aarch64__)
    &neon::kRowOps,
#endif
  };
  return kTables;
}

}  // namespace nibble::kernels
