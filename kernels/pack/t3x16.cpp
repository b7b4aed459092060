// Layout "t3x16": TQ1_0 in its own base-3 bytes, 16 rows interleaved, for the AVX-512 VNNI
// kernels that read the trits in place (kernels/x86/common/gemv_t3x16.h, decision 38).
//
// Rows are taken in groups of 16 (padded with zero rows of scale 0). A group is nb = cols / 256
// blocks back to back, each 864 bytes = 16 x 54, exactly TQ1_0's bytes per weight:
//   uint16 d[16]         fp16 scale of each row (GGUF's d)
//   uint8  qs[12][16][4] qs[c][r][i] = byte 4c + i of row r's GGUF qs[48]
//   uint8  qh[16][4]     qh[r][i]    = row r's GGUF qh[i]
// so one 64-byte load is one 4-byte column of 16 rows: column c < 8 holds the elements
// 32n + 4c + i, column 8 <= c < 12 the elements 160 + 16n + 4(c - 8) + i, and qh the elements
// 240 + 4n + i, each as trit n of its byte (n = 0..4; 0..3 for qh). The bytes are copied, not
// decoded: the kernels take trit n as floor(3 q_n / 256), q_n = q 3^n mod 256, as GGUF does.
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/pack/interleave.h"

namespace nibble::kernels::pack {

size_t tq1_0_t3x16(const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows = 16;
  constexpr size_t kBlockBytes = kRows * sizeof(BlockTQ1_0);  // 864
  static_assert(sizeof(BlockTQ1_0) == 54);
  const auto* blocks = static_cast<const BlockTQ1_0*>(src);
  return interleave(rows, cols, QK_K, kRows, kBlockBytes, dst, [&](uint8_t* o, int r, int64_t i) {
    if (i < 0) return;  // padding row: zero bytes, scale 0
    const BlockTQ1_0& b = blocks[i];
    std::memcpy(o + 2 * r, &b.d, 2);
    uint8_t* qs = o + 2 * kRows;
    for (int c = 0; c < 12; ++c) std::memcpy(qs + 64 * c + 4 * r, b.qs + 4 * c, 4);
    std::memcpy(qs + 64 * 12 + 4 * r, b.qh, 4);
  });
}

}  // namespace nibble::kernels::pack
