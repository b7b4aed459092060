// Attention kernels over one block of up to kAttnBlock positions of one KV head, read straight
// from the KV cache (f16 or q8_0 rows), for nq query rows at once. The executor
// (src/graph/attention.cpp) runs a query's attention in three passes over its blocks:
//   scores: s_j = scale * (q . k_j) (soft-capped when softcap > 0) into the query's score row,
//           and the block's max;                       M = max over the blocks (exact)
//   expsum: p_j = exp(s_j - M) in place, the block's sum;  L = sum of the block sums in
//           position order
//   values: a_b = sum_j f16(p_j * (1 / L)) * v_j over the block, in position order;
//           out = sum of the a_b in position order.
// The probabilities are normalized and rounded to f16 before they meet V, and q is rounded to
// f16 by the caller before it meets an f16 K: the arithmetic of the reference engines' f16
// attention (an f16 x f16 dot for both products), which the golden tests hold nibble to (their
// median bound needs the same activation roundings as the reference, decision 23). Over a q8_0
// K, q is quantized to q8_0 by the caller (AttnQ8, the reference engines' way for a q8_0 K) and
// each score is integer dot products per 32-dimension block, exact, combined in block order:
// s = fma(float(isum_c), dq_c * dk_c, s) from s = 0 (dq_c * dk_c: two f16 values, exact in f32),
// so every table gives the same bits as the scalar reference (decision 61).
//
// A call of more than 4 rows converts the block's f16 K (scores) or V (values) rows once (f16
// -> f32, or q8_0 V -> f32, exact: an f16 scale times an int8 has at most 19 significant bits)
// into an f32 tile in the caller's scratch, which every query row of the call then reads from
// L1/L2: group x tokens of a prefill tile share one pass over the cache; the cache is never
// copied per (token, head). The K tile is dimension-major per SIMD group of positions, as the
// cache's K (below), so each f16 score is one FMA chain over the dimensions in order, the
// reference's order; calls of up to 4 query rows (a decode token's group) read the cache
// straight into registers without a tile, and so do q8_0 scores in every call
// (kernels/simd/attn_impl.h).
//
// K is stored dimension-major per group of kKGroup = 32 positions (V stays one row per
// position): group G of a head holds positions [32 G, 32 G + 32) in the bytes that 32 rows
// would take, starting at 32 G row bytes. f16: element (position j, dimension d) is half d * 32
// + j % 32 of its group. q8_0: per 32-dimension block c, the 32 positions' f16 scales (64
// bytes), then the block's int8 values, dimension-major (dimension c * 32 + e of position j at
// byte 64 + e * 32 + j % 32): 32 x 34 bytes, as 32 rows of one block. A SIMD group of W <= 32
// positions thus loads one vector per dimension, already transposed, and the scores keep the
// reference's order without shuffles; the 32 positions of one dimension are contiguous, so a
// decode register block of two 16-lane groups (8 FMA chains) still reads one stream. q8_0 K
// is per 32-dimension block c, the 32 positions' f16 scales (64 bytes), then the int8 values
// in 4-dimension steps: dimension c * 32 + e of position j at byte 64 + (e / 4) * 128 +
// (j % 32) * 4 + e % 4 (32 x 34 bytes, as 32 rows of one block), so a SIMD group of W
// positions loads W x 4 bytes per step, one integer dot product of 4 dimensions per lane
// (vpdpbusd, pmaddubsw, sdot-style) against 4 bytes of q.
// attn_k_put / attn_k_get move one position's head row (the cache's
// f16 or BlockQ8_0 bytes) in and out of the layout; a head's K spans attn_k_positions(n)
// positions so that every group is whole (lanes past the last written position are read and
// masked, never used).
//
// Block boundaries are absolute positions (multiples of kAttnBlock), and each position sits
// in the same SIMD lane of its block in every call, so a (query, position) pair is computed
// identically whichever rows share the call, whichever thread runs it, and whether the blocks
// of a query run in sequence (prefill) or in parallel (decode). Positions outside every query's
// range [lo, hi) are never read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/kernels.h"

namespace nibble::kernels {

inline constexpr int64_t kAttnBlock = 64;  // positions per block (absolute boundaries)
inline constexpr int64_t kAttnPad = 16;    // q rows and tiles padded to a multiple of this
inline constexpr int64_t kKGroup = 32;     // K positions per dimension-major group

// Positions a head's K must span to hold n positions: n rounded up to whole groups.
constexpr int64_t attn_k_positions(int64_t n) { return (n + kKGroup - 1) / kKGroup * kKGroup; }
// Bytes of one position's head row: head_dim f16, or head_dim / 32 BlockQ8_0.
constexpr size_t attn_row_bytes(int64_t head_dim, bool q8_0) {
  return q8_0 ? static_cast<size_t>(head_dim / 32) * 34 : static_cast<size_t>(head_dim) * 2;
}
// Position j's row into / out of a head's K (k: the head's position 0, in the layout above).
void attn_k_put(uint8_t* k, int64_t head_dim, bool q8_0, int64_t j, const uint8_t* row);
void attn_k_get(const uint8_t* k, int64_t head_dim, bool q8_0, int64_t j, uint8_t* row);

// Floats of padded head: head_dim rounded up to kAttnPad.
constexpr int64_t attn_padded(int64_t head_dim) {
  return (head_dim + kAttnPad - 1) / kAttnPad * kAttnPad;
}
// Scratch floats a scores or values call needs (one tile).
constexpr size_t attn_scratch_floats(int64_t head_dim) {
  return static_cast<size_t>(kAttnBlock * attn_padded(head_dim));
}

// One 32-dimension block of a query row quantized for a q8_0 K: the q8_0 block's scale as f32,
// the sum of its 32 values (for integer dot products with an offset operand), the values.
struct AttnQ8 {
  float d;
  int32_t sum;
  int8_t qs[32];
};
// One query row's head_dim / 32 BlockQ8_0 (the row ops' q8_0 quantization of q,
// KernelTable::quantize_activation) as head_dim / 32 AttnQ8.
void attn_q8_from_blocks(const void* q8_0_blocks, int64_t head_dim, AttnQ8* out);

struct AttnBlock {
  const float* q = nullptr;  // nq rows of attn_padded(head_dim) floats, f16 values, zero padded
  const AttnQ8* q8 = nullptr;  // q8_0 K: nq rows of head_dim / 32 blocks (q is not read)
  int nq = 0;
  int64_t head_dim = 0;
  const uint8_t* k = nullptr;  // this head's K group of the block's first position (layout above)
  const uint8_t* v = nullptr;  // this head's V row of the block's first position
  size_t row_bytes = 0;  // bytes between consecutive V rows; K's must equal attn_row_bytes
  bool q8_0 = false;     // rows are head_dim / 32 BlockQ8_0, else head_dim f16
  const int32_t* lo = nullptr;  // per query row: its positions [lo, hi) within the block
  const int32_t* hi = nullptr;  // (lo >= hi: the row is skipped; scores sets its m to -inf)
  float scale = 1.0f, softcap = 0.0f;
  float* s = nullptr;  // scores / probabilities: row i at s + i * s_stride, kAttnBlock floats,
  size_t s_stride = 0;  // 64-byte aligned; entries outside [lo, hi) of the SIMD groups are -inf
  float* m = nullptr;   // scores: out, per row, the max over [lo, hi)
  const float* inv_l = nullptr;  // values: in, per row, 1 / L
  float* a = nullptr;   // values: out, nq rows of attn_padded(head_dim) floats
  bool accumulate = false;  // values: a_i += the block's output (the same f32 add as a sum of
                           // outputs) instead of a_i = it; rows with lo >= hi keep a_i
  float* scratch = nullptr;  // attn_scratch_floats(head_dim) floats, 64-byte aligned
};

struct AttnOps {
  Isa isa;
  const char* name;
  void (*scores)(const AttnBlock& b);
  // p_j = exp(s_j - m) in place for j in [lo, hi) of one row's block (s 64-byte aligned;
  // the SIMD groups around the range become 0 where s was -inf); returns their sum.
  float (*expsum)(float* s, int32_t lo, int32_t hi, float m);
  void (*values)(const AttnBlock& b);
  // expsum over the blocks of positions [lo, hi) of one score row (s: the row's position 0, a
  // block boundary): the blocks' sums added in position order, ((0 + l_b0) + l_b1) + ..., the
  // same bits as expsum called block by block (one call per row instead of per block).
  float (*expsum_range)(float* s, int64_t lo, int64_t hi, float m);
};

// expsum_range over a table's per-block expsum (inlined where Block is inline).
template <float (*Block)(float*, int32_t, int32_t, float)>
float attn_expsum_range(float* s, int64_t lo, int64_t hi, float m) {
  float l = 0;
  for (int64_t j0 = lo / kAttnBlock * kAttnBlock; j0 < hi; j0 += kAttnBlock)
    l += Block(s + j0, static_cast<int32_t>(lo > j0 ? lo - j0 : 0),
               static_cast<int32_t>(hi - j0 < kAttnBlock ? hi - j0 : kAttnBlock), m);
  return l;
}

// The attention table for an ISA cap: the highest ISA at or below `cap` that has a table and
// that the CPU runs (KernelTable::cap() as cap keeps NIBBLE_ISA's choice). Every table gives
// the same scores over a q8_0 K; f16 scores and the rest as stated above.
const AttnOps& attn_ops(Isa cap);
// Every table compiled into this binary (scalar first), for tests.
std::span<const AttnOps* const> attn_op_tables();

namespace ref {
void attn_scores(const AttnBlock& b);
float attn_expsum(float* s, int32_t lo, int32_t hi, float m);
void attn_values(const AttnBlock& b);
}  // namespace ref

}  // namespace nibble::kernels
