// The prefill GEMMs on the x8 layouts (Q4_0, Q8_0, Q4_K: the AVX2 / AVX-VNNI / AVX-512 VNNI
// register tiles, kernels/x86/common/gemm_x8.h, and the AMX tiles, kernels/x86/amx/, whose
// 2-15-token path is gemm_amx_small.h) at every token count of a speculative verification
// pass, 2..15, against the x8 GEMV run one token at a time (the decode path), bit for bit
// (memcmp), and against themselves on a second run (deterministic). Shapes: row ranges with
// whole row tiles, partial x8 groups and a lone group; K across K chunks and a last partial one.
// Variants whose ISA this CPU (or OS) lacks are skipped.
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "kernels/dispatch/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/registry.h"
#include "tests/kernels/test_data.h"
#include "tests/kernels/variant_layout.h"

namespace nibble::kernels {
namespace {

// The x8 GEMV on v's layout: the same ISA, or AVX-512 VNNI for AMX (its 1-token path).
const MatmulVariant* gemv_for(const MatmulVariant& v) {
  const Isa isa = v.isa == Isa::amx ? Isa::avx512vnni : v.isa;
  for (const MatmulVariant& b : matmul_variants())
    if (b.isa == isa && b.weight == v.weight && b.pack == v.pack &&
        std::string(b.name).rfind("gemv_", 0) == 0)
      return &b;
  return nullptr;
}

bool x8_gemm(const MatmulVariant& v) {
  const bool fmt = v.weight == TensorType::Q4_0 || v.weight == TensorType::Q8_0 ||
                   v.weight == TensorType::Q4_K;
  return fmt && v.packed() && v.rows_per_call == 8 && std::string(v.name).rfind("gemm_", 0) == 0;
}

// Token counts ns, K of kbs blocks.
void check_variant(const MatmulVariant& v, const MatmulVariant& gemv,
                   std::initializer_list<int64_t> kbs, std::initializer_list<int> ns) {
  const auto info = tensor_type_info(v.weight);
  const KernelTable& kt = KernelTable::get(Isa::scalar);
  for (const int64_t kb : kbs) {
    const int64_t rows = 40, k = kb * info.block_size;
    const auto w = quantize_matrix(v.weight, gaussian(static_cast<size_t>(rows * k), 31), rows, k);
    const VariantLayout l = layout_for(v, w, rows, k);
    const size_t x_stride = kt.activation_row_bytes(v.weight, k);
    for (const int n : ns) {
      const auto xf = gaussian(static_cast<size_t>(n) * k, 40 + n);
      std::vector<uint8_t> xq(x_stride * n);
      for (int t = 0; t < n; ++t)
        kt.quantize_activation(v.weight, xf.data() + t * k, xq.data() + t * x_stride, k);
      for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, rows}, {16, 32}, {8, 40}, {3, 29}}) {
        std::vector<float> ya(static_cast<size_t>(n) * rows, -7.0f), yb(ya), yc(ya);
        MatmulArgs a{l.bytes.data(), l.row_bytes, xq.data(), x_stride, ya.data(),
                     static_cast<size_t>(rows), k, r0, r1, n};
        v.fn(a);
        a.y = yb.data();
        v.fn(a);
        for (int t = 0; t < n; ++t) {
          MatmulArgs one = a;
          one.x = xq.data() + t * x_stride;
          one.y = yc.data() + static_cast<size_t>(t) * rows;
          one.n_tokens = 1;
          gemv.fn(one);
        }
        const std::string where = std::string(v.name) + " k=" + std::to_string(k) + " tokens=" +
                                  std::to_string(n) + " rows [" + std::to_string(r0) + ", " +
                                  std::to_string(r1) + ")";
        const size_t bytes = ya.size() * sizeof(float);
        EXPECT_EQ(std::memcmp(ya.data(), yb.data(), bytes), 0) << where << " second run";
        EXPECT_EQ(std::memcmp(ya.data(), yc.data(), bytes), 0) << where << " vs " << gemv.name;
      }
    }
  }
}

TEST(GemmSmall, TwoToFifteenTokensEqualGemvBitwise) {
  int compared = 0;
  for (const MatmulVariant& v : matmul_variants()) {
    if (!x8_gemm(v) || !isa_supported(v.isa)) continue;
    const MatmulVariant* gemv = gemv_for(v);
    ASSERT_NE(gemv, nullptr) << v.name;
    // 40 rows = 5 x8 groups; K = 40 blocks (two 32-block chunks, ten of 4 super-blocks) or 11
    // (one partial chunk; Q4_K: 2 chunks + 3 super-blocks).
    check_variant(v, *gemv, {40, 11}, {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
    ++compared;
  }
#if defined(__x86_64__) || defined(_M_X64)
  EXPECT_GT(compared, 0) << "no x8 GEMM variant runs on this CPU";
#else
  EXPECT_EQ(compared, 0) << "the x8 GEMM tiles are x86 kernels";  // arm64 has none registered
#endif
}

// K longer than the span of activations the AMX small-token path prepares at once for Q4_0 /
// Q8_0 (3072 token-blocks, whole 32-block chunks: 320 blocks at 9 tokens, 192 at 15), so the
// row tiles are walked once per span: 420 blocks = 320 + 100 (9 tokens), 192 + 192 + 36 (15).
TEST(GemmSmall, LongRowsEqualGemvBitwise) {
  for (const MatmulVariant& v : matmul_variants()) {
    if (!x8_gemm(v) || !isa_supported(v.isa) || v.weight == TensorType::Q4_K) continue;
    const MatmulVariant* gemv = gemv_for(v);
    ASSERT_NE(gemv, nullptr) << v.name;
    check_variant(v, *gemv, {420}, {9, 15});
  }
}

}  // namespace
}  // namespace nibble::kernels
