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

inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void store32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// 4 bytes of a 2-bit x8 layout (q2_k_x8, t2x8): byte j holds, in bits 2k..2k+1, the 2-bit value
// of element 16s + 4k + j of a GGUF Q2_K / TQ2_0 block, whose element 128h + 32p + l is bits
// 2p..2p+1 of qs[32h + l] (s = 0..15 never straddles a 32-element plane).
inline uint32_t plane_bits_x8(const uint8_t* qs, int s) {
  const int h = s / 8, p = (s % 8) / 2, l0 = 16 * (s % 2);
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k)
    v |= ((load32(qs + 32 * h + l0 + 4 * k) >> (2 * p)) & 0x03030303u) << (2 * k);
  return v;
}

}  // namespace nibble::kernels::pack
