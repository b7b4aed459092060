// Row ops through the resolved KernelTable against double-precision formulas, then every
// row-op table (scalar, and each SIMD ISA compiled in) against the scalar reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/fp16.h"
#include "kernels/ref/ops.h"
#include "kernels/row_ops.h"
#include "tests/kernels/test_data.h"

namespace nibble::kernels {
namespace {

TEST(Ops, RmsNorm) {
  const auto& kt = KernelTable::get();
  const int n = 37;
  auto x = gaussian(n, 1), w = gaussian(n, 2);
  std::vector<float> y(n);
  kt.rmsnorm(x.data(), w.data(), y.data(), n, 1e-5f);
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double s = 1 / std::sqrt(ss / n + 1e-5);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(y[i], x[i] * s * w[i], 1e-5);
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
  kt.geglu(g.data(), u.data(), y.data(), n);
  for (int i = 0; i < n; ++i) {
    const double v = g[i];
    EXPECT_NEAR(y[i],
                0.5 * v *
                    (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (v + 0.044715 * v * v * v))) *
                    u[i],
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

// ---- every row-op table compiled into the binary against the scalar reference -----------------
// Tolerances (also stated in kernels/simd/ops_impl.h): see each test. Tables whose ISA the CPU
// lacks are skipped with the ISA's name.

class Table : public ::testing::TestWithParam<const RowOps*> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam()->isa)) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam()->isa);
  }
  const RowOps& t() const { return *GetParam(); }
};

const int64_t kSizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 896, 1536, 2048, 4099};

std::vector<float> scaled(size_t n, uint32_t seed, float s) {
  auto v = gaussian(n, seed);
  for (auto& x : v) x *= s;
  return v;
}

// Largest |a[i] - b[i]| / (rel * |b[i]| + abs); <= 1 passes.
double worst(const std::vector<float>& a, const std::vector<float>& b, double rel, double abs) {
  double w = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;  // also equal infinities
    w = std::max(w, std::fabs(double(a[i]) - b[i]) / (rel * std::fabs(double(b[i])) + abs));
  }
  return w;
}

TEST_P(Table, ElementwiseOpsAreBitExact) {
  for (int64_t n : kSizes) {
    auto a = gaussian(n, 10 + n), b = gaussian(n, 20 + n);
    std::vector<float> got(n), want(n);
    t().add(a.data(), b.data(), got.data(), n);
    ref::add(a.data(), b.data(), want.data(), n);
    EXPECT_EQ(got, want) << "add n=" << n;
    t().scale(a.data(), 0.3f, got.data(), n);
    ref::scale(a.data(), 0.3f, want.data(), n);
    EXPECT_EQ(got, want) << "scale n=" << n;
  }
}

TEST_P(Table, HalfConversionsAreExact) {
  // Every half, in an odd-length row (vector body + tail).
  std::vector<uint16_t> h(65537);
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i);
  std::vector<float> f(h.size());
  t().f16_to_f32(h.data(), f.data(), static_cast<int64_t>(h.size()));
  for (size_t i = 0; i < h.size(); ++i) {
    const float want = fp16_to_f32(h[i]);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(f[i])) << "half 0x" << std::hex << h[i];
    } else {
      ASSERT_EQ(f32_bits(f[i]), f32_bits(want)) << "half 0x" << std::hex << h[i];
    }
  }
  // Floats: every half value, every midpoint between neighbouring halves (ties), +-1 ulp
  // around each midpoint, random bit patterns (overflow, subnormal results, NaN).
  std::vector<float> x;
  for (uint32_t v = 0; v < 0x7c00; ++v) {
    for (uint32_t s : {0u, 0x8000u}) {
      const float a = fp16_to_f32(static_cast<uint16_t>(v | s));
      const float b = fp16_to_f32(static_cast<uint16_t>((v + 1) | s));
      const float mid = bits_f32((f32_bits(a) + f32_bits(b)) / 2);
      x.insert(x.end(), {a, mid, bits_f32(f32_bits(mid) + 1), bits_f32(f32_bits(mid) - 1)});
    }
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 200001; ++i) x.push_back(bits_f32(static_cast<uint32_t>(rng())));
  std::vector<uint16_t> got(x.size());
  t().f32_to_f16(x.data(), got.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      ASSERT_TRUE((got[i] & 0x7c00) == 0x7c00 && (got[i] & 0x3ff)) << "NaN stays NaN";
    } else {
      ASSERT_EQ(got[i], f32_to_fp16(x[i])) << "float bits 0x" << std::hex << f32_bits(x[i]);
    }
  }
}

// Norms: |got - ref| <= 5e-6 * max |ref| (only the reduction order differs; measured 6e-7).
TEST_P(Table, NormsMatchReference) {
  for (int64_t n : kSizes) {
    auto x = scaled(n, 30 + n, 3.0f), w = gaussian(n, 40 + n);
    for (auto& v : x) v += 0.5f;
    for (bool with_w : {false, true}) {
      std::vector<float> got(n), want(n);
      const float* wp = with_w ? w.data() : nullptr;
      t().rmsnorm(x.data(), wp, got.data(), n, 1e-6f);
      ref::rmsnorm(x.data(), wp, want.data(), n, 1e-6f);
      double mx = 0;
      for (float v : want) mx = std::max(mx, std::fabs(double(v)));
      EXPECT_LE(worst(got, want, 0, 5e-6 * mx), 1.0) << "rmsnorm n=" << n;
      auto inplace = x;  // y == x allowed
      t().rmsnorm(inplace.data(), wp, inplace.data(), n, 1e-6f);
      ref::rmsnorm(x.data(), wp, want.data(), n, 1e-6f);
      for (float v : want) mx = std::max(mx, std::fabs(double(v)));
      EXPECT_LE(worst(inplace, want, 0, 5e-6 * mx), 1.0) << "rmsnorm in place n=" << n;
    }
  }
}

// Softmax: |got - ref| <= 5e-6 * ref + 1e-9 (measured 7e-7); masked entries exactly 0; all masked:
// all 0.
TEST_P(Table, SoftmaxMatchesReference) {
  for (int64_t n : kSizes) {
    for (float cap : {0.0f, 30.0f, 5.0f}) {
      auto x = scaled(n, 60 + n, 8.0f);
      for (int64_t i = 3; i < n; i += 7) x[i] = -INFINITY;
      auto got = x, want = x;
      t().softmax(got.data(), n, 0.125f, cap);
      ref::softmax(want.data(), n, 0.125f, cap);
      EXPECT_LE(worst(got, want, 5e-6, 1e-9), 1.0) << "n=" << n << " cap=" << cap;
      for (int64_t i = 3; i < n; i += 7) EXPECT_EQ(got[i], 0.0f);
    }
    std::vector<float> masked(n, -INFINITY);
    t().softmax(masked.data(), n, 1.0f, 10.0f);
    for (float v : masked) ASSERT_EQ(v, 0.0f);
  }
}

// Activations: |got - ref| <= 4e-6 * |ref| + 2.5e-7 * |x * u| + 1e-7: xsimd exp/tanh vs libm
// differ by a few ulp; the |x| term covers gelu's tail, where 1 + tanh(z) cancels (the
// reference itself loses those digits). Large magnitudes (exp overflow, tanh saturation) too.
TEST_P(Table, ActivationsMatchReference) {
  const auto check = [](const std::vector<float>& got, const std::vector<float>& want,
                        const std::vector<float>& x, const float* u, const char* name, int64_t n) {
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i] == want[i]) continue;
      const double xu = std::fabs(double(x[i]) * (u ? u[i] : 1.0f));
      ASSERT_NEAR(got[i], want[i], 4e-6 * std::fabs(double(want[i])) + 2.5e-7 * xu + 1e-7)
          << name << " n=" << n << " x=" << x[i];
    }
  };
  for (int64_t n : kSizes) {
    auto g = scaled(n, 70 + n, 4.0f), u = gaussian(n, 80 + n);
    const float extremes[] = {0.0f,   -0.0f,  1e-30f,  -1e-30f, 88.0f,
                              -88.0f, 100.0f, -100.0f, 1e30f,   -1e30f};
    for (int64_t i = 0; i < n && i < 10; ++i) g[n - 1 - i] = extremes[i];
    std::vector<float> got(n), want(n);
    t().swiglu(g.data(), u.data(), got.data(), n);
    ref::swiglu(g.data(), u.data(), want.data(), n);
    check(got, want, g, u.data(), "swiglu", n);
    t().geglu(g.data(), u.data(), got.data(), n);
    ref::geglu(g.data(), u.data(), want.data(), n);
    check(got, want, g, u.data(), "geglu", n);
    auto sc = g, sw = g;
    t().softcap(sc.data(), n, 30.0f);
    ref::softcap(sw.data(), n, 30.0f);
    check(sc, sw, g, nullptr, "softcap", n);
  }
}

// RoPE: |got - ref| <= 2e-6 * (|x0| + |x1|) per pair (sin/cos ulps; same angles).
TEST_P(Table, RopeMatchesReference) {
  std::vector<float> ff(128);
  std::mt19937 rng(9);
  for (auto& f : ff) f = 1.0f + static_cast<float>(rng() % 700) / 100.0f;
  for (int64_t hd : {64, 80, 128, 256}) {
    for (int64_t n_rot : {hd, hd / 2}) {
      for (int64_t pos : {0, 1, 37, 4095, 131071}) {
        for (float base : {10000.0f, 1000000.0f}) {
          for (float fs : {1.0f, 0.25f}) {
            for (bool use_ff : {false, true}) {
              for (bool neox : {false, true}) {
                const auto x = gaussian(hd, 90 + static_cast<uint32_t>(pos));
                auto got = x, want = x;
                const float* f = use_ff ? ff.data() : nullptr;
                t().rope(got.data(), hd, n_rot, pos, base, fs, f, neox);
                ref::rope(want.data(), hd, n_rot, pos, base, fs, f, neox);
                for (int64_t i = 0; i < n_rot / 2; ++i) {
                  const int64_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
                  const double mag = std::fabs(double(x[a])) + std::fabs(double(x[b]));
                  ASSERT_NEAR(got[a], want[a], 2e-6 * mag) << "hd=" << hd << " pos=" << pos;
                  ASSERT_NEAR(got[b], want[b], 2e-6 * mag) << "hd=" << hd << " pos=" << pos;
                }
                for (int64_t i = n_rot; i < hd; ++i) ASSERT_EQ(got[i], x[i]) << "pass-through";
              }
            }
          }
        }
      }
    }
  }
}

// Attention: |got - ref| <= 1e-5 * sum |q||k| (scores), 1e-5 * sum |p||v| (values).
TEST_P(Table, AttentionMatchesReference) {
  for (int64_t hd : {20, 64, 80, 128, 256}) {
    for (int64_t n : {1, 3, 5, 17, 512}) {
      const size_t stride = static_cast<size_t>(hd + 8);
      auto q = gaussian(hd, 1), kv = gaussian(n * stride, 2), p = gaussian(n, 3);
      for (int64_t j = 1; j < n; j += 4) p[j] = 0;  // zero weights are skipped
      std::vector<uint16_t> h(n * stride);
      for (size_t i = 0; i < h.size(); ++i) h[i] = f32_to_fp16(kv[i]);
      std::vector<float> got(n), want(n);
      t().attn_scores_f16(q.data(), h.data(), stride, hd, n, got.data());
      ref::attn_scores_f16(q.data(), h.data(), stride, hd, n, want.data());
      for (int64_t j = 0; j < n; ++j) {
        double mag = 0;
        for (int64_t i = 0; i < hd; ++i) mag += std::fabs(q[i] * fp16_to_f32(h[j * stride + i]));
        ASSERT_NEAR(got[j], want[j], 1e-5 * mag) << "scores hd=" << hd << " n=" << n << " j=" << j;
      }
      std::vector<float> out(hd), out_ref(hd);
      t().attn_values_f16(p.data(), h.data(), stride, hd, n, out.data());
      ref::attn_values_f16(p.data(), h.data(), stride, hd, n, out_ref.data());
      for (int64_t i = 0; i < hd; ++i) {
        double mag = 0;
        for (int64_t j = 0; j < n; ++j) mag += std::fabs(p[j] * fp16_to_f32(h[j * stride + i]));
        ASSERT_NEAR(out[i], out_ref[i], 1e-5 * mag)
            << "values hd=" << hd << " n=" << n << " i=" << i;
      }
    }
  }
}

std::string table_name(const ::testing::TestParamInfo<const RowOps*>& info) {
  return info.param->name;
}

INSTANTIATE_TEST_SUITE_P(RowOps, Table,
                         ::testing::ValuesIn(row_op_tables().begin(), row_op_tables().end()),
                         table_name);

TEST(RowOpsDispatch, TableFollowsTheCap) {
  EXPECT_EQ(KernelTable::get(Isa::scalar).row_ops_isa(), Isa::scalar);
  for (const RowOps* t : row_op_tables()) {
    if (!isa_supported(t->isa)) continue;
    // Under a cap equal to a table's ISA, that table (the best one under the cap) is bound.
    const Isa got = KernelTable::get(t->isa).row_ops_isa();
    if (!std::getenv("NIBBLE_ISA")) {
      EXPECT_EQ(isa_name(got), isa_name(t->isa)) << t->name;
    }
    EXPECT_LE(static_cast<int>(got), static_cast<int>(t->isa));
  }
}

}  // namespace
}  // namespace nibble::kernels
