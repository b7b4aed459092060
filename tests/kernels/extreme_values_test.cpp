// Every registered integer matmul variant against the reference on weight blocks that no
// quantizer would produce: all-ones, all-0x80 and random bit patterns (as a hostile or unusual
// GGUF file may hold: Q8_0 quants of -128, 6-bit scales and mins of 63, Q6_K scales of -128,
// TQ1_0 bytes above 242), with finite fp16 scales, against activations at the extremes of
// their quantizer's range (all +127, all -127, random). Checks the overflow bounds the kernel
// files document: the int32 sums must still be exact, so results match the reference up to
// f32 summation order. Also: shapes larger than any kernel tile. Variants the CPU cannot run are
// skipped with the ISA's name.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"
#include "kernels/registry.h"
#include "tests/kernels/variant_layout.h"
#include "tests/kernels/variant_printer.h"

namespace nibble::kernels {
namespace {

// Overwrites the fp16 scale fields of one weight block with finite values; false for formats
// this test does not know (floats, or a format added later: then it is not covered here).
bool set_scales(TensorType t, uint8_t* b, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-0.01f, 0.01f);
  auto put = [&](size_t off, bool positive = false) {
    float v = dist(rng);
    if (positive) v = std::fabs(v);
    const uint16_t h = f32_to_fp16(v);
    std::memcpy(b + off, &h, 2);
  };
  switch (t) {
    case TensorType::Q4_0:
      put(offsetof(BlockQ4_0, d));
      return true;
    case TensorType::Q4_1:
      put(offsetof(BlockQ4_1, d)), put(offsetof(BlockQ4_1, m));
      return true;
    case TensorType::Q5_0:
      put(offsetof(BlockQ5_0, d));
      return true;
    case TensorType::Q5_1:
      put(offsetof(BlockQ5_1, d)), put(offsetof(BlockQ5_1, m));
      return true;
    case TensorType::Q8_0:
      put(offsetof(BlockQ8_0, d));
      return true;
    case TensorType::IQ4_NL:
      put(offsetof(BlockIQ4_NL, d));
      return true;
    case TensorType::Q2_K:
      put(offsetof(BlockQ2_K, d)), put(offsetof(BlockQ2_K, dmin), true);
      return true;
    case TensorType::Q3_K:
      put(offsetof(BlockQ3_K, d));
      return true;
    case TensorType::Q4_K:
      put(offsetof(BlockQ4_K, d)), put(offsetof(BlockQ4_K, dmin), true);
      return true;
    case TensorType::Q5_K:
      put(offsetof(BlockQ5_K, d)), put(offsetof(BlockQ5_K, dmin), true);
      return true;
    case TensorType::Q6_K:
      put(offsetof(BlockQ6_K, d));
      return true;
    case TensorType::TQ1_0:
      put(offsetof(BlockTQ1_0, d));
      return true;
    case TensorType::TQ2_0:
      put(offsetof(BlockTQ2_0, d));
      return true;
    default:
      return false;
  }
}

// One activation row of `nb` blocks in format `at` whose quants all equal `fill` (or are
// random in -127..127 when fill == 0), with consistent block sums.
std::vector<uint8_t> activation_row(TensorType at, int64_t nb, int fill, std::mt19937& rng) {
  std::uniform_int_distribution<int> q(-127, 127);
  auto val = [&] { return static_cast<int8_t>(fill ? fill : q(rng)); };
  const auto info = tensor_type_info(at);
  std::vector<uint8_t> row(static_cast<size_t>(nb) * info.type_size);
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t* p = row.data() + i * info.type_size;
    if (at == TensorType::Q8_K) {
      BlockQ8_K b;
      b.d = 0.004f;
      for (int j = 0; j < QK_K; ++j) b.qs[j] = val();
      for (int j = 0; j < QK_K / 16; ++j) {
        int s = 0;
        for (int l = 0; l < 16; ++l) s += b.qs[16 * j + l];
        b.bsums[j] = static_cast<int16_t>(s);
      }
      std::memcpy(p, &b, sizeof(b));
    } else if (at == TensorType::Q8_1) {
      BlockQ8_1 b;
      int s = 0;
      for (int j = 0; j < QK; ++j) s += (b.qs[j] = val());
      b.d = f32_to_fp16(0.004f);
      b.s = f32_to_fp16(fp16_to_f32(b.d) * static_cast<float>(s));
      std::memcpy(p, &b, sizeof(b));
    } else {  // Q8_0
      BlockQ8_0 b;
      for (int j = 0; j < QK; ++j) b.qs[j] = val();
      b.d = f32_to_fp16(0.004f);
      std::memcpy(p, &b, sizeof(b));
    }
  }
  return row;
}

class ExtremeVariant : public ::testing::TestWithParam<MatmulVariant> {};

TEST_P(ExtremeVariant, ExactOnUnusualBlocks) {
  const MatmulVariant& v = GetParam();
  if (!isa_supported(v.isa)) GTEST_SKIP() << "CPU lacks " << isa_name(v.isa);
  const TensorType at = ref::activation_type(v.weight);
  if (at == TensorType::F32) GTEST_SKIP() << "float format: no integer sums";
  std::mt19937 rng(7 + static_cast<uint32_t>(v.weight));
  const auto info = tensor_type_info(v.weight);
  const auto ainfo = tensor_type_info(at);
  const int64_t nb = 3, k = nb * info.block_size;
  const int64_t rows = 5;  // all-0xFF, all-0x80, 3 random rows: odd, so tiles have tails
  const int n_tokens = 5;  // all +127, all -127, 3 random
  const size_t row_bytes = static_cast<size_t>(nb) * info.type_size;
  const size_t x_stride = static_cast<size_t>(nb) * ainfo.type_size;
  std::vector<uint8_t> w(row_bytes * rows);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < row_bytes; ++i)
      w[r * row_bytes + i] = static_cast<uint8_t>(r == 0 ? 0xFF : r == 1 ? 0x80 : byte(rng));
    for (int64_t i = 0; i < nb; ++i) {
      if (!set_scales(v.weight, w.data() + r * row_bytes + i * info.type_size, rng))
        GTEST_SKIP() << "no scale layout for " << info.name << " in this test";
    }
  }
  std::vector<uint8_t> x;
  for (int t = 0; t < n_tokens; ++t) {
    const auto row = activation_row(at, nb, t == 0 ? 127 : t == 1 ? -127 : 0, rng);
    x.insert(x.end(), row.begin(), row.end());
  }
  std::vector<float> got(static_cast<size_t>(n_tokens) * rows, -7.0f);
  const VariantLayout lw = layout_for(v, w, rows, k);  // packed variants: repacked as at load
  MatmulArgs a{lw.bytes.data(), lw.row_bytes, x.data(), x_stride, got.data(),
               static_cast<size_t>(rows), k, 0, rows, n_tokens};
  v.fn(a);
  for (int t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* wr = w.data() + r * row_bytes;
      const uint8_t* xr = x.data() + t * x_stride;
      const float want = ref::dot_row(v.weight, wr, xr, k);
      std::vector<float> wf(k), xf(k);
      ref::dequantize_row(v.weight, wr, wf.data(), k);
      ref::dequantize_row(at, xr, xf.data(), k);
      double mag = 0;
      for (int64_t i = 0; i < k; ++i) mag += std::fabs(wf[i] * xf[i]);
      EXPECT_NEAR(got[t * rows + r], want, 1e-5 * mag + 1e-6) << v.name << " r=" << r << " t=" << t;
    }
  }
}

// Shapes larger than any kernel tile (the i8mm tile is 8 rows x 8 tokens): several row and
// token tiles plus odd tails, a row range starting at an odd row, quantized Gaussian data.
TEST_P(ExtremeVariant, CrossesTileBoundaries) {
  const MatmulVariant& v = GetParam();
  if (!isa_supported(v.isa)) GTEST_SKIP() << "CPU lacks " << isa_name(v.isa);
  const auto info = tensor_type_info(v.weight);
  const TensorType at = ref::activation_type(v.weight);
  const auto ainfo = tensor_type_info(at);
  const int64_t k = info.block_size == 1 ? 67 : 2 * info.block_size;
  const int64_t rows = 37, begin = 3;
  const int n_tokens = 19;
  const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  const size_t x_stride = static_cast<size_t>(k / ainfo.block_size) * ainfo.type_size;
  std::mt19937 rng(11);
  std::normal_distribution<float> dist;
  std::vector<float> f(static_cast<size_t>(k));
  std::vector<uint8_t> w(row_bytes * rows), x(x_stride * n_tokens);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& e : f) e = dist(rng);
    ASSERT_TRUE(ref::quantize_row(v.weight, f.data(), w.data() + r * row_bytes, k));
  }
  for (int t = 0; t < n_tokens; ++t) {
    for (auto& e : f) e = dist(rng);
    ASSERT_TRUE(ref::quantize_row(at, f.data(), x.data() + t * x_stride, k));
  }
  std::vector<float> got(static_cast<size_t>(n_tokens) * rows, -7.0f);
  const VariantLayout lw = layout_for(v, w, rows, k);  // packed variants: as at load
  MatmulArgs a{lw.bytes.data(), lw.row_bytes, x.data(), x_stride, got.data(),
               static_cast<size_t>(rows), k, begin, rows, n_tokens};
  v.fn(a);
  for (int t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      const float g = got[t * rows + r];
      if (r < begin) {
        EXPECT_EQ(g, -7.0f) << "wrote outside its row range";
        continue;
      }
      const uint8_t* wr = w.data() + r * row_bytes;
      const uint8_t* xr = x.data() + t * x_stride;
      std::vector<float> wf(k), xf(k);
      ref::dequantize_row(v.weight, wr, wf.data(), k);
      ref::dequantize_row(at, xr, xf.data(), k);
      double mag = 0;
      for (int64_t i = 0; i < k; ++i) mag += std::fabs(wf[i] * xf[i]);
      EXPECT_NEAR(g, ref::dot_row(v.weight, wr, xr, k), 1e-5 * mag + 1e-6)
          << v.name << " r=" << r << " t=" << t;
    }
  }
}

std::string variant_name(const ::testing::TestParamInfo<MatmulVariant>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Registry, ExtremeVariant,
                         ::testing::ValuesIn(matmul_variants().begin(), matmul_variants().end()),
                         variant_name);

}  // namespace
}  // namespace nibble::kernels
