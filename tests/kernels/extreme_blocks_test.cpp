// Every registered integer matmul variant against the scalar reference on weight blocks that
// the reference quantizers never produce: random bytes, all 0x00, all 0x80 (Q8_0: -128 in
// every byte), all 0xFF (maximum nibbles / bit fields / scales; Q6_K scales -1), with sane
// fp16 scale fields; activations quantized from N(0,1), from all +1 and all -1 (every quant
// +-127). These hit the worst cases of the integer bounds the SIMD kernels state (vpmaddubsw
// int16 pairs up to 2*128*127 for Q8_0), so a kernel that saturates or overflows fails here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "kernels/registry.h"
#include "tests/kernels/variant_layout.h"

namespace nibble::kernels {
namespace {

// Byte offsets of the fp16 scale fields in one block of `t` (empty for float formats).
std::vector<size_t> fp16_fields(TensorType t) {
  switch (t) {
    case TensorType::Q4_0:
      return {offsetof(BlockQ4_0, d)};
    case TensorType::Q4_1:
      return {offsetof(BlockQ4_1, d), offsetof(BlockQ4_1, m)};
    case TensorType::Q5_0:
      return {offsetof(BlockQ5_0, d)};
    case TensorType::Q5_1:
      return {offsetof(BlockQ5_1, d), offsetof(BlockQ5_1, m)};
    case TensorType::Q8_0:
      return {offsetof(BlockQ8_0, d)};
    case TensorType::IQ4_NL:
      return {offsetof(BlockIQ4_NL, d)};
    case TensorType::Q2_K:
      return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case TensorType::Q3_K:
      return {offsetof(BlockQ3_K, d)};
    case TensorType::Q4_K:
      return {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)};
    case TensorType::Q5_K:
      return {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)};
    case TensorType::Q6_K:
      return {offsetof(BlockQ6_K, d)};
    case TensorType::TQ1_0:
      return {offsetof(BlockTQ1_0, d)};
    case TensorType::TQ2_0:
      return {offsetof(BlockTQ2_0, d)};
    default:
      return {};
  }
}

class ExtremeBlocks : public ::testing::TestWithParam<MatmulVariant> {};

TEST_P(ExtremeBlocks, MatchesReference) {
  const MatmulVariant& v = GetParam();
  if (!isa_supported(v.isa)) GTEST_SKIP() << "CPU lacks " << isa_name(v.isa);
  const std::vector<size_t> fields = fp16_fields(v.weight);
  const auto info = tensor_type_info(v.weight);
  const TensorType at = ref::activation_type(v.weight);
  const auto ainfo = tensor_type_info(at);
  const int64_t k = 2 * 256, rows = 4;  // two blocks of 256, sixteen of 32
  const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  const int64_t nblocks = k / info.block_size;
  std::vector<uint8_t> w(row_bytes * rows);
  std::mt19937 rng(11);
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = w.data() + r * row_bytes;
    for (size_t i = 0; i < row_bytes; ++i) {
      const uint8_t fill[4] = {static_cast<uint8_t>(rng()), 0x00, 0x80, 0xFF};
      row[i] = fill[r];
    }
    for (int64_t b = 0; b < nblocks; ++b)
      for (size_t f : fields) {
        const uint16_t h = (b + f) % 2 ? 0x2000 : 0xA400;  // 2^-7, -2^-6
        std::memcpy(row + b * info.type_size + f, &h, 2);
      }
  }
  const size_t x_stride = static_cast<size_t>(k / ainfo.block_size) * ainfo.type_size;
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> xf(3 * k);
  for (int64_t i = 0; i < k; ++i) {
    xf[i] = dist(rng);
    xf[k + i] = 1.0f;
    xf[2 * k + i] = -1.0f;
  }
  std::vector<uint8_t> xq(x_stride * 3);
  for (int t = 0; t < 3; ++t)
    ASSERT_TRUE(ref::quantize_row(at, xf.data() + t * k, xq.data() + t * x_stride, k));
  for (int n_tokens : {1, 3}) {
    for (int t0 = 0; t0 + n_tokens <= 3; ++t0) {
      std::vector<float> got(static_cast<size_t>(n_tokens) * rows, -7.0f);
      const VariantLayout lw = layout_for(v, w, rows, k);  // packed variants: as at load
      MatmulArgs a{lw.bytes.data(), lw.row_bytes, xq.data() + t0 * x_stride, x_stride,
                   got.data(), static_cast<size_t>(rows), k, 0, rows, n_tokens};
      v.fn(a);
      std::vector<float> wr(k), xr(k);
      for (int t = 0; t < n_tokens; ++t) {
        const uint8_t* x = xq.data() + (t0 + t) * x_stride;
        ref::dequantize_row(at, x, xr.data(), k);
        for (int64_t r = 0; r < rows; ++r) {
          const float want = ref::dot_row(v.weight, w.data() + r * row_bytes, x, k);
          ref::dequantize_row(v.weight, w.data() + r * row_bytes, wr.data(), k);
          double mag = 0;
          for (int64_t i = 0; i < k; ++i) mag += std::fabs(wr[i] * xr[i]);
          EXPECT_NEAR(got[t * rows + r], want, 1e-5 * mag + 1e-6)
              << v.name << " row pattern " << r << " token " << t0 + t;
        }
      }
    }
  }
}

std::string variant_name(const ::testing::TestParamInfo<MatmulVariant>& info) {
  return info.param.name;
}

// The integer-format variants (those with fp16 scale fields).
std::vector<MatmulVariant> integer_variants() {
  std::vector<MatmulVariant> out;
  for (const MatmulVariant& v : matmul_variants())
    if (!fp16_fields(v.weight).empty()) out.push_back(v);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Registry, ExtremeBlocks, ::testing::ValuesIn(integer_variants()),
                         variant_name);

}  // namespace
}  // namespace nibble::kernels
