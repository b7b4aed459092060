// TQ1_0 on its own base-3 bytes (layout t3x16, kernels/x86/common/gemv_t3x16.h, decision 38):
// the layout is the file's size, and every t3x16 variant (1-4 tokens in place, more through the
// t2x8 conversion and the ISA's t2x8 tiles) gives the t2x8 GEMV's bits, one token at a time,
// for quantized weights and for every possible base-3 byte. Skipped per variant whose ISA this
// CPU lacks; on x86-64 with AVX-512 VNNI at least one runs.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch/cpu_features.h"
#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"
#include "kernels/ref/fp16.h"
#include "kernels/registry.h"
#include "tests/kernels/test_data.h"
#include "tests/kernels/variant_layout.h"

namespace nibble::kernels {
namespace {

const MatmulVariant* find(const char* name) {
  for (const MatmulVariant& v : matmul_variants())
    if (std::string(v.name) == name) return &v;
  return nullptr;
}

// GGUF TQ1_0 rows whose qs / qh bytes take every value 0..255 (the decoder reads any byte),
// scales in [0.01, 1).
std::vector<uint8_t> random_tq1_0(int64_t rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> w(static_cast<size_t>(rows * k / QK_K) * sizeof(BlockTQ1_0));
  auto* b = reinterpret_cast<BlockTQ1_0*>(w.data());
  std::uniform_real_distribution<float> scale(0.01f, 1.0f);
  for (size_t i = 0; i < w.size() / sizeof(BlockTQ1_0); ++i) {
    for (auto& q : b[i].qs) q = static_cast<uint8_t>(rng());
    for (auto& q : b[i].qh) q = static_cast<uint8_t>(rng());
    b[i].d = f32_to_fp16(scale(rng));
  }
  return w;
}

void compare(const MatmulVariant& v, const MatmulVariant& gemv, const std::vector<uint8_t>& w,
             int64_t rows, int64_t k, const std::string& what) {
  const KernelTable& kt = KernelTable::get(Isa::scalar);
  const VariantLayout l3 = layout_for(v, w, rows, k), l2 = layout_for(gemv, w, rows, k);
  const size_t x_stride = kt.activation_row_bytes(TensorType::TQ1_0, k);
  for (const int n : {1, 2, 3, 4, 5, 9, 16, 33}) {
    const auto xf = gaussian(static_cast<size_t>(n) * k, 70 + n);
    std::vector<uint8_t> xq(x_stride * n);
    for (int t = 0; t < n; ++t)
      kt.quantize_activation(TensorType::TQ1_0, xf.data() + t * k, xq.data() + t * x_stride, k);
    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, rows}, {16, 32}, {32, rows}, {0, 16}}) {
      std::vector<float> ya(static_cast<size_t>(n) * rows, -7.0f), yc(ya);
      MatmulArgs a{l3.bytes.data(), l3.row_bytes, xq.data(), x_stride, ya.data(),
                   static_cast<size_t>(rows), k, r0, r1, n};
      v.fn(a);
      for (int t = 0; t < n; ++t) {
        MatmulArgs one{l2.bytes.data(), l2.row_bytes, xq.data() + t * x_stride, x_stride,
                       yc.data() + static_cast<size_t>(t) * rows, static_cast<size_t>(rows), k,
                       r0, r1, 1};
        gemv.fn(one);
      }
      EXPECT_EQ(std::memcmp(ya.data(), yc.data(), ya.size() * sizeof(float)), 0)
          << v.name << " " << what << " k=" << k << " tokens=" << n << " rows [" << r0 << ", "
          << r1 << ") vs " << gemv.name;
    }
  }
}

TEST(T3x16, LayoutIsTheFileSize) {
  const MatmulVariant* v = find("gemv_tq1_0_q8_k_t3x16__avx512vnni");
#if defined(__x86_64__) || defined(_M_X64)
  ASSERT_NE(v, nullptr);
  for (const int64_t rows : {16, 2048, 8192})
    EXPECT_EQ(v->pack(nullptr, rows, 2048, nullptr), static_cast<size_t>(rows) * 8 * 54) << rows;
  EXPECT_EQ(v->pack(nullptr, 40, 2048, nullptr), size_t{48} * 8 * 54);  // padded to 16 rows
#else
  EXPECT_EQ(v, nullptr) << "t3x16 is an AVX-512 VNNI layout";
#endif
}

TEST(T3x16, EqualsT2x8GemvBitwise) {
  const MatmulVariant* gemv = find("gemv_tq1_0_q8_k_8x__avx512vnni");
  int compared = 0;
  for (const MatmulVariant& v : matmul_variants()) {
    if (!v.packed() || std::string(v.layout) != "tq1_0_t3x16" || !isa_supported(v.isa)) continue;
    ASSERT_NE(gemv, nullptr);
    // 40 rows: two whole 16-row groups and a padded one; K: 40 and 11 super-blocks.
    for (const int64_t kb : {40, 11}) {
      const int64_t rows = 40, k = kb * QK_K;
      compare(v, *gemv, quantize_matrix(TensorType::TQ1_0, gaussian(rows * k, 33), rows, k), rows,
              k, "quantized");
      compare(v, *gemv, random_tq1_0(rows, k, 5 + static_cast<uint32_t>(kb)), rows, k,
              "every byte");
    }
    ++compared;
  }
  if (isa_supported(Isa::avx512vnni)) {
    EXPECT_GT(compared, 0) << "no t3x16 variant ran";
  }
}

}  // namespace
}  // namespace nibble::kernels
