// The loop every interleaved layout shares (kernels/pack/*.cpp): groups of `group_rows` rows,
// each `cols / block_elems` output blocks of `block_bytes` back to back.
#pragma once

#include <cstring>

#include "kernels/pack/pack.h"

namespace nibble::kernels::pack {

// Sizes the layout and, when dst is not null, zero-fills it and calls fill(out_block, r, src)
// for every row of every group: r is the row's place in its group, src the index of its source
// block (row * blocks per row + block), or -1 for a padding row (up to a whole group), which is
// then all zero (scale 0) unless fill writes it. Returns the layout's size in bytes.
template <class Fill>
size_t interleave(int64_t rows, int64_t cols, int64_t block_elems, int group_rows,
                  size_t block_bytes, void* dst, Fill&& fill) {
  const int64_t nb = cols / block_elems;
  const int64_t groups = padded_rows(rows, group_rows) / group_rows;
  const size_t bytes = static_cast<size_t>(groups * nb) * block_bytes;
  if (!dst) return bytes;
  auto* out = static_cast<uint8_t*>(dst);
  std::memset(out, 0, bytes);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* o = out + static_cast<size_t>(g * nb + b) * block_bytes;
      for (int r = 0; r < group_rows; ++r) {
        const int64_t row = g * group_rows + r;
        fill(o, r, row < rows ? row * nb + b : int64_t{-1});
      }
    }
  return bytes;
}

}  // namespace nibble::kernels::pack
