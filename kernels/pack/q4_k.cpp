// Layout "q4_k_x8": Q4_K with 8 rows interleaved, for kernels that produce 8 rows per pass.
//
// Rows are taken in groups of 8 (the row count padded to a multiple of 8 with zero rows: scales
// and mins 0). A group is nb = cols / 256 super-blocks back to back, each 1184 bytes = 8 x 148
// (Q4_K's 144 plus 4: the 6-bit scales and mins are stored decoded, one byte each):
//   uint16 d[8], dmin[8]   fp16 super-block scales of each row (GGUF's, bit-exact)
//   uint8  sc[8][8]        sc[j][r]: 6-bit scale of sub-block j (32 elements) of row r
//   uint8  mn[4][2][8]     mn[p][h][r]: 6-bit min of sub-block 2p + h of row r (the pairs a
//                          vpmaddwd against two sub-block activation sums takes)
//   uint8  qs[8][4][32]    qs[j][L][4r + i], i in 0..3: low nibble = q of element 32j + 8L + i,
//                          high nibble = q of element 32j + 8L + 4 + i (q in 0..15)
// So within a sub-block the nibbles are arranged exactly as a q4_0_x8 block: one 32-byte load,
// masked or shifted, gives 4 consecutive elements of all 8 rows, one row per int32 lane.
// Weight = d * sc * q - dmin * mn, as GGUF.
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/pack/interleave.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels::pack {

size_t q4_k_x8(const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows = 8;
  const auto* blocks = static_cast<const BlockQ4_K*>(src);
  return interleave(rows, cols, QK_K, kRows, kRows * (sizeof(BlockQ4_K) + 4), dst,
                    [&](uint8_t* o, int r, int64_t i) {
                      if (i < 0) return;  // padding row: zero
                      const BlockQ4_K& blk = blocks[i];
                      std::memcpy(o + 2 * r, &blk.d, 2);
                      std::memcpy(o + 2 * kRows + 2 * r, &blk.dmin, 2);
                      uint8_t* sc = o + 4 * kRows;
                      uint8_t* mn = sc + 8 * kRows;
                      uint8_t* qs = mn + 8 * kRows;
                      for (int j = 0; j < 8; ++j) {
                        int16_t d, m;
                        ref::scale_min_k4(j, blk.scales, &d, &m);
                        sc[8 * j + r] = static_cast<uint8_t>(d);
                        mn[16 * (j / 2) + 8 * (j % 2) + r] = static_cast<uint8_t>(m);
                      }
                      // Sub-block j = 2c + h is nibble h of GGUF bytes qs[32c .. 32c + 31]
                      // (element 32j + t = nibble h of byte 32c + t); 4 target bytes at once.
                      for (int j = 0; j < 8; ++j) {
                        const uint8_t* q = blk.qs + 32 * (j / 2);
                        const int sh = 4 * (j % 2);
                        for (int l = 0; l < 4; ++l) {
                          const uint32_t lo = (load32(q + 8 * l) >> sh) & 0x0F0F0F0Fu;
                          const uint32_t hi = (load32(q + 8 * l + 4) >> sh) & 0x0F0F0F0Fu;
                          store32(qs + 128 * j + 32 * l + 4 * r, lo | hi << 4);
                        }
                      }
                    });
}

}  // namespace nibble::kernels::pack
