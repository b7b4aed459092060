// Layout "q8_0_x8": Q8_0 with 8 rows interleaved, for kernels that produce 8 rows per pass.
//
// Rows are taken in groups of 8 (the row count padded to a multiple of 8 with zero rows of
// scale 0). A group is nb = cols / 32 blocks back to back, each 272 bytes = 8 x 34 (the same
// 8.5 bpw as Q8_0):
//   uint16 d[8]        fp16 scale of each row for this block (GGUF's d, bit-exact)
//   int8   qs[8][32]   qs[L][4r + i], row r, i in 0..3: the weight of element 4L + i.
// So one 32-byte load gives 4 consecutive elements of all 8 rows, one row per int32 lane:
// multiplied with the 4 activations broadcast to every lane and summed per lane (vpdpbusd, or
// vpmaddubsw + vpmaddwd), it yields the 8 rows' partial dot products with no horizontal sum.
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/pack/interleave.h"

namespace nibble::kernels::pack {

size_t q8_0_x8(const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows = 8;
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  return interleave(rows, cols, QK, kRows, kRows * sizeof(BlockQ8_0), dst,
                    [&](uint8_t* o, int r, int64_t i) {
                      if (i < 0) return;  // padding row: zero
                      const BlockQ8_0& blk = blocks[i];
                      std::memcpy(o + 2 * r, &blk.d, 2);
                      for (int l = 0; l < QK / 4; ++l)
                        std::memcpy(o + 2 * kRows + 32 * l + 4 * r, blk.qs + 4 * l, 4);
                    });
}

}  // namespace nibble::kernels::pack
