// Every registered matmul variant against the scalar reference, over shapes that hit every
// tail: K of one, two and three blocks, row counts 1..9 (not multiples of any tile), row
// ranges starting inside the matrix, and 1..17 tokens. Variants the CPU cannot run are
// skipped with the ISA's name.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "kernels/registry.h"
#include "tests/kernels/variant_printer.h"

namespace nibble::kernels {
namespace {

std::vector<float> gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::vector<uint8_t> quantize_matrix(TensorType t, const std::vector<float>& x, int64_t rows,
                                     int64_t k) {
  const auto info = tensor_type_info(t);
  const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  std::vector<uint8_t> out(row_bytes * rows + 64);
  for (int64_t r = 0; r < rows; ++r)
    EXPECT_TRUE(ref::quantize_row(t, x.data() + r * k, out.data() + r * row_bytes, k));
  return out;
}

class Variant : public ::testing::TestWithParam<MatmulVariant> {};

TEST_P(Variant, MatchesReferenceOverTails) {
  const MatmulVariant& v = GetParam();
  if (!isa_supported(v.isa)) GTEST_SKIP() << "CPU lacks " << isa_name(v.isa);
  const auto info = tensor_type_info(v.weight);
  const int64_t bs = info.block_size == 1 ? 8 : info.block_size;
  const TensorType at = ref::activation_type(v.weight);
  const auto ainfo = tensor_type_info(at);
  const int token_counts[] = {1, 2, 3, 5, 17};
  for (int64_t blocks : {1, 2, 3, 9}) {
    // float: odd K tail too, and a K (75) long enough for the unrolled 16/32-wide main loops
    if (blocks == 9 && info.block_size != 1) continue;
    const int64_t k = bs * blocks + (info.block_size == 1 ? 3 : 0);
    for (int64_t rows : {1, 3, 9}) {
      for (int n_tokens : token_counts) {
        if (n_tokens > 3 && rows != 9) continue;
        const auto w = quantize_matrix(v.weight, gaussian(rows * k, 1 + rows + k), rows, k);
        const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
        const size_t x_stride = static_cast<size_t>(k / ainfo.block_size) * ainfo.type_size;
        const auto xf = gaussian(static_cast<size_t>(n_tokens) * k, 99 + n_tokens);
        std::vector<uint8_t> xq(x_stride * n_tokens + 64);
        for (int t = 0; t < n_tokens; ++t)
          ASSERT_TRUE(ref::quantize_row(at, xf.data() + t * k, xq.data() + t * x_stride, k));
        for (int64_t begin : {int64_t{0}, rows / 2}) {
          std::vector<float> got(static_cast<size_t>(n_tokens) * rows, -7.0f);
          MatmulArgs a{w.data(), row_bytes, xq.data(), x_stride, got.data(),
                       static_cast<size_t>(rows), k, begin, rows, n_tokens};
          v.fn(a);
          for (int t = 0; t < n_tokens; ++t) {
            for (int64_t r = 0; r < rows; ++r) {
              const float g = got[t * rows + r];
              if (r < begin) {
                EXPECT_EQ(g, -7.0f) << "wrote outside its row range";
                continue;
              }
              const float want = ref::dot_row(v.weight, w.data() + r * row_bytes,
                                              xq.data() + t * x_stride, k);
              // Integer sums are exact; only the f32 accumulation order differs.
              std::vector<float> wr(k), xr(k);
              ref::dequantize_row(v.weight, w.data() + r * row_bytes, wr.data(), k);
              ref::dequantize_row(at, xq.data() + t * x_stride, xr.data(), k);
              double mag = 0;
              for (int64_t i = 0; i < k; ++i) mag += std::fabs(wr[i] * xr[i]);
              EXPECT_NEAR(g, want, 1e-5 * mag + 1e-6)
                  << v.name << " k=" << k << " rows=" << rows << " r=" << r << " t=" << t;
            }
          }
        }
      }
    }
  }
}

// One long row (K = 33792: 1056 blocks of 32, 132 of 256) so that paths for long rows are
// taken too (the x86 Q8_0/Q4_0 kernels cache at most 1024 activation scales on the stack and
// fall back to converting them inline above that).
TEST_P(Variant, MatchesReferenceAtLongK) {
  const MatmulVariant& v = GetParam();
  if (!isa_supported(v.isa)) GTEST_SKIP() << "CPU lacks " << isa_name(v.isa);
  const auto info = tensor_type_info(v.weight);
  const TensorType at = ref::activation_type(v.weight);
  const auto ainfo = tensor_type_info(at);
  const int64_t k = 33792, rows = 3;
  const auto w = quantize_matrix(v.weight, gaussian(rows * k, 5), rows, k);
  const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  const size_t x_stride = static_cast<size_t>(k / ainfo.block_size) * ainfo.type_size;
  for (int n_tokens : {1, 5}) {
    const auto xf = gaussian(static_cast<size_t>(n_tokens) * k, 7 + n_tokens);
    std::vector<uint8_t> xq(x_stride * n_tokens + 64);
    for (int t = 0; t < n_tokens; ++t)
      ASSERT_TRUE(ref::quantize_row(at, xf.data() + t * k, xq.data() + t * x_stride, k));
    std::vector<float> got(static_cast<size_t>(n_tokens) * rows, -7.0f);
    MatmulArgs a{w.data(), row_bytes, xq.data(), x_stride, got.data(), static_cast<size_t>(rows),
                 k,        0,         rows,      n_tokens};
    v.fn(a);
    std::vector<float> wr(k), xr(k);
    for (int t = 0; t < n_tokens; ++t) {
      ref::dequantize_row(at, xq.data() + t * x_stride, xr.data(), k);
      for (int64_t r = 0; r < rows; ++r) {
        const float want =
            ref::dot_row(v.weight, w.data() + r * row_bytes, xq.data() + t * x_stride, k);
        ref::dequantize_row(v.weight, w.data() + r * row_bytes, wr.data(), k);
        double mag = 0;
        for (int64_t i = 0; i < k; ++i) mag += std::fabs(wr[i] * xr[i]);
        EXPECT_NEAR(got[t * rows + r], want, 1e-5 * mag + 1e-6)
            << v.name << " r=" << r << " t=" << t;
      }
    }
  }
}

std::string variant_name(const ::testing::TestParamInfo<MatmulVariant>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Registry, Variant, ::testing::ValuesIn(matmul_variants().begin(),
                                                                 matmul_variants().end()),
                         variant_name);

TEST(Dispatch, IsaCapLimitsTheChoice) {
  const KernelTable& scalar = KernelTable::get(Isa::scalar);
  EXPECT_EQ(scalar.isa(), Isa::scalar);
  auto w = quantize_matrix(TensorType::Q8_0, gaussian(64, 3), 1, 64);
  PreparedWeights p = scalar.prepare(TensorType::Q8_0, 1, 64, w.data());
  ASSERT_NE(p.gemv, nullptr);
  // The scalar table's kernel is the reference itself.
  bool is_ref = false;
  for (const auto& v : matmul_variants())
    if (v.fn == p.gemv) is_ref = v.isa == Isa::scalar;
  EXPECT_TRUE(is_ref);
  const KernelTable& best = KernelTable::get();
  EXPECT_TRUE(isa_supported(best.isa()));
}

TEST(Dispatch, ParseIsaNames) {
  Isa isa;
  EXPECT_TRUE(parse_isa("avx512vnni", &isa));
  EXPECT_EQ(isa, Isa::avx512vnni);
  EXPECT_TRUE(parse_isa("dotprod", &isa));
  EXPECT_EQ(isa, Isa::dotprod);
  EXPECT_FALSE(parse_isa("sse9", &isa));
  EXPECT_TRUE(isa_supported(Isa::scalar));
}

TEST(Dispatch, UnsupportedTypesAreReported) {
  const KernelTable& t = KernelTable::get();
  EXPECT_FALSE(t.supports(TensorType::IQ2_XXS));
  EXPECT_TRUE(t.supports(TensorType::TQ1_0));
  EXPECT_EQ(t.activation_type(TensorType::Q4_K), TensorType::Q8_K);
  EXPECT_EQ(t.activation_type(TensorType::Q4_1), TensorType::Q8_1);
  EXPECT_EQ(t.activation_type(TensorType::IQ4_NL), TensorType::Q8_0);
}

}  // namespace
}  // namespace nibble::kernels
