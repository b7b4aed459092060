// Reference quantizers. Activation formats (Q8_0, Q8_1, Q8_K) follow GGUF's reference
// quantizers exactly (their rounding decides the integer sums the kernels must reproduce).
// Weight formats: the 32-block and ternary formats follow the reference's round-to-nearest
// rules; the k-quants use simple min/max scale choices (no iterative search), which is enough
// for tests and the quantize tool's reference path. Every packer is the exact inverse of the
// decoder in decode.cpp (tested: quantize -> decode gives back the chosen integers).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels::ref {
namespace {

// The element of largest magnitude, with its sign.
float signed_absmax(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void q8_0(const float* x, BlockQ8_0* y) {
  float amax = 0;
  for (int j = 0; j < QK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  for (int j = 0; j < QK; ++j) y->qs[j] = static_cast<int8_t>(std::round(x[j] * id));
}

void q8_1(const float* x, BlockQ8_1* y) {
  float amax = 0;
  for (int j = 0; j < QK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
  int sum = 0;
  for (int j = 0; j < QK; ++j) {
    y->qs[j] = static_cast<int8_t>(std::round(x[j] * id));
    sum += y->qs[j];
  }
  y->d = f32_to_fp16(d);
  y->s = f32_to_fp16(static_cast<float>(sum) * d);
}

void q8_k(const float* x, BlockQ8_K* y) {
  const float max = signed_absmax(x, QK_K);
  std::memset(y, 0, sizeof(*y));
  if (max == 0) return;
  const float iscale = -127.0f / max;
  for (int j = 0; j < QK_K; ++j) {
    const int v = static_cast<int>(std::nearbyint(iscale * x[j]));
    y->qs[j] = static_cast<int8_t>(std::min(127, v));
  }
  for (int j = 0; j < QK_K / 16; ++j) {
    int s = 0;
    for (int i = 0; i < 16; ++i) s += y->qs[16 * j + i];
    y->bsums[j] = static_cast<int16_t>(s);
  }
  y->d = 1.0f / iscale;
}

void q4_0(const float* x, BlockQ4_0* y) {
  const float d = signed_absmax(x, QK) / -8.0f, id = d ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  for (int j = 0; j < QK / 2; ++j) {
    const int a = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
    const int b = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
    y->qs[j] = static_cast<uint8_t>(a | (b << 4));
  }
}

void minmax(const float* x, int n, float* mn, float* mx) {
  *mn = x[0];
  *mx = x[0];
  for (int j = 1; j < n; ++j) {
    *mn = std::min(*mn, x[j]);
    *mx = std::max(*mx, x[j]);
  }
}

void q4_1(const float* x, BlockQ4_1* y) {
  float mn, mx;
  minmax(x, QK, &mn, &mx);
  const float d = (mx - mn) / 15.0f, id = d ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  y->m = f32_to_fp16(mn);
  for (int j = 0; j < QK / 2; ++j) {
    const int a = std::min(15, static_cast<int>(static_cast<int8_t>((x[j] - mn) * id + 0.5f)));
    const int b = std::min(15, static_cast<int>(static_cast<int8_t>((x[j + 16] - mn) * id + 0.5f)));
    y->qs[j] = static_cast<uint8_t>(a | (b << 4));
  }
}

void q5_0(const float* x, BlockQ5_0* y) {
  const float d = signed_absmax(x, QK) / -16.0f, id = d ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  uint32_t qh = 0;
  for (int j = 0; j < QK / 2; ++j) {
    const int a = std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f)));
    const int b = std::min(31, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 16.5f)));
    y->qs[j] = static_cast<uint8_t>((a & 0xF) | ((b & 0xF) << 4));
    qh |= static_cast<uint32_t>((a & 0x10) >> 4) << j;
    qh |= static_cast<uint32_t>((b & 0x10) >> 4) << (j + 16);
  }
  std::memcpy(y->qh, &qh, 4);
}

void q5_1(const float* x, BlockQ5_1* y) {
  float mn, mx;
  minmax(x, QK, &mn, &mx);
  const float d = (mx - mn) / 31.0f, id = d ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  y->m = f32_to_fp16(mn);
  uint32_t qh = 0;
  for (int j = 0; j < QK / 2; ++j) {
    const int a = static_cast<int>((x[j] - mn) * id + 0.5f);
    const int b = static_cast<int>((x[j + 16] - mn) * id + 0.5f);
    y->qs[j] = static_cast<uint8_t>((a & 0xF) | ((b & 0xF) << 4));
    qh |= static_cast<uint32_t>((a & 0x10) >> 4) << j;
    qh |= static_cast<uint32_t>((b & 0x10) >> 4) << (j + 16);
  }
  std::memcpy(y->qh, &qh, 4);
}

int nearest_iq4(float v) {
  int best = 0;
  for (int i = 1; i < 16; ++i)
    if (std::fabs(v - kIQ4NLValues[i]) < std::fabs(v - kIQ4NLValues[best])) best = i;
  return best;
}

void iq4_nl(const float* x, BlockIQ4_NL* y) {
  const float d = signed_absmax(x, QK) / kIQ4NLValues[0], id = d ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  for (int j = 0; j < QK / 2; ++j)
    y->qs[j] = static_cast<uint8_t>(nearest_iq4(x[j] * id) | (nearest_iq4(x[j + 16] * id) << 4));
}

void tq2_0(const float* x, BlockTQ2_0* y) {
  float amax = 0;
  for (int j = 0; j < QK_K; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax, id = d ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  std::memset(y->qs, 0, sizeof(y->qs));
  for (int e = 0; e < QK_K; ++e) {  // inverse of decode: e = 128*(j/32) + 32*l + m
    const int j = 32 * (e / 128), l = (e % 128) / 32, m = e % 32;
    const int q = static_cast<int>(std::lround(x[e] * id)) + 1;
    y->qs[j + m] |= static_cast<uint8_t>(q << (2 * l));
  }
}

uint8_t pack_trits(const int* t, int n) {  // t: n trits (0..2), first most significant
  int q = 0;
  for (int i = 0; i < n; ++i) q = q * 3 + t[i];
  for (int i = n; i < 5; ++i) q *= 3;
  return static_cast<uint8_t>((q * 256 + 242) / 243);  // ceiling division by 3^5
}

void tq1_0(const float* x, BlockTQ1_0* y) {
  float amax = 0;
  for (int j = 0; j < QK_K; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax, id = d ? 1.0f / d : 0.0f;
  y->d = f32_to_fp16(d);
  auto t = [&](int e) { return static_cast<int>(std::lround(x[e] * id)) + 1; };
  int tr[5];
  for (int m = 0; m < 32; ++m) {  // elements n*32 + m
    for (int n = 0; n < 5; ++n) tr[n] = t(n * 32 + m);
    y->qs[m] = pack_trits(tr, 5);
  }
  for (int m = 0; m < 16; ++m) {  // elements 160 + n*16 + m
    for (int n = 0; n < 5; ++n) tr[n] = t(160 + n * 16 + m);
    y->qs[32 + m] = pack_trits(tr, 5);
  }
  for (int j = 0; j < 4; ++j) {  // elements 240 + n*4 + j
    for (int n = 0; n < 4; ++n) tr[n] = t(240 + n * 4 + j);
    y->qh[j] = pack_trits(tr, 4);
  }
}

// ---- k-quants: per-sub-block scale (and min) chosen from min/max, then a super-block scale
// for the integer scales. q[e] are the decoded integers (what decode_block returns).

struct KScales {
  float d = 0, dmin = 0;
  int sc[16] = {}, mn[16] = {};
};

// Asymmetric: x ~ d*sc*q - dmin*mn with q in [0, qmax], sc/mn in [0, smax].
void choose_asym(const float* x, int sub, int nsub, int qmax, int smax, KScales* k, int* q) {
  float scale[16], minv[16], max_scale = 0, max_min = 0;
  for (int s = 0; s < nsub; ++s) {
    float mn, mx;
    minmax(x + s * sub, sub, &mn, &mx);
    mn = std::min(mn, 0.0f);
    scale[s] = (mx - mn) / qmax;
    minv[s] = -mn;
    max_scale = std::max(max_scale, scale[s]);
    max_min = std::max(max_min, minv[s]);
  }
  k->d = max_scale / smax;
  k->dmin = max_min / smax;
  // Round the float scales the way the decoder will see them.
  k->d = fp16_to_f32(f32_to_fp16(k->d));
  k->dmin = fp16_to_f32(f32_to_fp16(k->dmin));
  for (int s = 0; s < nsub; ++s) {
    k->sc[s] = k->d ? std::clamp(static_cast<int>(std::lround(scale[s] / k->d)), 0, smax) : 0;
    k->mn[s] = k->dmin ? std::clamp(static_cast<int>(std::lround(minv[s] / k->dmin)), 0, smax) : 0;
    const float ds = k->d * k->sc[s], dm = k->dmin * k->mn[s];
    for (int i = 0; i < sub; ++i) {
      const float v = ds ? (x[s * sub + i] + dm) / ds : 0.0f;
      q[s * sub + i] = std::clamp(static_cast<int>(std::lround(v)), 0, qmax);
    }
  }
}

// Symmetric: x ~ d*sc*q with q in [qmin, qmax] (qmin = -qmax - 1), sc in [-smax-1, smax].
void choose_sym(const float* x, int sub, int nsub, int qmax, int smax, KScales* k, int* q) {
  float scale[16], max_abs_scale = 0;
  for (int s = 0; s < nsub; ++s) {
    scale[s] = signed_absmax(x + s * sub, sub) / -(qmax + 1);
    max_abs_scale = std::max(max_abs_scale, std::fabs(scale[s]));
  }
  k->d = fp16_to_f32(f32_to_fp16(max_abs_scale / smax));
  for (int s = 0; s < nsub; ++s) {
    k->sc[s] = k->d ? std::clamp(static_cast<int>(std::lround(scale[s] / k->d)), -smax - 1, smax)
                    : 0;
    const float ds = k->d * k->sc[s];
    for (int i = 0; i < sub; ++i) {
      const float v = ds ? x[s * sub + i] / ds : 0.0f;
      q[s * sub + i] = std::clamp(static_cast<int>(std::lround(v)), -qmax - 1, qmax);
    }
  }
}

void q2_k(const float* x, BlockQ2_K* y) {
  KScales k;
  int q[QK_K];
  choose_asym(x, 16, 16, 3, 15, &k, q);
  std::memset(y, 0, sizeof(*y));
  y->d = f32_to_fp16(k.d);
  y->dmin = f32_to_fp16(k.dmin);
  for (int s = 0; s < 16; ++s) y->scales[s] = static_cast<uint8_t>(k.sc[s] | (k.mn[s] << 4));
  for (int e = 0; e < QK_K; ++e) {
    const int half = e / 128, r = e % 128;
    y->qs[32 * half + r % 32] |= static_cast<uint8_t>(q[e] << (2 * (r / 32)));
  }
}

void q3_k(const float* x, BlockQ3_K* y) {
  KScales k;
  int q[QK_K];
  choose_sym(x, 16, 16, 3, 31, &k, q);
  std::memset(y, 0, sizeof(*y));
  y->d = f32_to_fp16(k.d);
  for (int j = 0; j < 16; ++j) {
    const int s = k.sc[j] + 32;  // 0..63
    y->scales[j % 8] |= static_cast<uint8_t>((s & 0xF) << (4 * (j / 8)));
    y->scales[8 + j % 4] |= static_cast<uint8_t>((s >> 4) << (2 * (j / 4)));
  }
  for (int e = 0; e < QK_K; ++e) {
    const int half = e / 128, r = e % 128, l = r % 32, plane = r / 32;
    const int qq = q[e] + 4;  // 0..7
    y->qs[32 * half + l] |= static_cast<uint8_t>((qq & 3) << (2 * plane));
    if (qq >> 2) y->hmask[l] |= static_cast<uint8_t>(1 << (4 * half + plane));
  }
}

void pack_k4_scales(const KScales& k, uint8_t* s) {
  std::memset(s, 0, 12);
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((k.sc[j] & 63) | ((k.sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((k.mn[j] & 63) | ((k.mn[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((k.sc[j + 4] & 0xF) | ((k.mn[j + 4] & 0xF) << 4));
  }
}

void q4_k(const float* x, BlockQ4_K* y) {
  KScales k;
  int q[QK_K];
  choose_asym(x, 32, 8, 15, 63, &k, q);
  y->d = f32_to_fp16(k.d);
  y->dmin = f32_to_fp16(k.dmin);
  pack_k4_scales(k, y->scales);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l)
      y->qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
}

void q5_k(const float* x, BlockQ5_K* y) {
  KScales k;
  int q[QK_K];
  choose_asym(x, 32, 8, 31, 63, &k, q);
  y->d = f32_to_fp16(k.d);
  y->dmin = f32_to_fp16(k.dmin);
  pack_k4_scales(k, y->scales);
  std::memset(y->qh, 0, sizeof(y->qh));
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int a = q[64 * c + l], b = q[64 * c + 32 + l];
      y->qs[32 * c + l] = static_cast<uint8_t>((a & 0xF) | ((b & 0xF) << 4));
      if (a & 16) y->qh[l] |= static_cast<uint8_t>(1 << (2 * c));
      if (b & 16) y->qh[l] |= static_cast<uint8_t>(2 << (2 * c));
    }
  }
}

void q6_k(const float* x, BlockQ6_K* y) {
  KScales k;
  int q[QK_K];
  choose_sym(x, 16, 16, 31, 127, &k, q);
  std::memset(y, 0, sizeof(*y));
  y->d = f32_to_fp16(k.d);
  for (int j = 0; j < 16; ++j) y->scales[j] = static_cast<int8_t>(k.sc[j]);
  for (int h = 0; h < 2; ++h) {
    uint8_t* ql = y->ql + 64 * h;
    uint8_t* qh = y->qh + 32 * h;
    const int* v = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      const int a = v[l] + 32, b = v[l + 32] + 32, c = v[l + 64] + 32, e = v[l + 96] + 32;
      ql[l] = static_cast<uint8_t>((a & 0xF) | ((c & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((b & 0xF) | ((e & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
    }
  }
}

template <typename B, void (*F)(const float*, B*)>
void each_block(const float* x, void* dst, int64_t n, int bs) {
  auto* y = static_cast<B*>(dst);
  for (int64_t i = 0; i < n / bs; ++i) F(x + i * bs, y + i);
}

}  // namespace

bool quantize_row(TensorType type, const float* x, void* dst, int64_t n) {
  switch (type) {
    case TensorType::F32: std::memcpy(dst, x, static_cast<size_t>(n) * 4); return true;
    case TensorType::F16: {
      auto* y = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) y[i] = f32_to_fp16(x[i]);
      return true;
    }
    case TensorType::BF16: {
      auto* y = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(x[i]);
      return true;
    }
    case TensorType::Q8_0: each_block<BlockQ8_0, q8_0>(x, dst, n, QK); return true;
    case TensorType::Q8_1: each_block<BlockQ8_1, q8_1>(x, dst, n, QK); return true;
    case TensorType::Q8_K: each_block<BlockQ8_K, q8_k>(x, dst, n, QK_K); return true;
    case TensorType::Q4_0: each_block<BlockQ4_0, q4_0>(x, dst, n, QK); return true;
    case TensorType::Q4_1: each_block<BlockQ4_1, q4_1>(x, dst, n, QK); return true;
    case TensorType::Q5_0: each_block<BlockQ5_0, q5_0>(x, dst, n, QK); return true;
    case TensorType::Q5_1: each_block<BlockQ5_1, q5_1>(x, dst, n, QK); return true;
    case TensorType::IQ4_NL: each_block<BlockIQ4_NL, iq4_nl>(x, dst, n, QK); return true;
    case TensorType::Q2_K: each_block<BlockQ2_K, q2_k>(x, dst, n, QK_K); return true;
    case TensorType::Q3_K: each_block<BlockQ3_K, q3_k>(x, dst, n, QK_K); return true;
    case TensorType::Q4_K: each_block<BlockQ4_K, q4_k>(x, dst, n, QK_K); return true;
    case TensorType::Q5_K: each_block<BlockQ5_K, q5_k>(x, dst, n, QK_K); return true;
    case TensorType::Q6_K: each_block<BlockQ6_K, q6_k>(x, dst, n, QK_K); return true;
    case TensorType::TQ1_0: each_block<BlockTQ1_0, tq1_0>(x, dst, n, QK_K); return true;
    case TensorType::TQ2_0: each_block<BlockTQ2_0, tq2_0>(x, dst, n, QK_K); return true;
    default: return false;
  }
}

}  // namespace nibble::kernels::ref
