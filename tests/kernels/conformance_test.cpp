// Every registered matmul variant against the scalar reference, over shapes that hit every
// tail: K of one, two and three blocks, row counts 1..9 (not multiples of any tile), row
// ranges starting inside the matrix, and 1..17 tokens. Variants the CPU cannot run are
// skipped with the ISA's name.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "tests/kernels/test_data.h"
#include "kernels/registry.h"
#include "tests/kernels/variant_layout.h"
#include "tests/kernels/variant_printer.h"

namespace nibble::kernels {
namespace {

// Reference result and magnitude bound for row r, token t.
struct Want {
  float value;
  double mag;
};
Want reference(TensorType wt, const uint8_t* w_row, const uint8_t* x_row, int64_t k) {
  const TensorType at = ref::activation_type(wt);
  std::vector<float> wr(k), xr(k);
  ref::dequantize_row(wt, w_row, wr.data(), k);
  ref::dequantize_row(at, x_row, xr.data(), k);
  double mag = 0;
  for (int64_t i = 0; i < k; ++i) mag += std::fabs(wr[i] * xr[i]);
  return {ref::dot_row(wt, w_row, x_row, k), mag};
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
  // Interleaved layouts also get several row groups with a partial last one (3 and 6 groups),
  // and a K of over 40000 elements (more blocks than the packed kernels take per pass).
  const int rpc = v.rows_per_call;
  std::vector<int64_t> row_counts = {1, 3, 9};
  std::vector<int64_t> block_counts = {1, 2, 3};
  // float: odd K tail too, and a K (75) long enough for the unrolled 16/32-wide main loops
  if (info.block_size == 1) block_counts.push_back(9);
  if (rpc > 1) {
    row_counts.push_back(2 * rpc + 3);
    row_counts.push_back(5 * rpc + 3);  // kernels that take several row groups per pass
    block_counts.push_back(40000 / bs + 1);
  }
  for (int64_t blocks : block_counts) {
    const int64_t k = bs * blocks + (info.block_size == 1 ? 3 : 0);
    for (int64_t rows : row_counts) {
      for (int n_tokens : token_counts) {
        if (n_tokens > 3 && rows != row_counts.back()) continue;
        if (blocks > 9 && (n_tokens > 2 || rows != row_counts.back())) continue;
        const auto w = quantize_matrix(v.weight, gaussian(rows * k, 1 + rows + k), rows, k);
        const VariantLayout lw = layout_for(v, w, rows, k);
        const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
        const size_t x_stride = static_cast<size_t>(k / ainfo.block_size) * ainfo.type_size;
        const auto xf = gaussian(static_cast<size_t>(n_tokens) * k, 99 + n_tokens);
        std::vector<uint8_t> xq(x_stride * n_tokens + 64);
        for (int t = 0; t < n_tokens; ++t)
          ASSERT_TRUE(ref::quantize_row(at, xf.data() + t * k, xq.data() + t * x_stride, k));
        for (int64_t begin : {int64_t{0}, rows / 2 / rpc * rpc}) {
          std::vector<float> got(static_cast<size_t>(n_tokens) * rows, -7.0f);
          MatmulArgs a{lw.bytes.data(), lw.row_bytes, xq.data(), x_stride, got.data(),
                       static_cast<size_t>(rows), k, begin, rows, n_tokens};
          v.fn(a);
          for (int t = 0; t < n_tokens; ++t) {
            for (int64_t r = 0; r < rows; ++r) {
              const float g = got[t * rows + r];
              if (r < begin) {
                EXPECT_EQ(g, -7.0f) << "wrote outside its row range";
                continue;
              }
              const Want want =
                  reference(v.weight, w.data() + r * row_bytes, xq.data() + t * x_stride, k);
              // Integer sums are exact; only the f32 accumulation order differs.
              EXPECT_NEAR(g, want.value, 1e-5 * want.mag + 1e-6)
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
    const VariantLayout lw = layout_for(v, w, rows, k);  // packed variants: as at load
    MatmulArgs a{lw.bytes.data(), lw.row_bytes, xq.data(), x_stride, got.data(),
                 static_cast<size_t>(rows), k, 0, rows, n_tokens};
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
  ASSERT_NE(p.fn, nullptr);
  // The scalar table's kernel is the reference itself.
  bool is_ref = false;
  for (const auto& v : matmul_variants())
    if (v.fn == p.fn) is_ref = v.isa == Isa::scalar;
  EXPECT_TRUE(is_ref);
  const KernelTable& best = KernelTable::get();
  EXPECT_TRUE(isa_supported(best.isa()));
}

// KernelTable::prepare + matmul, the path the model takes: for every computable format, with
// and without repacking. Repacking happens exactly when the chosen variant has a layout; the
// copy is owned and whole row groups; without repacking the source is used in place.
TEST(Dispatch, PrepareRepacksWhenTheChosenVariantHasALayout) {
  const KernelTable& kt = KernelTable::get();
  for (const MatmulVariant& ref_v : matmul_variants()) {
    if (ref_v.isa != Isa::scalar) continue;  // one pass per format
    const TensorType wt = ref_v.weight;
    const auto info = tensor_type_info(wt);
    const int64_t k = info.block_size == 1 ? 64 : 2 * info.block_size;
    const int64_t rows = 37;
    const auto w = quantize_matrix(wt, gaussian(rows * k, 5), rows, k);
    const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
    const size_t x_stride = kt.activation_row_bytes(wt, k);
    const int n_tokens = 4;
    const auto xf = gaussian(static_cast<size_t>(n_tokens) * k, 6);
    std::vector<uint8_t> xq(x_stride * n_tokens);
    for (int t = 0; t < n_tokens; ++t)
      kt.quantize_activation(wt, xf.data() + t * k, xq.data() + t * x_stride, k);
    for (bool allow : {false, true}) {
      const PreparedWeights p = kt.prepare(wt, rows, k, w.data(), allow);
      ASSERT_NE(p.fn, nullptr) << tensor_type_info(wt).name;
      const MatmulVariant* chosen = nullptr;
      for (const auto& v : matmul_variants())
        if (v.fn == p.fn && v.weight == wt) chosen = &v;
      ASSERT_NE(chosen, nullptr);
      EXPECT_EQ(p.repacked(), chosen->packed()) << chosen->name;
      if (!allow) {
        EXPECT_FALSE(p.repacked()) << chosen->name;
      }
      EXPECT_EQ(p.rows_per_call, chosen->rows_per_call);
      if (p.repacked()) {
        EXPECT_NE(p.data, static_cast<const void*>(w.data()));
        EXPECT_EQ(p.bytes, p.row_bytes * padded_rows(rows, p.rows_per_call));
        EXPECT_EQ(p.bytes, chosen->pack(w.data(), rows, k, nullptr));
      } else {
        EXPECT_EQ(p.data, static_cast<const void*>(w.data()));
        EXPECT_EQ(p.row_bytes, row_bytes);
        EXPECT_EQ(p.bytes, row_bytes * rows);
      }
      for (int n : {1, n_tokens}) {
        std::vector<float> y(static_cast<size_t>(n) * rows, -7.0f);
        // Two calls as two threads would split it: at a multiple of rows_per_call.
        const int64_t mid = rows / 2 / p.rows_per_call * p.rows_per_call;
        for (auto [b, e] : {std::pair<int64_t, int64_t>{0, mid}, {mid, rows}}) {
          if (b == e) continue;
          MatmulArgs a{p.data, p.row_bytes, xq.data(), x_stride, y.data(),
                       static_cast<size_t>(rows), k, b, e, n};
          kt.matmul(p, a);
        }
        for (int t = 0; t < n; ++t)
          for (int64_t r = 0; r < rows; ++r) {
            const Want want = reference(wt, w.data() + r * row_bytes, xq.data() + t * x_stride, k);
            ASSERT_NEAR(y[t * rows + r], want.value, 1e-5 * want.mag + 1e-6)
                << chosen->name << " allow_repack=" << allow << " r=" << r << " t=" << t;
          }
      }
    }
  }
}

// prepare() packs a large matrix in slices of whole row groups and hands each consumed slice to
// `release`: the copy equals packing the whole matrix at once, and the slices cover the source
// exactly once, in order. About 5 MiB of Q4_K / Q6_K / Q8_0 with k = 2048 (two slices, the last
// one shorter, the row count not a multiple of 8).
TEST(Dispatch, PrepareReleasesTheSourceSliceBySlice) {
  const KernelTable& kt = KernelTable::get();
  for (TensorType wt : {TensorType::Q4_K, TensorType::Q6_K, TensorType::Q8_0}) {
    const auto info = tensor_type_info(wt);
    const int64_t k = 2048;
    const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
    const int64_t rows = static_cast<int64_t>((size_t{5} << 20) / row_bytes) + 3;
    // 64 quantized rows tiled over the matrix (packing does not depend on the values).
    const auto q64 = quantize_matrix(wt, gaussian(64 * k, 9), 64, k);
    std::vector<uint8_t> w(row_bytes * rows);
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(w.data() + r * row_bytes, q64.data() + (r % 64) * row_bytes, row_bytes);
    std::vector<std::pair<const void*, size_t>> released;
    const PreparedWeights p = kt.prepare(wt, rows, k, w.data(), true,
                                         [&](const void* s, size_t n) { released.push_back({s, n}); });
    if (!p.repacked()) {
      EXPECT_TRUE(released.empty()) << tensor_type_info(wt).name;
      continue;
    }
    const MatmulVariant* chosen = nullptr;
    for (const auto& v : matmul_variants())
      if (v.fn == p.fn && v.weight == wt) chosen = &v;
    ASSERT_NE(chosen, nullptr);
    std::vector<uint8_t> whole(chosen->pack(w.data(), rows, k, nullptr));
    chosen->pack(w.data(), rows, k, whole.data());
    ASSERT_EQ(p.bytes, whole.size());
    EXPECT_EQ(std::memcmp(p.data, whole.data(), whole.size()), 0) << chosen->name;
    ASSERT_GE(released.size(), 2u) << chosen->name;
    const auto* next = w.data();
    for (const auto& [s, n] : released) {
      EXPECT_EQ(s, static_cast<const void*>(next)) << chosen->name;
      next += n;
    }
    EXPECT_EQ(next, w.data() + w.size()) << chosen->name;
  }
}

// The VNNI copies of the 8-row interleaved kernels (AVX-VNNI VEX, AVX-512 VNNI EVEX) give
// bit-identical results to the AVX2 copy of the same layout: the integer sums are exact in
// both and the f32 finish is shared code (gemv_x8.h). 1, 2, 3 and 5 tokens (the VNNI-only
// one/two-token ternary path, the 3-token tail, a 4-token tile), 24 rows, k = 3 blocks.
TEST(Dispatch, VnniX8CopiesEqualAvx2Bitwise) {
  int compared = 0;
  for (const MatmulVariant& v : matmul_variants()) {
    if (!v.packed() || v.rows_per_call != 8 || v.isa == Isa::avx2 || !isa_supported(v.isa))
      continue;
    const MatmulVariant* base = nullptr;
    for (const MatmulVariant& b : matmul_variants())
      if (b.isa == Isa::avx2 && b.weight == v.weight && b.pack == v.pack &&
          std::string(b.name).find("gemv_") == 0 && std::string(v.name).find("gemv_") == 0)
        base = &b;
    if (!base) continue;
    const auto info = tensor_type_info(v.weight);
    const int64_t k = 3 * info.block_size, rows = 24;
    const auto w = quantize_matrix(v.weight, gaussian(rows * k, 11), rows, k);
    const VariantLayout l = layout_for(v, w, rows, k);
    const KernelTable& kt = KernelTable::get(Isa::scalar);
    const size_t x_stride = kt.activation_row_bytes(v.weight, k);
    for (int n : {1, 2, 3, 5}) {
      const auto xf = gaussian(static_cast<size_t>(n) * k, 12);
      std::vector<uint8_t> xq(x_stride * n);
      for (int t = 0; t < n; ++t)
        kt.quantize_activation(v.weight, xf.data() + t * k, xq.data() + t * x_stride, k);
      std::vector<float> ya(static_cast<size_t>(n) * rows), yb(ya.size());
      MatmulArgs a{l.bytes.data(), l.row_bytes, xq.data(), x_stride, ya.data(),
                   static_cast<size_t>(rows), k, 0, rows, n};
      v.fn(a);
      a.y = yb.data();
      base->fn(a);
      EXPECT_EQ(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)), 0)
          << v.name << " vs " << base->name << " tokens=" << n;
    }
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "no VNNI x8 variant runs on this CPU";
}

// Every prefill tile variant (gemm_*, every ISA the CPU runs: AVX2, AVX-VNNI, AVX-512 VNNI,
// AMX) gives, bit for bit, what the AVX2 x8 GEMV of the same layout gives one token at a time:
// over 3 K chunks of the tiles, 21 tokens (a full 16-token group and a tail of 5, so every tile
// width of the token tails), and row ranges that start and end inside an 8-row group.
TEST(Dispatch, GemmTilesEqualAvx2GemvBitwise) {
  if (!isa_supported(Isa::avx2)) GTEST_SKIP() << "CPU lacks avx2";
  int compared = 0;
  for (const MatmulVariant& v : matmul_variants()) {
    if (!v.packed() || std::string(v.name).find("gemm_") != 0 || !isa_supported(v.isa)) continue;
    const MatmulVariant* base = nullptr;
    for (const MatmulVariant& b : matmul_variants())
      if (b.isa == Isa::avx2 && b.weight == v.weight && b.pack == v.pack &&
          std::string(b.name).find("gemv_") == 0)
        base = &b;
    if (!base) continue;
    const auto info = tensor_type_info(v.weight);
    // K chunks: 32 blocks of 32, or 4 super-blocks of 256 (kernels/x86/common/gemm_x8.h).
    const int64_t k = info.block_size == 256 ? 9 * 256 : 70 * 32, rows = 40;
    const int n = 21;
    const auto w = quantize_matrix(v.weight, gaussian(rows * k, 21), rows, k);
    const VariantLayout l = layout_for(v, w, rows, k);
    const KernelTable& kt = KernelTable::get(Isa::scalar);
    const size_t x_stride = kt.activation_row_bytes(v.weight, k);
    const auto xf = gaussian(static_cast<size_t>(n) * k, 22);
    std::vector<uint8_t> xq(x_stride * n);
    for (int t = 0; t < n; ++t)
      kt.quantize_activation(v.weight, xf.data() + t * k, xq.data() + t * x_stride, k);
    for (const auto& [r0, r1] : {std::pair<int64_t, int64_t>{0, rows}, {3, 37}}) {
      std::vector<float> ya(static_cast<size_t>(n) * rows, -7.0f), yb(ya);
      MatmulArgs a{l.bytes.data(), l.row_bytes, xq.data(), x_stride, ya.data(),
                   static_cast<size_t>(rows), k, r0, r1, n};
      v.fn(a);
      for (int t = 0; t < n; ++t) {
        MatmulArgs g{l.bytes.data(), l.row_bytes, xq.data() + t * x_stride, x_stride,
                     yb.data() + static_cast<size_t>(t) * rows, static_cast<size_t>(rows), k, r0,
                     r1, 1};
        base->fn(g);
      }
      EXPECT_EQ(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)), 0)
          << v.name << " (" << isa_name(v.isa) << ") vs " << base->name << " rows " << r0 << ".."
          << r1;
    }
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "no GEMM tile variant runs on this CPU";
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
