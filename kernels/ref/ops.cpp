// Reference row ops: plain loops in f32 (sums in f32 as the reference engine does; the tests
// compare against double-precision versions with stated tolerances).
#include "kernels/ref/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/ref/fp16.h"

namespace nibble::kernels::ref {

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  float ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float s = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s * (w ? w[i] : 1.0f);
}

void softcap(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void softmax(float* x, int64_t n, float scale, float cap) {
  if (n <= 0) return;
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    x[i] *= scale;
    // Masked entries (-inf) stay masked: capping would turn them into -cap.
    if (cap > 0 && std::isfinite(x[i])) x[i] = cap * std::tanh(x[i] / cap);
    mx = std::max(mx, x[i]);
  }
  if (mx == -std::numeric_limits<float>::infinity()) {  // everything masked: uniform zero
    for (int64_t i = 0; i < n; ++i) x[i] = 0;
    return;
  }
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

static float silu1(float v) { return v / (1.0f + std::exp(-v)); }
static float gelu1(float v) {
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;
  return 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * v * (1.0f + 0.044715f * v * v)));
}

void swiglu(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = silu1(g[i]) * u[i];
}
void geglu(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu1(g[i]) * u[i];
}
void add(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
void scale(const float* x, float s, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
}

void rope(float* x, int64_t head_dim, int64_t n_rot, int64_t pos, float base, float freq_scale,
          const float* ff, bool neox) {
  const int64_t half = n_rot / 2;
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(n_rot));
  float theta = static_cast<float>(pos);
  for (int64_t i = 0; i < half; ++i, theta *= theta_scale) {
    const float t = theta * freq_scale / (ff ? ff[i] : 1.0f);
    const float c = std::cos(t), s = std::sin(t);
    const int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
    const float x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
  }
  (void)head_dim;  // dims past n_rot pass through unchanged
}

void attn_scores_f16(const float* q, const uint16_t* k, size_t ks, int64_t hd, int64_t n,
                     float* sc) {
  for (int64_t j = 0; j < n; ++j) {
    const uint16_t* kr = k + j * ks;
    float s = 0;
    for (int64_t i = 0; i < hd; ++i) s += q[i] * fp16_to_f32(kr[i]);
    sc[j] = s;
  }
}

void attn_values_f16(const float* p, const uint16_t* v, size_t vs, int64_t hd, int64_t n,
                     float* out) {
  for (int64_t i = 0; i < hd; ++i) out[i] = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (p[j] == 0) continue;
    const uint16_t* vr = v + j * vs;
    for (int64_t i = 0; i < hd; ++i) out[i] += p[j] * fp16_to_f32(vr[i]);
  }
}

}  // namespace nibble::kernels::ref
