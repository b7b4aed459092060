// The expanded matmul registry: every variant (scalar references first, then registry.inc).
#pragma once

#include <span>

#include "kernels/kernels.h"
#include "kernels/pack/pack.h"

namespace nibble::kernels {

struct MatmulVariant {
  TensorType weight;
  Isa isa;
  MatmulFn fn;
  int rows_per_call;  // row interleave of the layout (1 for GGUF layout)
  int priority;
  const char* name;  // e.g. "gemv_q4_0_q8_0__avx2"
  // Packed variants (NIBBLE_MATMUL_PACKED): the load-time repacking into the layout `fn`
  // reads, and that layout's name; both null for kernels that read the GGUF layout.
  PackFn pack = nullptr;
  const char* layout = nullptr;
  bool packed() const { return pack != nullptr; }
};

std::span<const MatmulVariant> matmul_variants();

}  // namespace nibble::kernels
