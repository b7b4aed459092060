// Layout "q2_k_x8": Q2_K with 8 rows interleaved, for kernels that produce 8 rows per pass.
//
// Rows are taken in groups of 8 (the row count padded to a multiple of 8 with zero rows). A
// group is nb = cols / 256 super-blocks back to back, each 672 bytes = 8 x 84 (Q2_K's size):
//   uint16 d[8], dmin[8]   fp16 super-block scales of each row (GGUF's, bit-exact)
//   uint8  sc[16][8]       sc[s][r]: GGUF's scale byte of sub-block s (16 elements) of row r:
//                          low nibble the scale, high nibble the min
//   uint8  qs[16][32]      qs[s][4r + i], i in 0..3: bits 2k..2k+1 = q of element 16s + 4k + i
//                          (k in 0..3, q in 0..3)
// So one 32-byte load is one sub-block of all 8 rows; shifted by 2k and masked, it gives 4
// consecutive elements of the 8 rows, one row per int32 lane. Weight = d sc q - dmin mn.
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/pack/interleave.h"

namespace nibble::kernels::pack {

size_t q2_k_x8(const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows = 8;
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  return interleave(rows, cols, QK_K, kRows, kRows * sizeof(BlockQ2_K), dst,
                    [&](uint8_t* o, int r, int64_t i) {
                      if (i < 0) return;  // padding row: zero
                      const BlockQ2_K& blk = blocks[i];
                      std::memcpy(o + 2 * r, &blk.d, 2);
                      std::memcpy(o + 2 * kRows + 2 * r, &blk.dmin, 2);
                      uint8_t* sc = o + 4 * kRows;
                      uint8_t* qs = sc + 16 * kRows;
                      for (int s = 0; s < 16; ++s) {
                        sc[8 * s + r] = blk.scales[s];
                        store32(qs + 32 * s + 4 * r, plane_bits_x8(blk.qs, s));
                      }
                    });
}

}  // namespace nibble::kernels::pack
