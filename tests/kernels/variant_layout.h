// Weights in the layout a registry variant reads: the GGUF rows as they are, or (packed
// variants, NIBBLE_MATMUL_PACKED) repacked by the variant's own pack function, the one
// KernelTable::prepare calls at load. Every test that calls v.fn directly goes through this.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/registry.h"

namespace nibble::kernels {

struct VariantLayout {
  std::vector<uint8_t> bytes;
  size_t row_bytes = 0;  // MatmulArgs::w_row_bytes
};

inline VariantLayout layout_for(const MatmulVariant& v, const std::vector<uint8_t>& gguf,
                                int64_t rows, int64_t k) {
  const auto info = tensor_type_info(v.weight);
  const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  if (!v.packed()) return {gguf, row_bytes};
  VariantLayout l;
  const size_t n = v.pack(gguf.data(), rows, k, nullptr);
  const int64_t padded = padded_rows(rows, v.rows_per_call);
  EXPECT_EQ(n % static_cast<size_t>(padded), 0u) << v.layout << ": not whole rows";
  l.bytes.assign(n + 64, 0xCD);  // 0xCD past the end: a kernel reading it gives garbage
  EXPECT_EQ(v.pack(gguf.data(), rows, k, l.bytes.data()), n);
  l.row_bytes = n / static_cast<size_t>(padded);
  return l;
}

}  // namespace nibble::kernels
