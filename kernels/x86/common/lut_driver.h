// The row-group / token / table-pass driver of the x86 ternary LUT kernels over the t2x32
// layout (kernels/x86/avx2/lut_ternary.cpp describes the scheme), a template over the ISA's
// LUT policy L (X86LutIsa below: the table build and lookup are the ISA's own code, in
// kernels/x86/{avx2,avx512}/lut_ternary.cpp). Internal linkage (kernels/x86/common/isa.h).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <concepts>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::x86 {
namespace {

constexpr int kLutRows = 32;                                           // rows per group (t2x32)
constexpr size_t kLutBlockBytes = 2 * kLutRows + QK_K / 4 * kLutRows;  // 2112 per group and block
constexpr int kLutPairs = QK_K / 2;                                    // tables per block
constexpr size_t kLutBlockTables = kLutPairs * 32;                     // 32 bytes per table: 4 KiB
constexpr int kLutMaxTables = 32;  // (block, token) tables per pass (128 KiB, in L2)

// L provides:
//   build_tables(x_block, tables)       the kLutPairs tables of one activation block
//   group_block<G>(blocks, tables, d_x, acc)  one block of G 32-row groups into acc[G][kAcc]
//   kGroups     row groups per table load; kTablePad: bytes the last table load may read past
//               the tables
//   Acc, kAcc   the f32 accumulator type, kAcc of them per 32-row group (kLutRows / kAcc rows
//               each), and zero(), load(p), store(p, v)
template <class L>
concept X86LutIsa = requires(const BlockQ8_K& x, uint8_t* tab, const float* p, float* q,
                             const uint8_t* const* blk, typename L::Acc (*acc)[L::kAcc]) {
  L::build_tables(x, tab);
  L::template group_block<1>(blk, tab, 1.0f, acc);
  L::store(q, L::load(p));
  L::store(q, L::zero());
  requires std::same_as<decltype(L::kGroups), const int>;
  requires std::same_as<decltype(L::kAcc), const int> && kLutRows % L::kAcc == 0;
  requires std::same_as<decltype(L::kTablePad), const size_t>;
};

// Groups [g, g + G) for one token over blocks [b0, b1).
template <class L, int G>
void lut_groups(const MatmulArgs& a, int64_t g, const BlockQ8_K* x, float* y, const uint8_t* tabs,
                int64_t b0, int64_t b1) {
  constexpr int kLanes = kLutRows / L::kAcc;
  const size_t group_bytes = a.w_row_bytes * kLutRows;
  alignas(64) float part[G][kLutRows];
  float* out[G];
  bool full[G];
  typename L::Acc acc[G][L::kAcc];
  for (int i = 0; i < G; ++i) {
    const int64_t r0 = (g + i) * kLutRows;
    full[i] = r0 >= a.row_begin && r0 + kLutRows <= a.row_end;
    out[i] = full[i] ? y + r0 : part[i];
    if (!full[i])
      for (int r = 0; r < kLutRows; ++r) {
        const int64_t row = r0 + r;
        part[i][r] = (b0 > 0 && row >= a.row_begin && row < a.row_end) ? y[row] : 0.0f;
      }
    for (int j = 0; j < L::kAcc; ++j)
      acc[i][j] = b0 == 0 && full[i] ? L::zero() : L::load(out[i] + kLanes * j);
  }
  for (int64_t b = b0; b < b1; ++b) {
    const uint8_t* blk[G];
    for (int i = 0; i < G; ++i)
      blk[i] = static_cast<const uint8_t*>(a.w) + (g + i) * group_bytes + b * kLutBlockBytes;
    L::template group_block<G>(blk, tabs + (b - b0) * kLutBlockTables, x[b].d, acc);
  }
  for (int i = 0; i < G; ++i) {
    for (int j = 0; j < L::kAcc; ++j) L::store(out[i] + kLanes * j, acc[i][j]);
    if (!full[i])
      for (int r = 0; r < kLutRows; ++r) {
        const int64_t row = (g + i) * kLutRows + r;
        if (row >= a.row_begin && row < a.row_end) y[row] = part[i][r];
      }
  }
}

// Tables for up to kLutMaxTables (block, token) pairs per pass, then every row group against them.
template <X86LutIsa L>
void matmul_t2x32_lut(const MatmulArgs& a) {
  constexpr int kGroups = L::kGroups;
  constexpr size_t kTablePad = L::kTablePad;
  const int64_t nb = a.k / QK_K;
  alignas(64) uint8_t tabs[kLutMaxTables * kLutBlockTables + kTablePad];
  std::memset(tabs + kLutMaxTables * kLutBlockTables, 0, kTablePad);
  const int64_t g0 = a.row_begin / kLutRows, g1 = (a.row_end + kLutRows - 1) / kLutRows;
  for (int t0 = 0; t0 < a.n_tokens; t0 += kLutMaxTables) {
    const int tb = std::min(kLutMaxTables, a.n_tokens - t0);
    const int64_t cb = kLutMaxTables / tb;  // blocks per pass
    for (int64_t b0 = 0; b0 < nb; b0 += cb) {
      const int64_t b1 = std::min(nb, b0 + cb);
      for (int tt = 0; tt < tb; ++tt) {
        const auto* x = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                           (t0 + tt) * a.x_stride);
        for (int64_t b = b0; b < b1; ++b)
          L::build_tables(x[b], tabs + (tt * cb + (b - b0)) * kLutBlockTables);
      }
      for (int64_t g = g0; g < g1;) {
        const int n = static_cast<int>(std::min<int64_t>(kGroups, g1 - g));
        for (int tt = 0; tt < tb; ++tt) {
          const auto* x = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                             (t0 + tt) * a.x_stride);
          float* y = a.y + (t0 + tt) * a.y_stride;
          const uint8_t* tt_tabs = tabs + tt * cb * kLutBlockTables;
          if (n == kGroups)
            lut_groups<L, kGroups>(a, g, x, y, tt_tabs, b0, b1);
          else
            lut_groups<L, 1>(a, g, x, y, tt_tabs, b0, b1);
        }
        g += n == kGroups ? kGroups : 1;
      }
    }
  }
}

}  // namespace
}  // namespace nibble::kernels::x86
