// The expanded matmul registry: every variant (scalar references first, then registry.inc).
#pragma once

#include <span>

#include "kernels/kernels.h"

namespace nibble::kernels {

struct MatmulVariant {
  TensorType weight;
  Isa isa;
  MatmulFn fn;
  int rows_per_call;
  int priority;
  const char* name;  // e.g. "gemv_q4_0_q8_0__avx2"
};

std::span<const MatmulVariant> matmul_variants();

}  // namespace nibble::kernels
