// A (row, token) result must not depend on how the work was cut: the same token computed in a
// call of 1 token (decode), inside a call of many tokens (prefill chunks of any size), or in a
// call over a sub-range of rows (a thread's share) gives the same float, bit for bit. This is
// what makes chunked prefill equal token-by-token decode and results independent of the thread
// count (tests/model/engine_test.cpp checks it end to end; this pins it per kernel variant,
// including the arm64 i8mm tiles against their SDOT tails).
#include <gtest/gtest.h>

#include <algorithm>
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

class BatchInvariance : public ::testing::TestWithParam<MatmulVariant> {};

// k of `blocks` blocks of v's weight format, and the bytes of one quantized activation row.
int64_t k_of(const MatmulVariant& v, int64_t blocks) {
  const int64_t bs = tensor_type_info(v.weight).block_size;
  return (bs == 1 ? 32 : bs) * blocks;
}
size_t x_row_bytes(const MatmulVariant& v, int64_t k) {
  const auto ainfo = tensor_type_info(ref::activation_type(v.weight));
  return static_cast<size_t>(k / ainfo.block_size) * ainfo.type_size;
}

// k = blocks x the format's block size, n_tokens tokens.
void check_invariance(const MatmulVariant& v, int64_t blocks, int n_tokens) {
  const TensorType at = ref::activation_type(v.weight);
  const int64_t k = k_of(v, blocks);
  // 19 rows: several row groups of every layout plus a partial one, odd for the i8mm pairs.
  const int64_t rows = std::max<int64_t>(19, 2 * v.rows_per_call + 3);
  const auto w = quantize_matrix(v.weight, gaussian(static_cast<size_t>(rows * k), 3), rows, k);
  const VariantLayout lw = layout_for(v, w, rows, k);
  const size_t x_stride = x_row_bytes(v, k);
  const auto xq = quantize_matrix(at, gaussian(static_cast<size_t>(n_tokens * k), 4), n_tokens, k);
  auto run = [&](int t0, int nt, int64_t r0, int64_t r1, std::vector<float>* y) {
    MatmulArgs a{lw.bytes.data(), lw.row_bytes, xq.data() + t0 * x_stride, x_stride,
                 y->data() + static_cast<size_t>(t0 * rows), static_cast<size_t>(rows), k, r0, r1,
                 nt};
    v.fn(a);
  };
  const size_t n_out = static_cast<size_t>(n_tokens * rows);
  std::vector<float> whole(n_out, -7.0f);
  run(0, n_tokens, 0, rows, &whole);
  // Chunks of 1 (decode), 3 and 5 tokens; row ranges split at the variant's row-group size
  // (as the executor splits work between threads) and, for single rows, anywhere.
  for (int chunk : {1, 3, 5}) {
    std::vector<float> got(n_out, -7.0f);
    for (int t = 0; t < n_tokens; t += chunk) run(t, std::min(chunk, n_tokens - t), 0, rows, &got);
    EXPECT_EQ(0, std::memcmp(got.data(), whole.data(), n_out * sizeof(float)))
        << v.name << ": chunks of " << chunk << " tokens differ from one call of " << n_tokens;
  }
  const int64_t step = v.rows_per_call > 1 ? v.rows_per_call : 3;
  std::vector<float> split(n_out, -7.0f);
  for (int64_t r = 0; r < rows; r += step) run(0, n_tokens, r, std::min(rows, r + step), &split);
  EXPECT_EQ(0, std::memcmp(split.data(), whole.data(), n_out * sizeof(float)))
      << v.name << ": row ranges of " << step << " differ from one call over all rows";
}

// One token (decode) over many row groups: the x86 x8 GEMVs read a call's whole row groups in
// pairs, group i with group i + half (kernels/x86/common/gemv_x8.h), so which groups pair up
// depends on the call's range. Each row must still give the same float: one call over all rows
// against calls of one row group each, of three groups (an odd count), and of the rows past the
// first 5 (a range starting inside a group); with k past the kernels' 1024-block K chunk.
void check_decode_ranges(const MatmulVariant& v, int64_t blocks, int groups) {
  const int64_t k = k_of(v, blocks);
  const int64_t g = std::max(1, v.rows_per_call);
  const int64_t rows = groups * g + 3;
  const auto w = quantize_matrix(v.weight, gaussian(static_cast<size_t>(rows * k), 5), rows, k);
  const VariantLayout lw = layout_for(v, w, rows, k);
  const auto xq =
      quantize_matrix(ref::activation_type(v.weight), gaussian(static_cast<size_t>(k), 6), 1, k);
  const size_t x_stride = x_row_bytes(v, k);
  auto run = [&](int64_t r0, int64_t r1, std::vector<float>* y) {
    MatmulArgs a{lw.bytes.data(), lw.row_bytes, xq.data(), x_stride, y->data(),
                 static_cast<size_t>(rows), k, r0, r1, 1};
    v.fn(a);
  };
  std::vector<float> whole(static_cast<size_t>(rows), -7.0f);
  run(0, rows, &whole);
  for (const int64_t step : {g, 3 * g}) {
    std::vector<float> split(static_cast<size_t>(rows), -7.0f);
    for (int64_t r = 0; r < rows; r += step) run(r, std::min(rows, r + step), &split);
    EXPECT_EQ(0, std::memcmp(split.data(), whole.data(), split.size() * sizeof(float)))
        << v.name << ": 1 token, row ranges of " << step << " differ from one call";
  }
  std::vector<float> tail(static_cast<size_t>(rows), -7.0f);
  run(0, 5, &tail);
  run(5, rows, &tail);
  EXPECT_EQ(0, std::memcmp(tail.data(), whole.data(), tail.size() * sizeof(float)))
      << v.name << ": 1 token, rows [0, 5) + [5, " << rows << ") differ from one call";
}

TEST_P(BatchInvariance, DecodeRowRangesOverManyGroups) {
  const MatmulVariant& v = GetParam();
  if (!isa_supported(v.isa)) GTEST_SKIP() << "CPU lacks " << isa_name(v.isa);
  check_decode_ranges(v, 5, 7);
#if defined(__x86_64__)
  // Past the x86 driver's K chunk: 1030 blocks of 32 (Q4_0, Q8_0: 1024 per chunk) or 260
  // super-blocks (Q4_K: 256 per chunk with its 4 sums per block). Not under QEMU (arm64).
  const int64_t bs = tensor_type_info(v.weight).block_size;
  check_decode_ranges(v, bs >= 256 ? 260 : 1030, 3);
#endif
}

TEST_P(BatchInvariance, SameResultForAnyTokenCountAndRowRange) {
  const MatmulVariant& v = GetParam();
  if (!isa_supported(v.isa)) GTEST_SKIP() << "CPU lacks " << isa_name(v.isa);
  // 11 tokens (odd: full 8-token tiles, a pair tail and a single-token tail) over 3 blocks; then
  // 40 blocks and 17 tokens: several K chunks of the x86 GEMM tiles (kernels/x86/common/
  // gemm_x8.h: 32 blocks, Q4_K 4) and more than one of its 16-token groups.
  check_invariance(v, 3, 11);
  check_invariance(v, 40, 17);
}

INSTANTIATE_TEST_SUITE_P(Registry, BatchInvariance,
                         ::testing::ValuesIn(matmul_variants().begin(), matmul_variants().end()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace nibble::kernels
