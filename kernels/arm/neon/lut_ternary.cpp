// arm64 NEON lookup-table matmul for ternary weights (TQ2_0, TQ1_0) x Q8_K, in the load-time
// layout "t2x32" (kernels/pack/ternary.cpp) with the same exact int16 tables as the AVX2 LUT
// kernel (kernels/x86/avx2/lut_ternary.cpp, which describes the scheme): per activation pair a
// 16-entry table T[c0 | c1 << 2] = v(c0) x[2p] + v(c1) x[2p+1], v(c) = c - 1 (code 3 = +2, as
// the reference decodes it), stored as a 16-byte low-byte plane and a 16-byte high-byte plane.
// Lookup: TBL (vqtbl1q_u8) on each plane with one 16-row nibble vector, ZIP1/ZIP2 re-join the
// bytes into int16 per-row partial sums; two 16-row halves per 32-row group.
//
// Accumulation: int16 per row over a quarter block (16 steps x 2 lookups x |entry| <= 512:
// |sum| <= 16384 < 2^15), widened into int32 per block by SADDW (<= 65536), then
// float(int32) x (d_w x d_x) FMA'd into f32 per row. Integer sums exact; results differ from
// ref::dot_row only by f32 rounding (tests: relative 1e-5 of |w|.|x|).
// Tables are built for up to 32 (tokens x blocks) at a time, 128 KiB; rows of a group outside
// [row_begin, row_end) are computed into a scratch and not written. Correctness is tested under
// QEMU; no speed has been measured on arm64 hardware (registered below the plain NEON kernel).
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "kernels/formats/blocks.h"
#include "kernels/kernels.h"

namespace nibble::kernels::neon {
namespace {

constexpr int kRows = 32;
constexpr int kPairs = QK_K / 2;
constexpr size_t kTableBytes = 32;
constexpr size_t kBlockTables = kPairs * kTableBytes;  // 4 KiB
constexpr int kMaxTables = 32;
constexpr size_t kBlockBytes = 2 * kRows + QK_K / 4 * kRows;  // 2112

void build_tables(const BlockQ8_K& x, uint8_t* tab) {
  static const int16_t kW0[16] = {-1, 0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2};
  static const int16_t kW1[16] = {-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
  const int16x8_t w0a = vld1q_s16(kW0), w0b = vld1q_s16(kW0 + 8);
  const int16x8_t w1a = vld1q_s16(kW1), w1b = vld1q_s16(kW1 + 8);
  for (int p = 0; p < kPairs; ++p) {
    const int16_t xa = x.qs[2 * p], xb = x.qs[2 * p + 1];
    const int16x8_t ta = vmlaq_n_s16(vmulq_n_s16(w0a, xa), w1a, xb);  // entries 0-7
    const int16x8_t tb = vmlaq_n_s16(vmulq_n_s16(w0b, xa), w1b, xb);  // entries 8-15
    const uint8x16_t ua = vreinterpretq_u8_s16(ta), ub = vreinterpretq_u8_s16(tb);
    vst1q_u8(tab + p * kTableBytes, vuzp1q_u8(ua, ub));       // low bytes of entries 0-15
    vst1q_u8(tab + p * kTableBytes + 16, vuzp2q_u8(ua, ub));  // high bytes
  }
}

inline int16x8_t zip_lo(uint8x16_t l, uint8x16_t h) {
  return vreinterpretq_s16_u8(vzip1q_u8(l, h));
}
inline int16x8_t zip_hi(uint8x16_t l, uint8x16_t h) {
  return vreinterpretq_s16_u8(vzip2q_u8(l, h));
}

// One block of one 32-row group against one token's tables: acc[j] rows 4j..4j+3.
inline void group_block(const uint8_t* blk, const uint8_t* tab, float dx, float32x4_t acc[8]) {
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  const uint8_t* q = blk + 2 * kRows;
  int32x4_t s32[8];
  for (auto& v : s32) v = vdupq_n_s32(0);
  for (int quarter = 0; quarter < 4; ++quarter) {
    int16x8_t a[4] = {vdupq_n_s16(0), vdupq_n_s16(0), vdupq_n_s16(0), vdupq_n_s16(0)};
    for (int s = 16 * quarter; s < 16 * quarter + 16; ++s) {
      const uint8_t* t = tab + 2 * kTableBytes * s;
      const uint8x16_t tl0 = vld1q_u8(t), th0 = vld1q_u8(t + 16);
      const uint8x16_t tl1 = vld1q_u8(t + 32), th1 = vld1q_u8(t + 48);
      for (int h = 0; h < 2; ++h) {  // rows 16h..16h+15
        const uint8x16_t idx = vld1q_u8(q + kRows * s + 16 * h);
        const uint8x16_t i0 = vandq_u8(idx, m4), i1 = vshrq_n_u8(idx, 4);
        const uint8x16_t l0 = vqtbl1q_u8(tl0, i0), h0 = vqtbl1q_u8(th0, i0);
        const uint8x16_t l1 = vqtbl1q_u8(tl1, i1), h1 = vqtbl1q_u8(th1, i1);
        a[2 * h] = vaddq_s16(a[2 * h], vaddq_s16(zip_lo(l0, h0), zip_lo(l1, h1)));
        a[2 * h + 1] = vaddq_s16(a[2 * h + 1], vaddq_s16(zip_hi(l0, h0), zip_hi(l1, h1)));
      }
    }
    for (int j = 0; j < 4; ++j) {  // a[j]: rows 8j..8j+7
      s32[2 * j] = vaddw_s16(s32[2 * j], vget_low_s16(a[j]));
      s32[2 * j + 1] = vaddw_high_s16(s32[2 * j + 1], a[j]);
    }
  }
  uint16_t dh[kRows];
  std::memcpy(dh, blk, sizeof(dh));
  for (int j = 0; j < 8; ++j) {
    const float32x4_t dw = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(dh + 4 * j)));
    acc[j] = vfmaq_f32(acc[j], vcvtq_f32_s32(s32[j]), vmulq_n_f32(dw, dx));
  }
}

void matmul_t2x32(const MatmulArgs& a) {
  const int64_t nb = a.k / QK_K;
  const size_t group_bytes = a.w_row_bytes * kRows;
  alignas(64) uint8_t tabs[kMaxTables * kBlockTables];
  alignas(16) float part[kRows];
  const int64_t g0 = a.row_begin / kRows, g1 = (a.row_end + kRows - 1) / kRows;
  for (int t0 = 0; t0 < a.n_tokens; t0 += kMaxTables) {
    const int tb = std::min(kMaxTables, a.n_tokens - t0);
    const int64_t cb = kMaxTables / tb;
    for (int64_t b0 = 0; b0 < nb; b0 += cb) {
      const int64_t b1 = std::min(nb, b0 + cb);
      for (int tt = 0; tt < tb; ++tt) {
        const auto* x = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                           (t0 + tt) * a.x_stride);
        for (int64_t b = b0; b < b1; ++b)
          build_tables(x[b], tabs + (tt * cb + (b - b0)) * kBlockTables);
      }
      for (int64_t g = g0; g < g1; ++g) {
        const uint8_t* gw = static_cast<const uint8_t*>(a.w) + g * group_bytes;
        const int64_t r0 = g * kRows;
        const bool full = r0 >= a.row_begin && r0 + kRows <= a.row_end;
        for (int tt = 0; tt < tb; ++tt) {
          const auto* x = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a.x) +
                                                             (t0 + tt) * a.x_stride);
          float* y = a.y + (t0 + tt) * a.y_stride;
          float* out = full ? y + r0 : part;
          if (!full) {
            for (int r = 0; r < kRows; ++r) {
              const int64_t row = r0 + r;
              part[r] = (b0 > 0 && row >= a.row_begin && row < a.row_end) ? y[row] : 0.0f;
            }
          }
          float32x4_t acc[8];
          for (int j = 0; j < 8; ++j)
            acc[j] = b0 == 0 && full ? vdupq_n_f32(0) : vld1q_f32(out + 4 * j);
          for (int64_t b = b0; b < b1; ++b)
            group_block(gw + b * kBlockBytes, tabs + (tt * cb + (b - b0)) * kBlockTables, x[b].d,
                        acc);
          for (int j = 0; j < 8; ++j) vst1q_f32(out + 4 * j, acc[j]);
          if (!full) {
            for (int r = 0; r < kRows; ++r) {
              const int64_t row = r0 + r;
              if (row >= a.row_begin && row < a.row_end) y[row] = part[r];
            }
          }
        }
      }
    }
  }
}

}  // namespace

void gemv_tq2_0_q8_k_lut32(const MatmulArgs& a) { matmul_t2x32(a); }
void gemv_tq1_0_q8_k_lut32(const MatmulArgs& a) { matmul_t2x32(a); }

}  // namespace nibble::kernels::neon
