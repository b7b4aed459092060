// Layout "q6_k_x8": Q6_K with 8 rows interleaved, for kernels that produce 8 rows per pass.
//
// Rows are taken in groups of 8 (the row count padded to a multiple of 8 with zero rows: scales
// 0). A group is nb = cols / 256 super-blocks back to back, each 1680 bytes = 8 x 210 (the same
// 6.5625 bpw as Q6_K):
//   uint16 d[8]            fp16 super-block scale of each row (GGUF's d, bit-exact)
//   int8   sc[16][8]       sc[g][r]: scale of the 16-element group g of row r (GGUF's scales)
//   then per 32-element sub-block j (192 bytes), with u = q + 32 in 0..63 (weight q):
//     uint8 ql[4][32]      ql[L][4r + i], i in 0..3: low nibble = u & 15 of element 32j + 8L + i,
//                          high nibble = u & 15 of element 32j + 8L + 4 + i (as q4_0_x8)
//     uint8 qh[2][32]      qh[m][4r + i]: bits 4n + 2h .. 4n + 2h + 1 = u >> 4 of element
//                          32j + 8(2m + n) + 4h + i (n, h in 0..1): the top bits of ql[2m + n]
// One 32-byte ql load and its qh bits give 4 consecutive elements of all 8 rows per int32 lane;
// ql[0..1] are group 2j, ql[2..3] group 2j + 1 (one qh load each).
// Exact: u and the scales are the reference decoder's integers (ref::decode_block), d is copied.
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/pack/interleave.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels::pack {

size_t q6_k_x8(const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows = 8;
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  return interleave(rows, cols, QK_K, kRows, kRows * sizeof(BlockQ6_K), dst,
                    [&](uint8_t* o, int r, int64_t i) {
                      if (i < 0) return;  // padding row: zero
                      ref::IntBlock ib;
                      ref::decode_block(TensorType::Q6_K, &blocks[i], 0, &ib);
                      std::memcpy(o + 2 * r, &blocks[i].d, 2);
                      uint8_t* sc = o + 2 * kRows;
                      for (int g = 0; g < 16; ++g) sc[8 * g + r] = static_cast<uint8_t>(ib.sc[g]);
                      uint8_t* sub = sc + 16 * kRows;
                      for (int j = 0; j < 8; ++j, sub += 192) {
                        for (int e = 0; e < 32; ++e) {
                          const int u = ib.q[32 * j + e] + 32;  // 0..63
                          const int L = e / 8, h = (e % 8) / 4, ii = e % 4;
                          uint8_t& l = sub[32 * L + 4 * r + ii];
                          l = static_cast<uint8_t>(l | (u & 15) << (4 * h));
                          uint8_t& hb = sub[128 + 32 * (L / 2) + 4 * r + ii];
                          hb = static_cast<uint8_t>(hb | (u >> 4) << (4 * (L % 2) + 2 * h));
                        }
                      }
                    });
}

}  // namespace nibble::kernels::pack
