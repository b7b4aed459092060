// Row ops through the resolved KernelTable against double-precision formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/fp16.h"

namespace nibble::kernels {
namespace {

std::vector<float> gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(Ops, RmsNormAndLayerNorm) {
  const auto& kt = KernelTable::get();
  const int n = 37;
  auto x = gaussian(n, 1), w = gaussian(n, 2), b = gaussian(n, 3);
  std::vector<float> y(n);
  kt.rmsnorm(x.data(), w.data(), y.data(), n, 1e-5f);
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double s = 1 / std::sqrt(ss / n + 1e-5);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(y[i], x[i] * s * w[i], 1e-5);
  kt.layernorm(x.data(), w.data(), b.data(), y.data(), n, 1e-5f);
  double mean = 0, var = 0;
  for (float v : x) mean += v;
  mean /= n;
  for (float v : x) var += (v - mean) * (v - mean);
  const double is = 1 / std::sqrt(var / n + 1e-5);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(y[i], (x[i] - mean) * is * w[i] + b[i], 1e-5);
}

TEST(Ops, SoftmaxWithScaleSoftcapAndMask) {
  const auto& kt = KernelTable::get();
  std::vector<float> x = {1.0f, 2.0f, -INFINITY, 30.0f};
  kt.softmax(x.data(), 4, 0.5f, 5.0f);
  double z[4] = {5 * std::tanh(0.1), 5 * std::tanh(0.2), 0, 5 * std::tanh(3.0)};
  const double sum = std::exp(z[0]) + std::exp(z[1]) + std::exp(z[3]);
  EXPECT_NEAR(x[0], std::exp(z[0]) / sum, 1e-6);
  EXPECT_NEAR(x[1], std::exp(z[1]) / sum, 1e-6);
  EXPECT_EQ(x[2], 0.0f);
  EXPECT_NEAR(x[3], std::exp(z[3]) / sum, 1e-6);
}

TEST(Ops, ActivationsAndGlu) {
  const auto& kt = KernelTable::get();
  const int n = 19;
  auto g = gaussian(n, 4), u = gaussian(n, 5);
  std::vector<float> y(n);
  kt.swiglu(g.data(), u.data(), y.data(), n);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(y[i], g[i] / (1 + std::exp(-double(g[i]))) * u[i], 1e-6);
  kt.gelu(g.data(), y.data(), n);
  for (int i = 0; i < n; ++i) {
    const double v = g[i];
    EXPECT_NEAR(y[i], 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))),
                1e-6);
  }
}

TEST(Ops, RopeNormalAndNeox) {
  const auto& kt = KernelTable::get();
  const int hd = 8;
  auto x = gaussian(hd, 6);
  for (bool neox : {false, true}) {
    auto y = x;
    const float ff[4] = {1, 1, 2, 1};
    kt.rope(y.data(), hd, hd, 3, 10000.0f, 1.0f, ff, neox);
    for (int i = 0; i < hd / 2; ++i) {
      const double theta = 3 * std::pow(10000.0, -2.0 * i / hd) / ff[i];
      const int a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
      EXPECT_NEAR(y[a], x[a] * std::cos(theta) - x[b] * std::sin(theta), 1e-5);
      EXPECT_NEAR(y[b], x[a] * std::sin(theta) + x[b] * std::cos(theta), 1e-5);
    }
  }
}

TEST(Ops, AttentionOverF16Cache) {
  const auto& kt = KernelTable::get();
  const int hd = 20, n = 5, stride = 24;
  auto q = gaussian(hd, 7), kv = gaussian(n * stride, 8), p = gaussian(n, 9);
  std::vector<uint16_t> h(n * stride);
  for (size_t i = 0; i < h.size(); ++i) h[i] = f32_to_fp16(kv[i]);
  std::vector<float> sc(n), out(hd);
  kt.attn_scores_f16(q.data(), h.data(), stride, hd, n, sc.data());
  kt.attn_values_f16(p.data(), h.data(), stride, hd, n, out.data());
  for (int j = 0; j < n; ++j) {
    double s = 0;
    for (int i = 0; i < hd; ++i) s += q[i] * fp16_to_f32(h[j * stride + i]);
    EXPECT_NEAR(sc[j], s, 1e-4);
  }
  for (int i = 0; i < hd; ++i) {
    double s = 0;
    for (int j = 0; j < n; ++j) s += p[j] * fp16_to_f32(h[j * stride + i]);
    EXPECT_NEAR(out[i], s, 1e-4);
  }
}

}  // namespace
}  // namespace nibble::kernels
