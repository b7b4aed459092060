// Layout "q6_k_x8": Q6_K with 8 rows interleaved, for kernels that produce 8 rows per pass.
//
// Rows are taken in groups of 8 (the row count padded to a multiple of 8 with zero rows: scales
// 0). A group is nb = cols / 256 super-blocks back to back, each 1680 bytes = 8 x 210 (the same
// 6.5625 bpw as Q6_K):
//   uint16 d[8]            fp16 super-block scale of each row (GGUF's d, bit-exact)
//   int8   sc[16][8]       sc[g][r]: scale of the 16-element group g of row r (GGUF's scales)
//   then per 16-element group g (96 bytes), with u = q + 32 in 0..63 (weight q), three planes
//   uint8 A[32], B[32], C[32]: vector v (0..3) = elements 16g + 4v + i, i in 0..3, of row r at
//                          byte 4r + i; A, B, C hold u of vectors 0, 1, 2 in bits 0-5 and bits
//                          0-1, 2-3, 4-5 of vector 3's u in bits 6-7
// So a kernel gets 4 consecutive elements of all 8 rows per int32 lane from one plane (& 0x3F)
// or from the three top-bit pairs (vector 3): 11 vector operations per group.
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
                      uint8_t* grp = sc + 16 * kRows;
                      for (int g = 0; g < 16; ++g, grp += 96) {
                        for (int e = 0; e < 16; ++e) {
                          const int u = ib.q[16 * g + e] + 32;  // 0..63
                          const int v = e / 4, at = 4 * r + e % 4;
                          if (v < 3) {
                            grp[32 * v + at] = static_cast<uint8_t>(grp[32 * v + at] | u);
                            continue;
                          }
                          for (int p = 0; p < 3; ++p)  // bits 2p, 2p + 1 of u to plane p
                            grp[32 * p + at] =
                                static_cast<uint8_t>(grp[32 * p + at] | (u >> (2 * p) & 3) << 6);
                        }
                      }
                    });
}

}  // namespace nibble::kernels::pack
