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

#include "kernels/formats/blocks.h"
#include "kernels/pack/pack.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels::pack {
namespace {

constexpr int kRows = 32;
constexpr size_t kBlockBytes = kRows * 2 + (QK_K / 4) * kRows;  // 2112

template <typename Block>
size_t pack_ternary(TensorType type, const void* src, int64_t rows, int64_t cols, void* dst) {
  const int64_t nb = cols / QK_K;
  const int64_t groups = padded_rows(rows, kRows) / kRows;
  const size_t bytes = static_cast<size_t>(groups * nb) * kBlockBytes;
  if (!dst) return bytes;
  const auto* blocks = static_cast<const Block*>(src);
  auto* out = static_cast<uint8_t*>(dst);
  ref::IntBlock ib;
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* o = out + static_cast<size_t>(g * nb + b) * kBlockBytes;
      uint16_t* d = reinterpret_cast<uint16_t*>(o);
      uint8_t* q = o + 2 * kRows;
      for (int r = 0; r < kRows; ++r) {
        const int64_t row = g * kRows + r;
        if (row >= rows) {  // padding: weight 0 (code 1), scale 0
          d[r] = 0;
          for (int s = 0; s < QK_K / 4; ++s) q[s * kRows + r] = 0x55;
          continue;
        }
        const Block& blk = blocks[row * nb + b];
        std::memcpy(&d[r], &blk.d, 2);
        ref::decode_block(type, &blk, 0, &ib);
        for (int s = 0; s < QK_K / 4; ++s) {
          int c[4];
          for (int j = 0; j < 4; ++j) c[j] = ib.q[4 * s + j] + 1;  // 0..3
          q[s * kRows + r] = static_cast<uint8_t>(c[0] | c[1] << 2 | c[2] << 4 | c[3] << 6);
        }
      }
    }
  }
  return bytes;
}

// Layout "t2x8": the same codes c = weight + 1 for 8 rows interleaved, for the 8-row kernels
// (kernels/x86/common/gemv_x8.inc). A group of 8 rows is nb blocks of 528 bytes = 8 x 66:
//   uint16 d[8]          fp16 scale of each row (GGUF's d)
//   uint8  q[16][32]     q[s][4r + i], i in 0..3: bits 2k..2k+1 = c of element 16s + 4k + i
// (one 32-byte load = one 16-element chunk of the 8 rows; the arrangement of q2_k_x8).
template <typename Block>
size_t pack_ternary_x8(TensorType type, const void* src, int64_t rows, int64_t cols, void* dst) {
  constexpr int kRows8 = 8;
  constexpr size_t kBlockBytes8 = kRows8 * 2 + (QK_K / 4) * kRows8;  // 528
  const int64_t nb = cols / QK_K;
  const int64_t groups = padded_rows(rows, kRows8) / kRows8;
  const size_t bytes = static_cast<size_t>(groups * nb) * kBlockBytes8;
  if (!dst) return bytes;
  const auto* blocks = static_cast<const Block*>(src);
  auto* out = static_cast<uint8_t*>(dst);
  ref::IntBlock ib;
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* o = out + static_cast<size_t>(g * nb + b) * kBlockBytes8;
      uint8_t* q = o + 2 * kRows8;
      for (int r = 0; r < kRows8; ++r) {
        const int64_t row = g * kRows8 + r;
        uint16_t d = 0;
        for (int j = 0; j < QK_K; ++j) ib.q[j] = 0;  // padding: weight 0 (code 1), scale 0
        if (row < rows) {
          const Block& blk = blocks[row * nb + b];
          std::memcpy(&d, &blk.d, 2);
          ref::decode_block(type, &blk, 0, &ib);
        }
        std::memcpy(o + 2 * r, &d, 2);
        for (int c = 0; c < QK_K / 16; ++c)
          for (int i = 0; i < 4; ++i) {
            uint8_t v = 0;
            for (int k = 0; k < 4; ++k)
              v = static_cast<uint8_t>(v | (ib.q[16 * c + 4 * k + i] + 1) << (2 * k));
            q[32 * c + 4 * r + i] = v;
          }
      }
    }
  }
  return bytes;
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
