// The AMX prefill GEMM (kernels/x86/amx/gemm_amx.h, gemm_amx_k.h, gemm_amx_tq.h) against the
// AVX-512 VNNI tiles and the x8 GEMV on the same layout, bit for bit (memcmp): token counts around
// its 16-token tiles and 64-token groups, K across its chunks (and a last partial one), row ranges
// with partial and lone x8 groups. Skipped with a message where the CPU or OS does not allow AMX
// (then the dispatch never picks it); on the project's Sapphire Rapids VMs it runs.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/dispatch/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/registry.h"
#include "tests/kernels/test_data.h"
#include "tests/kernels/variant_layout.h"

namespace nibble::kernels {
namespace {

// The registered variant of `isa` on the same format and layout as v whose name starts with
// `prefix` ("gemm_" or "gemv_"), or null.
const MatmulVariant* sibling(const MatmulVariant& v, Isa isa, const char* prefix) {
  for (const MatmulVariant& b : matmul_variants())
    if (b.isa == isa && b.weight == v.weight && b.pack == v.pack &&
        std::string(b.name).rfind(prefix, 0) == 0)
      return &b;
  return nullptr;
}

TEST(AmxGemm, EqualsVnniTilesAndGemvBitwise) {
  if (!isa_supported(Isa::amx)) GTEST_SKIP() << "CPU or OS without AMX-INT8 (or no permission)";
  int compared = 0;
  for (const MatmulVariant& v : matmul_variants()) {
    if (v.isa != Isa::amx) continue;
    // TQ1_0's t3x16 entry has no same-layout VNNI tiles: t3x16_test.cpp holds it to the
    // t2x8 GEMV.
    if (v.layout && std::string(v.layout) == "tq1_0_t3x16") continue;
    const MatmulVariant* tiles = sibling(v, Isa::avx512vnni, "gemm_");
    const MatmulVariant* gemv = sibling(v, Isa::avx512vnni, "gemv_");
    ASSERT_NE(tiles, nullptr) << v.name;
    ASSERT_NE(gemv, nullptr) << v.name;
    const auto info = tensor_type_info(v.weight);
    // 40 rows = 5 x8 groups (two row tiles and a lone group); K = 40 blocks (two 32-block
    // chunks, ten of 4 super-blocks) or 11 (a last partial chunk of 3 super-blocks).
    for (const int64_t kb : {40, 11}) {
      const int64_t rows = 40, k = kb * info.block_size;
      const auto w =
          quantize_matrix(v.weight, gaussian(static_cast<size_t>(rows * k), 21), rows, k);
      const VariantLayout l = layout_for(v, w, rows, k);
      const KernelTable& kt = KernelTable::get(Isa::scalar);
      const size_t x_stride = kt.activation_row_bytes(v.weight, k);
      for (int n : {1, 7, 16, 17, 64, 100}) {
        const auto xf = gaussian(static_cast<size_t>(n) * k, 22 + n);
        std::vector<uint8_t> xq(x_stride * n);
        for (int t = 0; t < n; ++t)
          kt.quantize_activation(v.weight, xf.data() + t * k, xq.data() + t * x_stride, k);
        for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, rows}, {8, 32}, {16, 37}, {3, 21}}) {
          std::vector<float> ya(static_cast<size_t>(n) * rows, -7.0f), yb(ya), yc(ya);
          MatmulArgs a{l.bytes.data(),
                       l.row_bytes,
                       xq.data(),
                       x_stride,
                       ya.data(),
                       static_cast<size_t>(rows),
                       k,
                       r0,
                       r1,
                       n};
          v.fn(a);
          a.y = yb.data();
          tiles->fn(a);
          for (int t = 0; t < n; ++t) {  // one token at a time: the decode path
            MatmulArgs one = a;
            one.x = xq.data() + t * x_stride;
            one.y = yc.data() + static_cast<size_t>(t) * rows;
            one.n_tokens = 1;
            gemv->fn(one);
          }
          const std::string where = std::string(v.name) + " k=" + std::to_string(k) +
                                    " tokens=" + std::to_string(n) + " rows [" +
                                    std::to_string(r0) + ", " + std::to_string(r1) + ")";
          EXPECT_EQ(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)), 0)
              << where << " vs " << tiles->name;
          EXPECT_EQ(std::memcmp(ya.data(), yc.data(), ya.size() * sizeof(float)), 0)
              << where << " vs " << gemv->name << " per token";
        }
      }
    }
    ++compared;
  }
  EXPECT_GT(compared, 0) << "no AMX variant registered";
}

// Where cpuid and XCR0 report AMX on Linux, the permission request succeeds (kernel >= 5.16)
// and the amx level is available, above avx512vnni.
TEST(AmxGemm, LevelFollowsTheCpuAndOs) {
  const CpuFeatures& f = cpu_features();
  if (isa_supported(Isa::amx)) {
    EXPECT_TRUE(f.amx_tile && f.amx_int8 && amx_permitted());
    EXPECT_TRUE(isa_supported(Isa::avx512vnni));
  }
#if !defined(__linux__)
  EXPECT_FALSE(isa_supported(Isa::amx));
#endif
  Isa parsed;
  ASSERT_TRUE(parse_isa("amx", &parsed));
  EXPECT_EQ(parsed, Isa::amx);
  EXPECT_GT(static_cast<int>(Isa::amx), static_cast<int>(Isa::avx512vnni));
}

}  // namespace
}  // namespace nibble::kernels
