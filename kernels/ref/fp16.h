// Exact IEEE half <-> float and bfloat16 <-> float conversions (round to nearest even), in
// portable C++ (no F16C / NEON fp16: this is the reference the SIMD conversions must match).
#pragma once

#include <cstdint>
#include <cstring>

namespace nibble::kernels {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float fp16_to_f32(uint16_t h) {
  const uint32_t s = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t e = (h >> 10) & 31, m = h & 1023;
  if (e == 0) {  // zero / subnormal: m * 2^-24
    const float v = static_cast<float>(m) * (1.0f / 16777216.0f);
    return s ? -v : v;
  }
  if (e == 31) return bits_f32(s | 0x7f800000u | (m << 13));
  return bits_f32(s | ((e + 112) << 23) | (m << 13));
}

inline uint16_t f32_to_fp16(float f) {
  uint32_t x = f32_bits(f);
  const uint32_t sign = x & 0x80000000u;
  x ^= sign;
  uint16_t o;
  if (x >= (127u + 16u) << 23) {          // >= 65536, inf or nan
    o = x > (255u << 23) ? 0x7e00 : 0x7c00;
  } else if (x < (113u << 23)) {          // result is subnormal or zero: let the FPU round
    const float magic = bits_f32(((127u - 15u) + (23u - 10u) + 1u) << 23);
    o = static_cast<uint16_t>(f32_bits(bits_f32(x) + magic) - f32_bits(magic));
  } else {                                // normal: rebias, round to nearest even
    const uint32_t odd = (x >> 13) & 1;
    x += ((15u - 127u) << 23) + 0xfffu + odd;
    o = static_cast<uint16_t>(x >> 13);   // mantissa overflow carries into the exponent (inf)
  }
  return static_cast<uint16_t>(o | (sign >> 16));
}

inline float bf16_to_f32(uint16_t h) { return bits_f32(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // quiet nan
  return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

}  // namespace nibble::kernels
