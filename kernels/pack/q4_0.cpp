// Layout "q4_0_x8": Q4_0 with 8 rows interleaved, for kernels that produce 8 rows per pass.
//
// Rows are taken in groups of 8 (the row count padded to a multiple of 8 with zero rows of
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
#include "kernels/pack/pack.h"

namespace nibble::kernels::pack {

size_t q4_0_x8(const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows = 8;
  constexpr size_t kBlockBytes = kRows * sizeof(BlockQ4_0);  // 144
  const int64_t nb = cols / QK;
  const int64_t groups = padded_rows(rows, kRows) / kRows;
  const size_t bytes = static_cast<size_t>(groups * nb) * kBlockBytes;
  if (!dst) return bytes;
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* o = out + static_cast<size_t>(g * nb + b) * kBlockBytes;
      uint8_t* qs = o + 2 * kRows;
      for (int r = 0; r < kRows; ++r) {
        const int64_t row = g * kRows + r;
        uint8_t q[QK];
        uint16_t d = 0;
        if (row < rows) {
          const BlockQ4_0& blk = blocks[row * nb + b];
          d = blk.d;
          for (int j = 0; j < QK / 2; ++j) {
            q[j] = blk.qs[j] & 0xF;
            q[j + QK / 2] = blk.qs[j] >> 4;
          }
        } else {
          std::memset(q, 8, sizeof(q));  // weight 0
        }
        std::memcpy(o + 2 * r, &d, 2);
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i)
            qs[32 * l + 4 * r + i] = static_cast<uint8_t>(q[8 * l + i] | q[8 * l + 4 + i] << 4);
      }
    }
  }
  return bytes;
}

}  // namespace nibble::kernels::pack
