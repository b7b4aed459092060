// The KV cache's K layout (kernels/attention.h): one position's head row in and out of its
// dimension-major group of kKGroup positions.
#include <cstring>

#include "kernels/attention.h"
#include "kernels/formats/blocks.h"
#include "kernels/ref/fp16.h"

namespace nibble::kernels {
namespace {

// Position j's group and lane: the group's first byte and j % kKGroup.
template <class P>
P group_of(P k, int64_t head_dim, bool q8_0, int64_t j, int64_t* lane) {
  *lane = j % kKGroup;
  return k + static_cast<size_t>(j / kKGroup) * kKGroup * attn_row_bytes(head_dim, q8_0);
}

constexpr size_t kQ8Group = kKGroup * sizeof(BlockQ8_0);  // one 32-dimension block of the group

// Byte of value e of lane l in a q8_0 block of the group: past the scales, 4-dimension steps.
constexpr size_t q8_offset(int e, int64_t l) {
  return 2 * kKGroup + static_cast<size_t>(e / 4) * 4 * kKGroup + l * 4 + e % 4;
}

}  // namespace

void attn_k_put(uint8_t* k, int64_t head_dim, bool q8_0, int64_t j, const uint8_t* row) {
  int64_t l;
  uint8_t* g = group_of(k, head_dim, q8_0, j, &l);
  if (!q8_0) {
    for (int64_t d = 0; d < head_dim; ++d) std::memcpy(g + (d * kKGroup + l) * 2, row + d * 2, 2);
    return;
  }
  for (int64_t c = 0; c < head_dim / QK; ++c) {
    BlockQ8_0 b;
    std::memcpy(&b, row + c * sizeof(BlockQ8_0), sizeof b);
    uint8_t* blk = g + c * kQ8Group;
    std::memcpy(blk + l * 2, &b.d, 2);
    for (int e = 0; e < QK; ++e) blk[q8_offset(e, l)] = static_cast<uint8_t>(b.qs[e]);
  }
}

void attn_k_get(const uint8_t* k, int64_t head_dim, bool q8_0, int64_t j, uint8_t* row) {
  int64_t l;
  const uint8_t* g = group_of(k, head_dim, q8_0, j, &l);
  if (!q8_0) {
    for (int64_t d = 0; d < head_dim; ++d) std::memcpy(row + d * 2, g + (d * kKGroup + l) * 2, 2);
    return;
  }
  for (int64_t c = 0; c < head_dim / QK; ++c) {
    BlockQ8_0 b;
    const uint8_t* blk = g + c * kQ8Group;
    std::memcpy(&b.d, blk + l * 2, 2);
    for (int e = 0; e < QK; ++e) b.qs[e] = static_cast<int8_t>(blk[q8_offset(e, l)]);
    std::memcpy(row + c * sizeof(BlockQ8_0), &b, sizeof b);
  }
}

void attn_q8_from_blocks(const void* q8_0_blocks, int64_t head_dim, AttnQ8* out) {
  for (int64_t c = 0; c < head_dim / QK; ++c) {
    BlockQ8_0 b;
    std::memcpy(&b, static_cast<const uint8_t*>(q8_0_blocks) + c * sizeof b, sizeof b);
    out[c].d = fp16_to_f32(b.d);
    out[c].sum = 0;
    for (int e = 0; e < QK; ++e) out[c].qs[e] = b.qs[e], out[c].sum += b.qs[e];
  }
}

}  // namespace nibble::kernels
