// The t2x32 driver of the VNNI ternary kernels (kernels/x86/{avxvnni,avx512vnni}/
// lut_ternary.cpp): one token goes to the LUT GEMV of the same layout (avx2 / avx512), two or
// more to the policy's vpdpbusd tile P::tokens<NT>(a, t0, g): NT tokens (kLutTokens at a time,
// then 3/2/1) x one 32-row group. Plus the helpers those tiles share. Internal linkage
// (kernels/x86/common/isa.h).
#pragma once

#include "kernels/x86/common/lut_driver.h"

namespace nibble::kernels::x86 {
namespace {

constexpr int kLutTokens = 4;  // tokens per vpdpbusd tile

// The Q8_K rows of tokens t0 .. t0 + NT - 1.
template <int NT>
inline void lut_token_rows(const MatmulArgs& a, int t0, const BlockQ8_K* (&x)[NT]) {
  for (int t = 0; t < NT; ++t)
    x[t] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                              (t0 + t) * a.x_stride);
}

// Token t's 32 rows of group g: store(dst) writes them (32 floats), straight into y when the
// group lies inside [row_begin, row_end), else into a scratch of which only those rows are
// copied (padding rows, or a range that does not start at a multiple of 32).
template <class Store>
inline void lut_store_group(const MatmulArgs& a, int t, int64_t g, Store store) {
  float* y = a.y + t * a.y_stride;
  const int64_t r0 = g * kLutRows;
  if (r0 >= a.row_begin && r0 + kLutRows <= a.row_end) {
    store(y + r0);
    return;
  }
  alignas(64) float part[kLutRows];
  store(part);
  for (int r = 0; r < kLutRows; ++r) {
    const int64_t row = r0 + r;
    if (row >= a.row_begin && row < a.row_end) y[row] = part[r];
  }
}

template <class P>
concept X86LutPrefill = requires(const MatmulArgs& a) {
  P::template tokens<1>(a, 0, int64_t{0});
};

template <X86LutPrefill P>
void matmul_t2x32_vnni(const MatmulArgs& a, MatmulFn gemv_lut) {
  if (a.n_tokens < 2) {
    gemv_lut(a);  // same layout; tables beat vpdpbusd for one token
    return;
  }
  // Groups outer, token tiles inner: a group's weights (2112 bytes per block) are read from
  // memory once and stay in L1/L2 for all the token tiles.
  const int64_t g0 = a.row_begin / kLutRows, g1 = (a.row_end + kLutRows - 1) / kLutRows;
  for (int64_t g = g0; g < g1; ++g) {
    int t = 0;
    for (; t + kLutTokens <= a.n_tokens; t += kLutTokens) P::template tokens<kLutTokens>(a, t, g);
    switch (a.n_tokens - t) {
      case 3:
        P::template tokens<3>(a, t, g);
        break;
      case 2:
        P::template tokens<2>(a, t, g);
        break;
      case 1:
        P::template tokens<1>(a, t, g);
        break;
      default:
        break;
    }
  }
}

}  // namespace
}  // namespace nibble::kernels::x86
