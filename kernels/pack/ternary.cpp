// Layout "t2x32": ternary weights (TQ2_0, TQ1_0) for the lookup-table kernels.
//
// Rows are taken in groups of 32 (the row count padded to a multiple of 32 with zero rows of
// scale 0). A group is nb = cols / 256 blocks back to back, each 2112 bytes = 32 x 66, the
// same bytes per weight as TQ2_0 (2.0625 bpw; TQ1_0 grows from 1.6875):
//   uint16 d[32]        fp16 scale of each of the 32 rows for this block (GGUF's d, bit-exact)
//   uint8  q[64][32]    q[s][r]: row r, elements 4s..4s+3 of the block, as two nibbles:
//                         low  nibble = c(4s)   | c(4s+1) << 2
//                         high nibble = c(4s+2) | c(4s+3) << 2
//                       with c = weight + 1 in {0, 1, 2} (so nibbles use 9 of 16 values;
//                       a TQ2_0 code 3, which its quantizer never writes, stays 3 = weight +2,
//                       as the reference decoder reads it).
// One 32-byte load of q[s] gives the index of one activation pair for 32 rows, which is what
// a 16-entry table lookup (pshufb / tbl, the same table for every byte) needs.
// Exact: the codes are the reference decoder's integers (ref::decode_block), d is copied.
#include <cstring>
#include <type_traits>

#include "kernels/formats/blocks.h"
#include "kernels/pack/interleave.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels::pack {
namespace {

constexpr int kRows = 32;
constexpr size_t kBlockBytes = kRows * 2 + (QK_K / 4) * kRows;  // 2112

// Codes c = weight + 1 of one block of a row (padding rows: weight 0, code 1), via the
// reference decoder.
template <typename Block>
void codes(TensorType type, const Block* blocks, int64_t i, uint8_t* c, uint16_t* d) {
  ref::IntBlock ib;
  if (i < 0) {
    std::memset(c, 1, QK_K);
    *d = 0;
    return;
  }
  ref::decode_block(type, &blocks[i], 0, &ib);
  for (int j = 0; j < QK_K; ++j) c[j] = static_cast<uint8_t>(ib.q[j] + 1);  // 0..3
  std::memcpy(d, &blocks[i].d, 2);
}

template <typename Block>
size_t pack_ternary(TensorType type, const void* src, int64_t rows, int64_t cols, void* dst) {
  const auto* blocks = static_cast<const Block*>(src);
  return interleave(rows, cols, QK_K, kRows, kBlockBytes, dst, [&](uint8_t* o, int r, int64_t i) {
    uint8_t c[QK_K];
    uint16_t d;
    codes(type, blocks, i, c, &d);
    std::memcpy(o + 2 * r, &d, 2);
    uint8_t* q = o + 2 * kRows;
    for (int s = 0; s < QK_K / 4; ++s)
      q[s * kRows + r] =
          static_cast<uint8_t>(c[4 * s] | c[4 * s + 1] << 2 | c[4 * s + 2] << 4 | c[4 * s + 3] << 6);
  });
}

// Layout "t2x8": the same codes c = weight + 1 for 8 rows interleaved, for the 8-row kernels
// (kernels/x86/common/gemv_x8.h). A group of 8 rows is nb blocks of 528 bytes = 8 x 66:
//   uint16 d[8]          fp16 scale of each row (GGUF's d)
//   uint8  q[16][32]     q[s][4r + i], i in 0..3: bits 2k..2k+1 = c of element 16s + 4k + i
// (one 32-byte load = one 16-element chunk of the 8 rows; the arrangement of q2_k_x8).
template <typename Block>
size_t pack_ternary_x8(TensorType type, const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows8 = 8;
  const auto* blocks = static_cast<const Block*>(src);
  return interleave(rows, cols, QK_K, kRows8, kRows8 * 2 + (QK_K / 4) * kRows8, dst,
                    [&](uint8_t* o, int r, int64_t i) {
                      uint8_t* q = o + 2 * kRows8;
                      if constexpr (std::is_same_v<Block, BlockTQ2_0>) {
                        // TQ2_0 stores the codes as Q2_K stores q: move the bit planes.
                        if (i < 0) {
                          for (int s = 0; s < QK_K / 16; ++s) store32(q + 32 * s + 4 * r, 0x55555555u);
                          return;
                        }
                        std::memcpy(o + 2 * r, &blocks[i].d, 2);
                        for (int s = 0; s < QK_K / 16; ++s)
                          store32(q + 32 * s + 4 * r, plane_bits_x8(blocks[i].qs, s));
                        return;
                      }
                      uint8_t c[QK_K];
                      uint16_t d;
                      codes(type, blocks, i, c, &d);
                      std::memcpy(o + 2 * r, &d, 2);
                      for (int s = 0; s < QK_K / 16; ++s)
                        for (int j = 0; j < 4; ++j)
                          q[32 * s + 4 * r + j] = static_cast<uint8_t>(
                              c[16 * s + j] | c[16 * s + 4 + j] << 2 | c[16 * s + 8 + j] << 4 |
                              c[16 * s + 12 + j] << 6);
                    });
}

}  // namespace

size_t tq2_0_t2x8(const void* src, int64_t rows, int64_t cols, void* dst) {
  return pack_ternary_x8<BlockTQ2_0>(TensorType::TQ2_0, src, rows, cols, dst);
}
size_t tq1_0_t2x8(const void* src, int64_t rows, int64_t cols, void* dst) {
  return pack_ternary_x8<BlockTQ1_0>(TensorType::TQ1_0, src, rows, cols, dst);
}

size_t tq2_0_t2x32(const void* src, int64_t rows, int64_t cols, void* dst) {
  return pack_ternary<BlockTQ2_0>(TensorType::TQ2_0, src, rows, cols, dst);
}
size_t tq1_0_t2x32(const void* src, int64_t rows, int64_t cols, void* dst) {
  return pack_ternary<BlockTQ1_0>(TensorType::TQ1_0, src, rows, cols, dst);
}

}  // namespace nibble::kernels::pack
