// The AVX2 ternary prefill GEMM (gemm_tq2_0_q8_k_8x16 / gemm_tq1_0_q8_k_8x16: one int16
// accumulator per token and block, kernels/x86/common/gemm_x8_tq.h, decision 50) at the ends of
// its int16 bound: weight codes all 0 or all 3 against activations all -128 or all +127 (the
// lanes reach +16384 and -32768), and random codes and activations, over 70 tokens (a 64-token
// group and a tail) and three 8-row groups (a pair and a single). With d_w = d_x = 1 the exact
// result is the integer sum; every case also equals the AVX2 x8 GEMV token by token, bitwise.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"
#include "kernels/ref/fp16.h"
#include "kernels/registry.h"
#include "tests/kernels/variant_layout.h"

namespace nibble::kernels {
namespace {

const MatmulVariant* find(const char* name) {
  for (const MatmulVariant& v : matmul_variants())
    if (v.isa == Isa::avx2 && std::string(v.name) == name) return &v;
  return nullptr;
}

std::vector<uint8_t> q8_k_rows(int n, int64_t k, int fill, std::mt19937& rng) {
  const int64_t nb = k / QK_K;
  std::vector<BlockQ8_K> x(static_cast<size_t>(n * nb));
  std::uniform_int_distribution<int> q(-128, 127);
  for (BlockQ8_K& b : x) {
    b.d = 1.0f;
    for (int8_t& v : b.qs) v = static_cast<int8_t>(fill == 0 ? q(rng) : fill);
    for (int j = 0; j < QK_K / 16; ++j) {
      int s = 0;
      for (int e = 0; e < 16; ++e) s += b.qs[16 * j + e];
      b.bsums[j] = static_cast<int16_t>(s);
    }
  }
  std::vector<uint8_t> out(x.size() * sizeof(BlockQ8_K));
  std::memcpy(out.data(), x.data(), out.size());
  return out;
}

TEST(TernaryWideGemm, ExactAtInt16Bounds) {
  const MatmulVariant* v = find("gemm_tq2_0_q8_k_8x16__avx2");
  const MatmulVariant* gemv = find("gemv_tq2_0_q8_k_8x__avx2");
  if (!v || !gemv || !isa_supported(v->isa)) GTEST_SKIP() << "no AVX2 ternary GEMM here";
  const int64_t rows = 24, k = 2 * QK_K;
  const int n = 70;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int wfill : {0x00, 0xFF, -1}) {
    std::vector<BlockTQ2_0> w(static_cast<size_t>(rows * k / QK_K));
    for (BlockTQ2_0& b : w) {
      for (uint8_t& q : b.qs) q = static_cast<uint8_t>(wfill < 0 ? byte(rng) : wfill);
      b.d = f32_to_fp16(1.0f);
    }
    std::vector<uint8_t> wb(w.size() * sizeof(BlockTQ2_0));
    std::memcpy(wb.data(), w.data(), wb.size());
    const VariantLayout l = layout_for(*v, wb, rows, k);
    for (int xfill : {-128, 127, 0}) {
      const auto xq = q8_k_rows(n, k, xfill, rng);
      const size_t xs = (k / QK_K) * sizeof(BlockQ8_K);
      std::vector<float> ya(static_cast<size_t>(n) * rows, -1.0f), yb(ya);
      v->fn({l.bytes.data(), l.row_bytes, xq.data(), xs, ya.data(), static_cast<size_t>(rows), k,
             0, rows, n});
      for (int t = 0; t < n; ++t)
        gemv->fn({l.bytes.data(), l.row_bytes, xq.data() + t * xs, xs,
                  yb.data() + static_cast<size_t>(t) * rows, static_cast<size_t>(rows), k, 0, rows,
                  1});
      EXPECT_EQ(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)), 0)
          << "weights " << wfill << " activations " << xfill;
      if (wfill >= 0 && xfill != 0) {
        const float c = wfill == 0 ? 0.0f : 3.0f;
        const float want = static_cast<float>(k) * (c - 1.0f) * static_cast<float>(xfill);
        for (float y : ya) ASSERT_EQ(y, want) << "weights " << wfill << " activations " << xfill;
      }
    }
  }
}

}  // namespace
}  // namespace nibble::kernels
