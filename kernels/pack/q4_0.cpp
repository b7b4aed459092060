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
                      std::memcpy(o + 2 * r, &blk.d, 2);
                      // Element e < 16 is the low nibble of qs[e], e >= 16 the high nibble of
                      // qs[e - 16]; 4 target bytes (elements 8L + i and 8L + 4 + i) at once.
                      for (int l = 0; l < 4; ++l) {
                        const uint8_t* q = blk.qs + 8 * (l % 2);
                        const int sh = 4 * (l / 2);
                        const uint32_t lo = (load32(q) >> sh) & 0x0F0F0F0Fu;
                        const uint32_t hi = (load32(q + 4) >> sh) & 0x0F0F0F0Fu;
                        store32(o + 2 * kRows + 32 * l + 4 * r, lo | hi << 4);
                      }
                    });
}

}  // namespace nibble::kernels::pack
