// arm64 block decoders (the format traits of the arm matmul kernels) shared by the neon,
// dotprod and i8mm kernels (base NEON only).
//
// Everything here, as in kernels/arm/gemv.h, sits in an anonymous namespace: each ISA folder's
// units are compiled with their own flags (kernels/CMakeLists.txt), and internal linkage keeps
// every instantiation in the unit that compiled it (no ODR merging of copies built for
// different ISAs by the linker).
//
// A weight block is decoded to signed int8 vectors that hold exactly the reference's
// IntBlock::q (kernels/ref/decode.cpp), element i of the block in lane i % 16 of vector
// i / 16, so a vector lines up with 16 consecutive activation quants:
//   Dec32  (32-blocks):    2 vectors, scale d, and m for the x = d * q + m formats (Q4_1,
//                          Q5_1: kMin1, partner Q8_1, whose s = d_x * sum(q_x) carries m).
//   Dec256 (k-quants, TQ): 16 vectors, one int16 scale and min per 16 elements (formats whose
//                          sub-blocks are 32 wide store each value twice), d and dmin.
// Traits per format: Act is the partner activation block (32-blocks), kMaxAbsQ bounds |q| (drives
// the int16 shortcut in the NEON dot and the overflow bounds documented in each kernel file),
// kScaled / kMins say whether the per-16 scales and mins take part (kSub32: scales are per
// 32, so two slices share one multiply) (TQ formats: scale 1, no mins;
// Q6_K: scales, no mins).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/formats/blocks.h"

namespace nibble::kernels::arm {
namespace {

inline float h2f(uint16_t h) {  // IEEE half -> float (FCVT, exact, base ARMv8)
  __fp16 v;
  std::memcpy(&v, &h, 2);
  return static_cast<float>(v);
}

struct Dec32 {
  int8x16_t q[2];
  float d, m;
};

struct Dec256 {
  int8x16_t q[16];
  int16_t sc[16];  // scale of elements 16j..16j+15
  int16_t mn[16];  // min of elements 16j..16j+15 (kMins formats only)
  float d, dmin;
};

// sc[0..15] = 16 int8 values widened to int16.
inline void store_s16x16(int16_t* dst, int8x16_t v) {
  vst1q_s16(dst, vmovl_s8(vget_low_s8(v)));
  vst1q_s16(dst + 8, vmovl_high_s8(v));
}

struct FmtQ8_0 {
  using Block = BlockQ8_0;
  using Dec = Dec32;
  using Act = BlockQ8_0;
  static constexpr int kMaxAbsQ = 128;
  static constexpr bool kMin1 = false;
  static constexpr bool kScaled = false, kMins = false, kSub32 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->m = 0;
    o->q[0] = vld1q_s8(b.qs);
    o->q[1] = vld1q_s8(b.qs + 16);
  }
};

struct FmtQ4_0 {  // q = nibble - 8; low nibbles are elements 0..15, high 16..31
  using Block = BlockQ4_0;
  using Dec = Dec32;
  using Act = BlockQ8_0;
  static constexpr int kMaxAbsQ = 8;
  static constexpr bool kMin1 = false;
  static constexpr bool kScaled = false, kMins = false, kSub32 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->m = 0;
    const uint8x16_t v = vld1q_u8(b.qs);
    const int8x16_t eight = vdupq_n_s8(8);
    o->q[0] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0xF))), eight);
    o->q[1] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), eight);
  }
};

struct FmtQ4_1 {  // x = d * q + m, q = nibble (0..15)
  using Block = BlockQ4_1;
  using Dec = Dec32;
  using Act = BlockQ8_1;
  static constexpr int kMaxAbsQ = 15;
  static constexpr bool kMin1 = true;
  static constexpr bool kScaled = false, kMins = false, kSub32 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->m = h2f(b.m);
    const uint8x16_t v = vld1q_u8(b.qs);
    o->q[0] = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0xF)));
    o->q[1] = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
  }
};

// 0x10 in lane l of the result where bit l of the 16 bits (b0 | b1 << 8) is set.
inline uint8x16_t high_bits16(uint8_t b0, uint8_t b1) {
  static constexpr uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t sel = vcombine_u8(vdup_n_u8(b0), vdup_n_u8(b1));
  return vandq_u8(vtstq_u8(sel, vld1q_u8(kBit)), vdupq_n_u8(0x10));
}

// Q5_0 / Q5_1: q = nibble | (bit j of qh) << 4 for element j (low nibbles: elements 0..15,
// high nibbles: 16..31); Q5_0 subtracts 16.
inline void decode_q5(const uint8_t* qs, const uint8_t* qh, bool centred, Dec32* o) {
  const uint8x16_t v = vld1q_u8(qs);
  const uint8x16_t lo = vorrq_u8(vandq_u8(v, vdupq_n_u8(0xF)), high_bits16(qh[0], qh[1]));
  const uint8x16_t hi = vorrq_u8(vshrq_n_u8(v, 4), high_bits16(qh[2], qh[3]));
  const int8x16_t off = vdupq_n_s8(centred ? 16 : 0);
  o->q[0] = vsubq_s8(vreinterpretq_s8_u8(lo), off);
  o->q[1] = vsubq_s8(vreinterpretq_s8_u8(hi), off);
}

struct FmtQ5_0 {
  using Block = BlockQ5_0;
  using Dec = Dec32;
  using Act = BlockQ8_0;
  static constexpr int kMaxAbsQ = 16;
  static constexpr bool kMin1 = false;
  static constexpr bool kScaled = false, kMins = false, kSub32 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->m = 0;
    decode_q5(b.qs, b.qh, true, o);
  }
};

struct FmtQ5_1 {
  using Block = BlockQ5_1;
  using Dec = Dec32;
  using Act = BlockQ8_1;
  static constexpr int kMaxAbsQ = 31;
  static constexpr bool kMin1 = true;
  static constexpr bool kScaled = false, kMins = false, kSub32 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->m = h2f(b.m);
    decode_q5(b.qs, b.qh, false, o);
  }
};

struct FmtIQ4_NL {  // q = kIQ4NLValues[nibble], looked up by TBL
  using Block = BlockIQ4_NL;
  using Dec = Dec32;
  using Act = BlockQ8_0;
  static constexpr int kMaxAbsQ = 127;
  static constexpr bool kMin1 = false;
  static constexpr bool kScaled = false, kMins = false, kSub32 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->m = 0;
    const int8x16_t table = vld1q_s8(kIQ4NLValues);
    const uint8x16_t v = vld1q_u8(b.qs);
    o->q[0] = vqtbl1q_s8(table, vandq_u8(v, vdupq_n_u8(0xF)));
    o->q[1] = vqtbl1q_s8(table, vshrq_n_u8(v, 4));
  }
};

// Q4_K: 64-element chunks c, bytes qs[32c..32c+31]: low nibbles are elements 64c..64c+31,
// high nibbles 64c+32..64c+63. 6-bit scale and min per 32 elements (12 packed bytes).
// Shared by Q4_K and Q5_K: the packed 6-bit scales and mins and the nibbles.
inline void decode_k4(uint16_t d, uint16_t dmin, const uint8_t* s, const uint8_t* qs, Dec256* o) {
  o->d = h2f(d);
  o->dmin = h2f(dmin);
  // 12 packed bytes -> scales 0..7 in bytes 0..7 of u, mins 0..7 in bytes 8..15: for j < 4,
  // sc = s[j] & 63, mn = s[j + 4] & 63; for j >= 4, sc = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4,
  // mn = (s[j + 4] >> 4) | (s[j] >> 6) << 4 (the reference's scale_min_k4, 4 bytes at a time).
  uint32_t u[4];
  std::memcpy(u, s, 12);
  constexpr uint32_t k63 = 0x3f3f3f3f, k15 = 0x0f0f0f0f, k3 = 0x03030303;
  u[3] = ((u[2] >> 4) & k15) | (((u[1] >> 6) & k3) << 4);
  const uint32_t mins_lo = u[1] & k63;
  u[1] = (u[2] & k15) | (((u[0] >> 6) & k3) << 4);
  u[2] = mins_lo;
  u[0] &= k63;
  uint8_t b[16];
  std::memcpy(b, u, 16);
  const uint8x16_t v = vld1q_u8(b);
  const int16x8_t sc = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
  const int16x8_t mn = vreinterpretq_s16_u16(vmovl_high_u8(v));
  vst1q_s16(o->sc, vzip1q_s16(sc, sc));  // one value per 16 elements: each twice
  vst1q_s16(o->sc + 8, vzip2q_s16(sc, sc));
  vst1q_s16(o->mn, vzip1q_s16(mn, mn));
  vst1q_s16(o->mn + 8, vzip2q_s16(mn, mn));
  const uint8x16_t low = vdupq_n_u8(0xF);
  for (int c = 0; c < 4; ++c) {
    const uint8x16_t v0 = vld1q_u8(qs + 32 * c), v1 = vld1q_u8(qs + 32 * c + 16);
    o->q[4 * c + 0] = vreinterpretq_s8_u8(vandq_u8(v0, low));
    o->q[4 * c + 1] = vreinterpretq_s8_u8(vandq_u8(v1, low));
    o->q[4 * c + 2] = vreinterpretq_s8_u8(vshrq_n_u8(v0, 4));
    o->q[4 * c + 3] = vreinterpretq_s8_u8(vshrq_n_u8(v1, 4));
  }
}

struct FmtQ4_K {
  using Block = BlockQ4_K;
  using Dec = Dec256;
  using Act = BlockQ8_K;
  static constexpr int kMaxAbsQ = 15;
  static constexpr bool kScaled = true, kMins = true, kSub32 = true;
  static constexpr bool kMin1 = false;
  static void decode(const Block& b, Dec* o) { decode_k4(b.d, b.dmin, b.scales, b.qs, o); }
};

// Q5_K: Q4_K plus one high bit per element: bit 2c of qh[l] for element 64c + l, bit 2c + 1
// for element 64c + 32 + l (l < 32).
struct FmtQ5_K {
  using Block = BlockQ5_K;
  using Dec = Dec256;
  using Act = BlockQ8_K;
  static constexpr int kMaxAbsQ = 31;
  static constexpr bool kScaled = true, kMins = true, kSub32 = true;
  static constexpr bool kMin1 = false;
  static void decode(const Block& b, Dec* o) {
    decode_k4(b.d, b.dmin, b.scales, b.qs, o);
    const uint8x16_t h0 = vld1q_u8(b.qh), h1 = vld1q_u8(b.qh + 16), sixteen = vdupq_n_u8(16);
    for (int c = 0; c < 4; ++c) {
      const uint8x16_t lo_bit = vdupq_n_u8(static_cast<uint8_t>(1 << (2 * c)));
      const uint8x16_t hi_bit = vdupq_n_u8(static_cast<uint8_t>(2 << (2 * c)));
      const uint8x16_t add[4] = {
          vandq_u8(vtstq_u8(h0, lo_bit), sixteen), vandq_u8(vtstq_u8(h1, lo_bit), sixteen),
          vandq_u8(vtstq_u8(h0, hi_bit), sixteen), vandq_u8(vtstq_u8(h1, hi_bit), sixteen)};
      for (int v = 0; v < 4; ++v)
        o->q[4 * c + v] = vaddq_s8(o->q[4 * c + v], vreinterpretq_s8_u8(add[v]));
    }
  }
};

// Q3_K: 128-element halves h; 2-bit plane p of qs[32h..32h+31] is elements 128h + 32p + l,
// minus 4 where bit 4h + p of hmask[l] is clear; 6-bit signed scales (offset 32) per 16.
struct FmtQ3_K {
  using Block = BlockQ3_K;
  using Dec = Dec256;
  using Act = BlockQ8_K;
  static constexpr int kMaxAbsQ = 4;
  static constexpr bool kScaled = true, kMins = false, kSub32 = false;
  static constexpr bool kMin1 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->dmin = 0;
    uint32_t aux[4];
    std::memcpy(aux, b.scales, 12);
    const uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f, tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & k2) | (((tmp >> 4) & k1) << 4);
    aux[3] = ((aux[1] >> 4) & k2) | (((tmp >> 6) & k1) << 4);
    aux[0] = (aux[0] & k2) | (((tmp >> 0) & k1) << 4);
    aux[1] = (aux[1] & k2) | (((tmp >> 2) & k1) << 4);
    int8_t sc[16];
    std::memcpy(sc, aux, 16);
    store_s16x16(o->sc, vsubq_s8(vld1q_s8(sc), vdupq_n_s8(32)));
    const uint8x16_t three = vdupq_n_u8(3), four = vdupq_n_u8(4);
    const uint8x16_t m0 = vld1q_u8(b.hmask), m1 = vld1q_u8(b.hmask + 16);
    for (int h = 0; h < 2; ++h) {
      const uint8x16_t v0 = vld1q_u8(b.qs + 32 * h), v1 = vld1q_u8(b.qs + 32 * h + 16);
      for (int p = 0; p < 4; ++p) {
        const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1 << (4 * h + p)));
        const int8x16_t s0 = vreinterpretq_s8_u8(vbicq_u8(four, vtstq_u8(m0, bit)));
        const int8x16_t s1 = vreinterpretq_s8_u8(vbicq_u8(four, vtstq_u8(m1, bit)));
        const int sh = 2 * p;
        const uint8x16_t l0 = vandq_u8(vshlq_u8(v0, vdupq_n_s8(static_cast<int8_t>(-sh))), three);
        const uint8x16_t l1 = vandq_u8(vshlq_u8(v1, vdupq_n_s8(static_cast<int8_t>(-sh))), three);
        o->q[8 * h + 2 * p] = vsubq_s8(vreinterpretq_s8_u8(l0), s0);
        o->q[8 * h + 2 * p + 1] = vsubq_s8(vreinterpretq_s8_u8(l1), s1);
      }
    }
  }
};

// Q6_K: 128-element halves h; q = (4 bits of ql | 2 bits of qh << 4) - 32; int8 scale per 16.
struct FmtQ6_K {
  using Block = BlockQ6_K;
  using Dec = Dec256;
  using Act = BlockQ8_K;
  static constexpr int kMaxAbsQ = 32;
  static constexpr bool kScaled = true, kMins = false, kSub32 = false;
  static constexpr bool kMin1 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->dmin = 0;
    store_s16x16(o->sc, vld1q_s8(b.scales));
    const uint8x16_t low = vdupq_n_u8(0xF), three = vdupq_n_u8(3);
    const int8x16_t off = vdupq_n_s8(32);
    for (int h = 0; h < 2; ++h) {
      for (int i = 0; i < 2; ++i) {  // lanes l = 16i..16i+15 of the half
        const uint8x16_t l0 = vld1q_u8(b.ql + 64 * h + 16 * i);
        const uint8x16_t l1 = vld1q_u8(b.ql + 64 * h + 32 + 16 * i);
        const uint8x16_t qh = vld1q_u8(b.qh + 32 * h + 16 * i);
        const uint8x16_t h0 = vshlq_n_u8(vandq_u8(qh, three), 4);
        const uint8x16_t h1 = vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 2), three), 4);
        const uint8x16_t h2 = vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 4), three), 4);
        const uint8x16_t h3 = vshlq_n_u8(vshrq_n_u8(qh, 6), 4);
        int8x16_t* q = o->q + 8 * h + i;
        q[0] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l0, low), h0)), off);
        q[2] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l1, low), h1)), off);
        q[4] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l0, 4), h2)), off);
        q[6] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l1, 4), h3)), off);
      }
    }
  }
};

// Q2_K: 128-element halves; 2-bit plane p (shift 2p) of bytes qs[32h..32h+31] holds elements
// 128h + 32p .. +31. 4-bit scale (low) and min (high) per 16.
struct FmtQ2_K {
  using Block = BlockQ2_K;
  using Dec = Dec256;
  using Act = BlockQ8_K;
  static constexpr int kMaxAbsQ = 3;
  static constexpr bool kScaled = true, kMins = true, kSub32 = false;
  static constexpr bool kMin1 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->dmin = h2f(b.dmin);
    const uint8x16_t sm = vld1q_u8(b.scales);
    store_s16x16(o->sc, vreinterpretq_s8_u8(vandq_u8(sm, vdupq_n_u8(0xF))));
    store_s16x16(o->mn, vreinterpretq_s8_u8(vshrq_n_u8(sm, 4)));
    const uint8x16_t three = vdupq_n_u8(3);
    for (int h = 0; h < 2; ++h) {
      const uint8x16_t v0 = vld1q_u8(b.qs + 32 * h), v1 = vld1q_u8(b.qs + 32 * h + 16);
      int8x16_t* q = o->q + 8 * h;
      q[0] = vreinterpretq_s8_u8(vandq_u8(v0, three));
      q[1] = vreinterpretq_s8_u8(vandq_u8(v1, three));
      q[2] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v0, 2), three));
      q[3] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v1, 2), three));
      q[4] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v0, 4), three));
      q[5] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v1, 4), three));
      q[6] = vreinterpretq_s8_u8(vshrq_n_u8(v0, 6));
      q[7] = vreinterpretq_s8_u8(vshrq_n_u8(v1, 6));
    }
  }
};

// TQ2_0: q = ((qs[32j + m] >> 2l) & 3) - 1 is element 128j + 32l + m.
struct FmtTQ2_0 {
  using Block = BlockTQ2_0;
  using Dec = Dec256;
  using Act = BlockQ8_K;
  static constexpr int kMaxAbsQ = 2;  // -1..2 (3 is unused but representable)
  static constexpr bool kScaled = false, kMins = false, kSub32 = false;
  static constexpr bool kMin1 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->dmin = 0;
    const uint8x16_t three = vdupq_n_u8(3);
    const int8x16_t one = vdupq_n_s8(1);
    for (int j = 0; j < 2; ++j) {
      const uint8x16_t v0 = vld1q_u8(b.qs + 32 * j), v1 = vld1q_u8(b.qs + 32 * j + 16);
      int8x16_t* q = o->q + 8 * j;
      q[0] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v0, three)), one);
      q[1] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v1, three)), one);
      q[2] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v0, 2), three)), one);
      q[3] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v1, 2), three)), one);
      q[4] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v0, 4), three)), one);
      q[5] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v1, 4), three)), one);
      q[6] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v0, 6)), one);
      q[7] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v1, 6)), one);
    }
  }
};

// Trit of bytes already multiplied by 3^n (mod 256): ((q * 3) >> 8) - 1, as the reference.
inline int8x16_t tq1_trit(uint8x16_t q) {
  const uint8x8_t three = vdup_n_u8(3);
  const uint8x8_t lo = vshrn_n_u16(vmull_u8(vget_low_u8(q), three), 8);
  const uint8x8_t hi = vshrn_n_u16(vmull_high_u8(q, vdupq_n_u8(3)), 8);
  return vsubq_s8(vreinterpretq_s8_u8(vcombine_u8(lo, hi)), vdupq_n_s8(1));
}

// TQ1_0: trit n of qs[m] (m < 32) is element 32n + m; of qs[32 + m] (m < 16) element
// 160 + 16n + m; of qh[j] (n < 4) element 240 + 4n + j.
struct FmtTQ1_0 {
  using Block = BlockTQ1_0;
  using Dec = Dec256;
  using Act = BlockQ8_K;
  static constexpr int kMaxAbsQ = 1;
  static constexpr bool kScaled = false, kMins = false, kSub32 = false;
  static constexpr bool kMin1 = false;
  static void decode(const Block& b, Dec* o) {
    o->d = h2f(b.d);
    o->dmin = 0;
    static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
    const uint8x16_t a0 = vld1q_u8(b.qs), a1 = vld1q_u8(b.qs + 16), a2 = vld1q_u8(b.qs + 32);
    for (int n = 0; n < 5; ++n) {
      const uint8x16_t p = vdupq_n_u8(kPow3[n]);
      o->q[2 * n] = tq1_trit(vmulq_u8(a0, p));
      o->q[2 * n + 1] = tq1_trit(vmulq_u8(a1, p));
      o->q[10 + n] = tq1_trit(vmulq_u8(a2, p));
    }
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    static constexpr uint8_t kPowQh[16] = {1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27};
    o->q[15] = tq1_trit(vmulq_u8(vreinterpretq_u8_u32(vdupq_n_u32(qh)), vld1q_u8(kPowQh)));
  }
};

}  // namespace
}  // namespace nibble::kernels::arm

// The arm integer formats: X(<weight>_<activation>, <traits type>) for each. The ISA folders
// expand it into their registered entry points (NIBBLE_ARM_GEMV_ENTRIES, i8mm/gemm.cpp), so a
// new format is its traits type above, one line here and its registry lines.
#define NIBBLE_ARM_INT_FORMATS(X) \
  X(q8_0_q8_0, FmtQ8_0)           \
  X(q4_0_q8_0, FmtQ4_0)           \
  X(q4_1_q8_1, FmtQ4_1)           \
  X(q5_0_q8_0, FmtQ5_0)           \
  X(q5_1_q8_1, FmtQ5_1)           \
  X(iq4_nl_q8_0, FmtIQ4_NL)       \
  X(q2_k_q8_k, FmtQ2_K)           \
  X(q3_k_q8_k, FmtQ3_K)           \
  X(q4_k_q8_k, FmtQ4_K)           \
  X(q5_k_q8_k, FmtQ5_K)           \
  X(q6_k_q8_k, FmtQ6_K)           \
  X(tq1_0_q8_k, FmtTQ1_0)         \
  X(tq2_0_q8_k, FmtTQ2_0)
