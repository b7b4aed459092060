// Formats: exact conversions, hand-built blocks decoded as GGUF defines them, packers that
// invert the decoders, and per-format quantization error budgets on Gaussian data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels {
namespace {

TEST(Fp16, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_fp16(f), h) << "half 0x" << std::hex << h;
  }
  EXPECT_EQ(f32_to_fp16(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(f32_to_fp16(65519.0f), 0x7bff);
  EXPECT_EQ(f32_to_fp16(1.0f + 1.0f / 2048), 0x3c00);  // tie to even
  EXPECT_EQ(f32_to_fp16(5.96e-8f), 0x0001);            // smallest subnormal
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
}

TEST(Decode, HandBuiltQ4_0Block) {
  BlockQ4_0 b{};
  b.d = f32_to_fp16(0.5f);
  b.qs[0] = 0x1F;  // element 0: 15 - 8 = 7; element 16: 1 - 8 = -7
  for (int j = 1; j < 16; ++j) b.qs[j] = 0x88;
  float y[32];
  ASSERT_TRUE(ref::dequantize_row(TensorType::Q4_0, &b, y, 32));
  EXPECT_EQ(y[0], 3.5f);
  EXPECT_EQ(y[16], -3.5f);
  EXPECT_EQ(y[1], 0.0f);
}

TEST(Decode, HandBuiltQ6_KBlock) {
  BlockQ6_K b{};
  b.d = f32_to_fp16(1.0f);
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(j + 1);
  b.ql[0] = 0x21;   // element 0 low nibble 1, element 64 low nibble 2
  b.qh[0] = 0x02;   // element 0 high bits 2 -> q = 1 | 2 << 4 = 33 -> 1
  float y[256];
  ASSERT_TRUE(ref::dequantize_row(TensorType::Q6_K, &b, y, 256));
  EXPECT_EQ(y[0], 1.0f * 1 * (33 - 32));
  EXPECT_EQ(y[64], 5.0f * (2 - 32));  // sub-block 4 has scale 5
}

// Ternary inputs survive the ternary formats exactly: their packers invert their decoders.
TEST(Pack, TernaryFormatsAreExactOnTernaryData) {
  std::mt19937 rng(5);
  std::vector<float> x(512);
  for (auto& v : x) v = static_cast<float>(static_cast<int>(rng() % 3) - 1) * 0.25f;
  x[0] = 0.25f;
  x[256] = -0.25f;
  for (TensorType t : {TensorType::TQ1_0, TensorType::TQ2_0}) {
    std::vector<uint8_t> q(2 * tensor_type_info(t).type_size);
    std::vector<float> y(512);
    ASSERT_TRUE(ref::quantize_row(t, x.data(), q.data(), 512));
    ASSERT_TRUE(ref::dequantize_row(t, q.data(), y.data(), 512));
    for (int i = 0; i < 512; ++i) ASSERT_EQ(y[i], x[i]) << tensor_type_name(t) << " " << i;
  }
}

// Integers on the format's grid survive: checks every packer against its decoder.
TEST(Pack, GridValuesSurvive) {
  struct Case { TensorType t; int lo, hi; };
  for (Case c : {Case{TensorType::Q8_0, -127, 127}, Case{TensorType::Q4_0, -8, 7},
                 Case{TensorType::Q5_0, -16, 15}, Case{TensorType::Q6_K, -32, 31}}) {
    std::mt19937 rng(11);
    std::vector<float> x(256);
    for (int b = 0; b < 256; b += 16) {  // 16: the smallest sub-block of these formats
      for (int i = 0; i < 16; ++i) x[b + i] = static_cast<float>(c.lo + static_cast<int>(rng() % (c.hi - c.lo + 1)));
      x[b] = static_cast<float>(c.t == TensorType::Q8_0 ? c.hi : c.lo);  // pins the scale to 1
    }
    std::vector<uint8_t> q(8 * 300);
    std::vector<float> y(256);
    ASSERT_TRUE(ref::quantize_row(c.t, x.data(), q.data(), 256));
    ASSERT_TRUE(ref::dequantize_row(c.t, q.data(), y.data(), 256));
    for (int i = 0; i < 256; ++i)
      ASSERT_NEAR(y[i], x[i], 1e-3 * std::fabs(x[i]) + 1e-3) << tensor_type_name(c.t) << " " << i;
  }
}

struct Budget {
  TensorType type;
  double rmse;     // quantize -> dequantize, unit Gaussian
  double dot_rel;  // |dot(W, X) - exact| / sqrt(k), activations in the partner format
};

class ErrorBudget : public ::testing::TestWithParam<Budget> {};

TEST_P(ErrorBudget, QuantizationAndDotErrorWithinBudget) {
  const Budget b = GetParam();
  constexpr int64_t k = 4096;
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0, 1);
  std::vector<float> w(k), x(k), y(k);
  for (auto& v : w) v = dist(rng);
  for (auto& v : x) v = dist(rng);
  const auto info = tensor_type_info(b.type);
  std::vector<uint8_t> wq(k / info.block_size * info.type_size);
  ASSERT_TRUE(ref::quantize_row(b.type, w.data(), wq.data(), k));
  ASSERT_TRUE(ref::dequantize_row(b.type, wq.data(), y.data(), k));
  double se = 0, exact = 0;
  for (int64_t i = 0; i < k; ++i) {
    se += (y[i] - w[i]) * (y[i] - w[i]);
    exact += static_cast<double>(w[i]) * x[i];
  }
  const double rmse = std::sqrt(se / k);
  const TensorType at = ref::activation_type(b.type);
  const auto ainfo = tensor_type_info(at);
  std::vector<uint8_t> xq(k / ainfo.block_size * ainfo.type_size);
  ASSERT_TRUE(ref::quantize_row(at, x.data(), xq.data(), k));
  const double dot_err = std::fabs(ref::dot_row(b.type, wq.data(), xq.data(), k) - exact) /
                         std::sqrt(static_cast<double>(k));
  std::printf("[budget] %-6s rmse %.5f (budget %.3f)  dot err/sqrt(k) %.5f (budget %.3f)\n",
              std::string(tensor_type_name(b.type)).c_str(), rmse, b.rmse, dot_err, b.dot_rel);
  EXPECT_LT(rmse, b.rmse);
  EXPECT_LT(dot_err, b.dot_rel);
}

// Budgets: measured values (printed by the test) with ~30% margin; Gaussian data is the worst
// case for the ternary formats, which are meant for weights trained to be ternary.
INSTANTIATE_TEST_SUITE_P(
    Formats, ErrorBudget,
    ::testing::Values(Budget{TensorType::F16, 3e-4, 0.01}, Budget{TensorType::BF16, 3e-3, 0.01},
                      Budget{TensorType::Q8_0, 0.01, 0.02}, Budget{TensorType::Q4_0, 0.13, 0.3},
                      Budget{TensorType::Q4_1, 0.11, 0.2}, Budget{TensorType::Q5_0, 0.065, 0.1},
                      Budget{TensorType::Q5_1, 0.055, 0.1}, Budget{TensorType::IQ4_NL, 0.13, 0.2},
                      Budget{TensorType::Q2_K, 0.45, 0.6}, Budget{TensorType::Q3_K, 0.25, 0.35},
                      Budget{TensorType::Q4_K, 0.12, 0.2}, Budget{TensorType::Q5_K, 0.06, 0.1},
                      Budget{TensorType::Q6_K, 0.035, 0.06}, Budget{TensorType::TQ1_0, 0.85, 1.2},
                      Budget{TensorType::TQ2_0, 0.85, 1.2}),
    [](const auto& info) { return std::string(tensor_type_name(info.param.type)); });

}  // namespace
}  // namespace nibble::kernels
