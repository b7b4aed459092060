// Layout "q4_0_x8": Q4_0 with 8 rows interleaved, for kernels that produce 8 rows per pass.
//
// Rows are taken in groups of 8 (the row count padded to a multiple of 8 with all-zero rows:
// scale 0). A group is nb = cols / 32 blocks back to back, each 144 bytes = 8 x 18 (the same
// 4.5 bpw as Q4_0):
//   uint16 d[8]        fp16 scale of each row for this block (GGUF's d, bit-exact)
//   uint8  qs[4][32]   qs[L][4r + i], row r, i in 0..3: low nibble = q of element 8L + i,
//                      high nibble = q of element 8L + 4 + i (q in 0..15, weight = q - 8).
// So one 32-byte load, masked or shifted, gives 4 consecutive elements of all 8 rows, one row
// per int32 lane: a vpmaddubsw against the 4 activations broadcast to every lane, then
// vpmaddwd, sums them per row with no horizontal reduction.
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/pack/interleave.h"

namespace nibble::kernels::pack {

size_t q4_0_x8(const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows = 8;
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  return interleave(rows, cols, QK, kRows, kRows * sizeof(BlockQ4_0), dst,
                    [&](uint8_t* o, int r, int64_t i) {
                      if (i < 0) return;  // padding row: zero
                      const BlockQ4_0& blk = blocks[i];
                      uint8_t q[QK];
                      for (int j = 0; j < QK / 2; ++j) {
                        q[j] = blk.qs[j] & 0xF;
                        q[j + QK / 2] = blk.qs[j] >> 4;
                      }
                      std::memcpy(o + 2 * r, &blk.d, 2);
                      uint8_t* qs = o + 2 * kRows;
                      for (int l = 0; l < 4; ++l)
                        for (int j = 0; j < 4; ++j)
                          qs[32 * l + 4 * r + j] =
                              static_cast<uint8_t>(q[8 * l + j] | q[8 * l + 4 + j] << 4);
                    });
}

}  // namespace nibble::kernels::pack
