// GGUF block layouts, bit-exact. One struct per format, with its size asserted against the
// type table (types.h) and its bits per weight in the comment. Multi-byte fields are
// little-endian in the file; nibble only builds for little-endian targets.
#pragma once

#include <cstdint>

#include "kernels/formats/types.h"

namespace nibble::kernels {

inline constexpr int QK = 32;    // elements per block of the 32-block formats
inline constexpr int QK_K = 256; // elements per super-block of the k-quants, IQ4_NL-free, TQ

// 4.5 bpw: x = d * (q - 8), q in 0..15; low nibbles hold elements 0..15, high 16..31.
struct BlockQ4_0 { uint16_t d; uint8_t qs[QK / 2]; };
// 5.0 bpw: x = d * q + m, q in 0..15.
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[QK / 2]; };
// 5.5 bpw: x = d * (q - 16), q = nibble | (bit of qh) << 4.
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[QK / 2]; };
// 6.0 bpw: x = d * q + m, q in 0..31.
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK / 2]; };
// 8.5 bpw: x = d * q.
struct BlockQ8_0 { uint16_t d; int8_t qs[QK]; };
// 9.0 bpw activation format: d, s = d * sum(q).
struct BlockQ8_1 { uint16_t d, s; int8_t qs[QK]; };
// 4.5 bpw: x = d * kvalues_iq4nl[q].
struct BlockIQ4_NL { uint16_t d; uint8_t qs[QK / 2]; };

// 2.625 bpw: 16 sub-blocks of 16, 4-bit scale (low) and 4-bit min (high) per sub-block;
// x = d * sc * q - dmin * m, q in 0..3.
struct BlockQ2_K { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; uint16_t d, dmin; };
// 3.4375 bpw: q = 2 low bits | hmask bit << 2, minus 4 when the hmask bit is clear;
// 6-bit signed scales (offset 32) per 16, packed in 12 bytes.
struct BlockQ3_K { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; uint16_t d; };
// 4.5 bpw: 8 sub-blocks of 32, 6-bit scale and min each (packed in 12 bytes).
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[QK_K / 2]; };
// 5.5 bpw: as Q4_K plus one high bit per element.
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; };
// 6.5625 bpw: x = d * sc * (q - 32), q 6 bits, int8 scale per 16.
struct BlockQ6_K { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; uint16_t d; };
// Activation partner of the 256-blocks: float d, int8 q, sums of q per 16.
struct BlockQ8_K { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; };
// Sum of a Q8_K block's 256 quants (its 16 bsums); |.| <= 256 x 128.
inline int32_t q8_k_sum(const BlockQ8_K& x) {
  int32_t s = 0;
  for (int16_t v : x.bsums) s += v;
  return s;
}
// 1.6875 bpw ternary: 5 trits per byte (qs: 48 bytes = 240 values), 4 per byte in qh (16).
struct BlockTQ1_0 { uint8_t qs[(QK_K - 4 * QK_K / 64) / 5]; uint8_t qh[QK_K / 64]; uint16_t d; };
// 2.0625 bpw ternary: 2 bits per value, x = d * (q - 1).
struct BlockTQ2_0 { uint8_t qs[QK_K / 4]; uint16_t d; };

#define NIBBLE_BLOCK_SIZE_CHECK(S, T) \
  static_assert(sizeof(S) == tensor_type_info(TensorType::T).type_size, #S " size")
NIBBLE_BLOCK_SIZE_CHECK(BlockQ4_0, Q4_0);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ4_1, Q4_1);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ5_0, Q5_0);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ5_1, Q5_1);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ8_0, Q8_0);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ8_1, Q8_1);
NIBBLE_BLOCK_SIZE_CHECK(BlockIQ4_NL, IQ4_NL);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ2_K, Q2_K);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ3_K, Q3_K);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ4_K, Q4_K);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ5_K, Q5_K);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ6_K, Q6_K);
NIBBLE_BLOCK_SIZE_CHECK(BlockQ8_K, Q8_K);
NIBBLE_BLOCK_SIZE_CHECK(BlockTQ1_0, TQ1_0);
NIBBLE_BLOCK_SIZE_CHECK(BlockTQ2_0, TQ2_0);
#undef NIBBLE_BLOCK_SIZE_CHECK

// IQ4_NL's non-linear 4-bit code book.
inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace nibble::kernels
