// Error-minimising k-quant and IQ4_NL quantizers (see row.h). The packers write the GGUF block
// layouts of kernels/formats/blocks.h; tests decode the blocks with the reference decoder and
// check that the decoded values are exactly the model chosen here, and that the error is
// never above the reference quantizer's on the same data.
#include "quant/row.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"

namespace nibble::quant {
namespace {

using kernels::QK;
using kernels::QK_K;
using kernels::f32_to_fp16;
using kernels::fp16_to_f32;

float round_half(float v) { return fp16_to_f32(f32_to_fp16(v)); }

// Candidate scales per sub-block: 2 * kSteps + 1 grids around the min/max fit.
constexpr int kSteps = 6;

// Round to nearest (ties away from zero are not needed: any nearest integer is a valid
// choice) without a libm call: adding 1.5 * 2^23 leaves the integer in the low mantissa bits.
// Valid for |v| < 2^22, far beyond any clamp range used here.
inline int iround(float v) {
  float t = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &t, 4);
  return i - 0x4B400000;
}

// ---- one sub-block: x ~ a*q + b, q integer in [0, qmax], b <= 0 (asymmetric) -------------

struct Affine {
  float a = 0, b = 0;
};

// Sums of one assignment q; the least-squares (a, b) and its squared error follow in closed
// form, so each candidate costs one pass over the sub-block.
struct Sums {
  float n = 0, q = 0, x = 0, qq = 0, qx = 0, xx = 0;
};

// Least-squares (a, b) for fixed q, with b clamped to <= 0 (the formats store -b as an
// unsigned min) and a >= 0. Returns the squared error.
float solve_affine(const Sums& s, Affine* out) {
  const float det = s.n * s.qq - s.q * s.q;
  float a = 0, b = 0;
  if (det > 0) {
    a = (s.n * s.qx - s.q * s.x) / det;
    b = (s.x - a * s.q) / s.n;
  }
  if (b > 0 || a <= 0) {  // offset must be <= 0: refit the scale alone
    b = 0;
    a = s.qq > 0 ? std::max(0.0f, s.qx / s.qq) : 0.0f;
  }
  out->a = a;
  out->b = b;
  // sum (a q + b - x)^2 expanded
  return s.xx + a * a * s.qq + s.n * b * b + 2 * a * b * s.q - 2 * a * s.qx - 2 * b * s.x;
}

Sums assign_affine(const float* x, int n, int qmax, float a, float b, int* q) {
  const float ia = a > 0 ? 1.0f / a : 0.0f;
  Sums s;
  s.n = static_cast<float>(n);
  for (int i = 0; i < n; ++i) {
    const int v = std::clamp(iround((x[i] - b) * ia), 0, qmax);
    q[i] = v;
    const float fv = static_cast<float>(v);
    s.q += fv;
    s.x += x[i];
    s.qq += fv * fv;
    s.qx += fv * x[i];
    s.xx += x[i] * x[i];
  }
  return s;
}

// Sums of the assignment for (a, b) without storing it: the candidate-scoring pass. Rounds
// in float (clamp first, then add and subtract 1.5 * 2^23) and keeps four partial sums, so
// the compiler can run four lanes at once; n is a multiple of 4 (16 or 32).
Sums score_affine(const float* x, int n, float qmax, float a, float b, const Sums& xs) {
  const float ia = 1.0f / a;
  float sq[4] = {}, sqq[4] = {}, sqx[4] = {};
  for (int i = 0; i < n; i += 4) {
    for (int j = 0; j < 4; ++j) {
      const float v = std::clamp((x[i + j] - b) * ia, 0.0f, qmax);
      const float r = (v + 12582912.0f) - 12582912.0f;
      sq[j] += r;
      sqq[j] += r * r;
      sqx[j] += r * x[i + j];
    }
  }
  Sums s = xs;
  s.q = (sq[0] + sq[1]) + (sq[2] + sq[3]);
  s.qq = (sqq[0] + sqq[1]) + (sqq[2] + sqq[3]);
  s.qx = (sqx[0] + sqx[1]) + (sqx[2] + sqx[3]);
  return s;
}

// Candidate grids of qmax + 0.1*step levels across [min(x, 0), max(x)], each refitted by
// least squares; the best one gets one more assign + refit round.
Affine search_affine(const float* x, int n, int qmax) {
  float lo = x[0], hi = x[0];
  Sums xs;
  xs.n = static_cast<float>(n);
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
    xs.x += x[i];
    xs.xx += x[i] * x[i];
  }
  lo = std::min(lo, 0.0f);
  if (hi <= lo) return {0, lo};
  Affine best;
  float best_err = INFINITY;
  for (int step = -kSteps; step <= kSteps; ++step) {
    const float a = (hi - lo) / (qmax + 0.1f * step);
    if (a <= 0) continue;
    Affine f;
    const float err = solve_affine(score_affine(x, n, static_cast<float>(qmax), a, lo, xs), &f);
    if (err < best_err) best_err = err, best = f;
  }
  if (best.a > 0) {
    Affine f;
    const float err =
        solve_affine(score_affine(x, n, static_cast<float>(qmax), best.a, best.b, xs), &f);
    if (err < best_err) best = f;
  }
  return best;
}

// ---- one sub-block: x ~ a*q, q in [-nmax, nmax - 1] (symmetric) ----------------------------

float search_symmetric(const float* x, int n, int nmax) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  if (amax == 0) return 0;
  float best_a = max / -nmax, best_gain = -1;
  const float lo = static_cast<float>(-nmax), hi = static_cast<float>(nmax - 1);
  for (int step = -kSteps; step <= kSteps; ++step) {
    const float is = -(nmax + 0.1f * step) / max;
    float px[4] = {}, pq[4] = {};  // four lanes, as in score_affine
    for (int i = 0; i < n; i += 4) {
      for (int j = 0; j < 4; ++j) {
        const float v = std::clamp(is * x[i + j], lo, hi);
        const float q = (v + 12582912.0f) - 12582912.0f;
        px[j] += q * x[i + j];
        pq[j] += q * q;
      }
    }
    const float sqx = (px[0] + px[1]) + (px[2] + px[3]), sqq = (pq[0] + pq[1]) + (pq[2] + pq[3]);
    // error = sum x^2 - sqx^2 / sqq for the least-squares a = sqx / sqq
    if (sqq > 0 && sqx * sqx / sqq > best_gain) best_gain = sqx * sqx / sqq, best_a = sqx / sqq;
  }
  return best_a;
}

// ---- super-blocks ------------------------------------------------------------------------

struct KBlock {
  float d = 0, dmin = 0;
  int sc[16] = {}, mn[16] = {};
  int q[QK_K] = {};
};

// Asymmetric k-quant block: nsub sub-blocks of `sub`, q in [0, qmax], scales in [0, smax].
void kblock_affine(const float* x, int sub, int nsub, int qmax, int smax, KBlock* k) {
  Affine f[16];
  float max_a = 0, max_m = 0;
  for (int s = 0; s < nsub; ++s) {
    f[s] = search_affine(x + s * sub, sub, qmax);
    max_a = std::max(max_a, f[s].a);
    max_m = std::max(max_m, -f[s].b);
  }
  k->d = round_half(max_a / smax);
  k->dmin = round_half(max_m / smax);
  for (int s = 0; s < nsub; ++s) {
    k->sc[s] = k->d > 0 ? std::clamp(iround(f[s].a / k->d), 0, smax) : 0;
    k->mn[s] = k->dmin > 0 ? std::clamp(iround(-f[s].b / k->dmin), 0, smax) : 0;
    assign_affine(x + s * sub, sub, qmax, k->d * k->sc[s], -k->dmin * k->mn[s], k->q + s * sub);
  }
}

// Symmetric k-quant block: q in [-nmax, nmax - 1], signed scales in [-smax - 1, smax].
void kblock_symmetric(const float* x, int sub, int nsub, int nmax, int smax, KBlock* k) {
  float a[16], max_abs = 0;
  for (int s = 0; s < nsub; ++s) {
    a[s] = search_symmetric(x + s * sub, sub, nmax);
    max_abs = std::max(max_abs, std::fabs(a[s]));
  }
  k->d = round_half(max_abs / smax);
  for (int s = 0; s < nsub; ++s) {
    k->sc[s] = k->d > 0 ? std::clamp(iround(a[s] / k->d), -smax - 1, smax) : 0;
    const float ds = k->d * k->sc[s], ids = ds != 0 ? 1.0f / ds : 0.0f;
    for (int i = 0; i < sub; ++i)
      k->q[s * sub + i] = std::clamp(iround(x[s * sub + i] * ids), -nmax, nmax - 1);
  }
}

// ---- packers (layouts as in kernels/formats/blocks.h and the reference decoder) ------------

void pack_q2_k(const KBlock& k, kernels::BlockQ2_K* y) {
  std::memset(y, 0, sizeof(*y));
  y->d = f32_to_fp16(k.d);
  y->dmin = f32_to_fp16(k.dmin);
  for (int s = 0; s < 16; ++s) y->scales[s] = static_cast<uint8_t>(k.sc[s] | (k.mn[s] << 4));
  for (int e = 0; e < QK_K; ++e) {
    const int half = e / 128, r = e % 128;
    y->qs[32 * half + r % 32] |= static_cast<uint8_t>(k.q[e] << (2 * (r / 32)));
  }
}

void pack_q3_k(const KBlock& k, kernels::BlockQ3_K* y) {
  std::memset(y, 0, sizeof(*y));
  y->d = f32_to_fp16(k.d);
  for (int j = 0; j < 16; ++j) {
    const int s = k.sc[j] + 32;
    y->scales[j % 8] |= static_cast<uint8_t>((s & 0xF) << (4 * (j / 8)));
    y->scales[8 + j % 4] |= static_cast<uint8_t>((s >> 4) << (2 * (j / 4)));
  }
  for (int e = 0; e < QK_K; ++e) {
    const int half = e / 128, r = e % 128, l = r % 32, plane = r / 32;
    const int qq = k.q[e] + 4;
    y->qs[32 * half + l] |= static_cast<uint8_t>((qq & 3) << (2 * plane));
    if (qq >> 2) y->hmask[l] |= static_cast<uint8_t>(1 << (4 * half + plane));
  }
}

void pack_k4_scales(const KBlock& k, uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((k.sc[j] & 63) | ((k.sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((k.mn[j] & 63) | ((k.mn[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((k.sc[j + 4] & 0xF) | ((k.mn[j + 4] & 0xF) << 4));
  }
}

void pack_q4_k(const KBlock& k, kernels::BlockQ4_K* y) {
  y->d = f32_to_fp16(k.d);
  y->dmin = f32_to_fp16(k.dmin);
  pack_k4_scales(k, y->scales);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l)
      y->qs[32 * c + l] = static_cast<uint8_t>(k.q[64 * c + l] | (k.q[64 * c + 32 + l] << 4));
}

void pack_q5_k(const KBlock& k, kernels::BlockQ5_K* y) {
  y->d = f32_to_fp16(k.d);
  y->dmin = f32_to_fp16(k.dmin);
  pack_k4_scales(k, y->scales);
  std::memset(y->qh, 0, sizeof(y->qh));
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int a = k.q[64 * c + l], b = k.q[64 * c + 32 + l];
      y->qs[32 * c + l] = static_cast<uint8_t>((a & 0xF) | ((b & 0xF) << 4));
      if (a & 16) y->qh[l] |= static_cast<uint8_t>(1 << (2 * c));
      if (b & 16) y->qh[l] |= static_cast<uint8_t>(2 << (2 * c));
    }
  }
}

void pack_q6_k(const KBlock& k, kernels::BlockQ6_K* y) {
  y->d = f32_to_fp16(k.d);
  for (int j = 0; j < 16; ++j) y->scales[j] = static_cast<int8_t>(k.sc[j]);
  for (int h = 0; h < 2; ++h) {
    uint8_t* ql = y->ql + 64 * h;
    uint8_t* qh = y->qh + 32 * h;
    const int* v = k.q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      const int a = v[l] + 32, b = v[l + 32] + 32, c = v[l + 64] + 32, e = v[l + 96] + 32;
      ql[l] = static_cast<uint8_t>((a & 0xF) | ((c & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((b & 0xF) | ((e & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
    }
  }
}

// IQ4_NL: x ~ d * kIQ4NLValues[q]. Candidate d around max / -127 (the code book's extreme),
// each scored by the least-squares refit for its indices (closed form); the best refit d,
// rounded to fp16, picks the final indices.
void iq4_nl_block(const float* x, kernels::BlockIQ4_NL* y) {
  const int8_t* kv = kernels::kIQ4NLValues;
  float amax = 0, max = 0, xx = 0;
  for (int i = 0; i < QK; ++i) {
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
    xx += x[i] * x[i];
  }
  auto nearest = [&](float v) {  // binary search in the sorted code book
    int b = 0;
    for (int step = 8; step; step >>= 1)
      if (b + step < 16 && kv[b + step] <= v) b += step;
    if (b < 15 && kv[b + 1] - v < v - kv[b]) ++b;
    return b;
  };
  float best_d = max / kv[0], best_err = INFINITY;
  for (int step = -kSteps; step <= kSteps && amax > 0; ++step) {
    const float id = (kv[0] + step) / max;
    float sxv = 0, svv = 0;
    for (int i = 0; i < QK; ++i) {
      const float v = kv[nearest(x[i] * id)];
      sxv += x[i] * v;
      svv += v * v;
    }
    if (svv <= 0) continue;
    const float err = xx - sxv * sxv / svv;
    if (err < best_err) best_err = err, best_d = sxv / svv;
  }
  best_d = round_half(best_d);
  const float id = best_d != 0 ? 1.0f / best_d : 0.0f;
  y->d = f32_to_fp16(best_d);
  for (int j = 0; j < QK / 2; ++j)
    y->qs[j] = static_cast<uint8_t>(nearest(x[j] * id) | (nearest(x[j + 16] * id) << 4));
}

template <typename B, typename F>
void blocks(const float* x, void* dst, int64_t n, int bs, F f) {
  auto* y = static_cast<B*>(dst);
  for (int64_t i = 0; i < n / bs; ++i) f(x + i * bs, y + i);
}

}  // namespace

uint64_t row_bytes(TensorType type, uint64_t n) {
  const TensorTypeInfo ti = tensor_type_info(type);
  return ti.block_size ? n / ti.block_size * ti.type_size : 0;
}

bool quantize_row_simple(TensorType type, const float* src, void* dst, int64_t n) {
  return kernels::ref::quantize_row(type, src, dst, n);
}

bool quantize_row(TensorType type, const float* x, void* dst, int64_t n) {
  using namespace kernels;
  KBlock k;
  switch (type) {
    case TensorType::Q2_K:
      blocks<BlockQ2_K>(x, dst, n, QK_K, [&](const float* b, BlockQ2_K* y) {
        kblock_affine(b, 16, 16, 3, 15, &k);
        pack_q2_k(k, y);
      });
      return true;
    case TensorType::Q3_K:
      blocks<BlockQ3_K>(x, dst, n, QK_K, [&](const float* b, BlockQ3_K* y) {
        kblock_symmetric(b, 16, 16, 4, 31, &k);
        pack_q3_k(k, y);
      });
      return true;
    case TensorType::Q4_K:
      blocks<BlockQ4_K>(x, dst, n, QK_K, [&](const float* b, BlockQ4_K* y) {
        kblock_affine(b, 32, 8, 15, 63, &k);
        pack_q4_k(k, y);
      });
      return true;
    case TensorType::Q5_K:
      blocks<BlockQ5_K>(x, dst, n, QK_K, [&](const float* b, BlockQ5_K* y) {
        kblock_affine(b, 32, 8, 31, 63, &k);
        pack_q5_k(k, y);
      });
      return true;
    case TensorType::Q6_K:
      blocks<BlockQ6_K>(x, dst, n, QK_K, [&](const float* b, BlockQ6_K* y) {
        kblock_symmetric(b, 16, 16, 32, 127, &k);
        pack_q6_k(k, y);
      });
      return true;
    case TensorType::IQ4_NL:
      blocks<BlockIQ4_NL>(x, dst, n, QK, iq4_nl_block);
      return true;
    default:
      return kernels::ref::quantize_row(type, x, dst, n);
  }
}

}  // namespace nibble::quant
