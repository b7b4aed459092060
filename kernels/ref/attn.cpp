// Scalar reference of the attention kernels (kernels/attention.h states the arithmetic): plain
// loops, f32 accumulation in position and dimension order, libm exp/tanh.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/attention.h"
#include "kernels/formats/blocks.h"
#include "kernels/ref/fp16.h"

namespace nibble::kernels::ref {
namespace {

// Position j's row (head_dim floats) of V or of an f16 K, converted exactly to f32. K's row is
// first gathered from its group (attn_k_get) into `raw` (the head row's bytes).
void load_row(const AttnBlock& b, bool key, int64_t j, float* out, uint8_t* raw) {
  const uint8_t* r = b.v + static_cast<size_t>(j) * b.row_bytes;
  if (key) attn_k_get(b.k, b.head_dim, b.q8_0, j, raw), r = raw;
  if (b.q8_0) {
    const auto* blk = reinterpret_cast<const BlockQ8_0*>(r);
    for (int64_t i = 0; i < b.head_dim; ++i)
      out[i] = fp16_to_f32(blk[i / QK].d) * static_cast<float>(blk[i / QK].qs[i % QK]);
  } else {
    const auto* h = reinterpret_cast<const uint16_t*>(r);
    for (int64_t i = 0; i < b.head_dim; ++i) out[i] = fp16_to_f32(h[i]);
  }
}

// fma(a, b, c) rounded once, in double: a * b is exact in double, the sum is rounded to odd
// (the TwoSum error decides the last bit), and a round-to-odd double with 53 >= 24 + 2 bits
// rounds to the same float as the exact value. Not std::fma: mingw-w64's float fma rounds
// through double twice (seen under wine), and no x86-64 baseline instruction fuses.
float fma_once(float a, float b, float c) {
  const double p = static_cast<double>(a) * b, t = p + c;
  if (!std::isfinite(t)) return static_cast<float>(t);
  const double bp = t - c, e = (p - bp) + (c - (t - bp));
  double r = t;
  uint64_t bits;
  std::memcpy(&bits, &r, sizeof bits);
  if (e != 0 && (bits & 1) == 0) {
    bits += (e > 0) == (t > 0) ? 1 : static_cast<uint64_t>(-1);
    std::memcpy(&r, &bits, sizeof r);
  }
  return static_cast<float>(r);
}

// Position j's score over a q8_0 K (kernels/attention.h): per 32-dimension block the exact
// integer dot product, combined in block order by fma(isum, dq * dk, s).
float q8_score(const AttnBlock& b, const AttnQ8* q, int64_t j, uint8_t* raw) {
  attn_k_get(b.k, b.head_dim, true, j, raw);
  const auto* blk = reinterpret_cast<const BlockQ8_0*>(raw);
  float s = 0;
  for (int64_t c = 0; c < b.head_dim / QK; ++c) {
    int32_t isum = 0;
    for (int e = 0; e < QK; ++e) isum += static_cast<int32_t>(q[c].qs[e]) * blk[c].qs[e];
    s = fma_once(static_cast<float>(isum), q[c].d * fp16_to_f32(blk[c].d), s);
  }
  return s;
}

}  // namespace

void attn_scores(const AttnBlock& b) {
  const int64_t hd = b.head_dim, hp = attn_padded(hd);
  float* row = b.scratch;
  auto* raw = reinterpret_cast<uint8_t*>(b.scratch + hp);  // attn_row_bytes <= 2 hp floats
  for (int i = 0; i < b.nq; ++i) {
    const float* q = b.q8_0 ? nullptr : b.q + i * hp;
    float* s = b.s + i * b.s_stride;
    std::fill(s, s + kAttnBlock, -std::numeric_limits<float>::infinity());
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = b.lo[i]; j < b.hi[i]; ++j) {
      float d = 0;
      if (b.q8_0) {
        d = q8_score(b, b.q8 + i * (hd / QK), j, raw);
      } else {
        load_row(b, true, j, row, raw);
        for (int64_t c = 0; c < hd; ++c) d += q[c] * row[c];
      }
      d *= b.scale;
      if (b.softcap > 0) d = b.softcap * std::tanh(d / b.softcap);
      s[j] = d;
      m = std::max(m, d);
    }
    b.m[i] = m;
  }
}

float attn_expsum(float* s, int32_t lo, int32_t hi, float m) {
  float l = 0;
  for (int32_t j = lo; j < hi; ++j) {
    s[j] = std::exp(s[j] - m);
    l += s[j];
  }
  return l;
}

void attn_values(const AttnBlock& b) {
  const int64_t hd = b.head_dim, hp = attn_padded(hd);
  float* row = b.scratch;
  // accumulate: the block's sum in its own row (the scratch's second row), then added to the
  // running one.
  float* block = b.scratch + hp;
  for (int i = 0; i < b.nq; ++i) {
    if (b.lo[i] >= b.hi[i]) continue;
    const float* p = b.s + i * b.s_stride;
    float* out = b.a + i * hp;
    float* a = b.accumulate ? block : out;
    std::fill(a, a + hp, 0.0f);
    for (int64_t j = b.lo[i]; j < b.hi[i]; ++j) {
      load_row(b, false, j, row, nullptr);
      const float ph = fp16_to_f32(f32_to_fp16(p[j] * b.inv_l[i]));
      for (int64_t c = 0; c < hd; ++c) a[c] += ph * row[c];
    }
    if (b.accumulate)
      for (int64_t c = 0; c < hp; ++c) out[c] = out[c] + a[c];
  }
}

}  // namespace nibble::kernels::ref
