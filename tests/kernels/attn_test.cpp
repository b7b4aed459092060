// The attention kernels (kernels/attention.h): every compiled table against the scalar
// reference, and whole attentions (scores, expsum and values over the blocks, as the executor
// runs them) against a double-precision softmax attention over the same cached K/V values with
// the unrounded q, within the bound stated in docs/kernels-ops.md:
//   |out - exact| <= (e^(2 delta) - 1 + 2^-11 e^(2 delta)) * max_j |v_j| + 1e-5,
//   delta = scale * 2^-11 * max_j sum_d |q_d k_jd|   (q rounded to f16; p rounded to f16).
// Random data; head dims 64 / 128 / 256 (and 80, 8 for f16), 1 to 16 query rows, f16 and q8_0
// rows, ranges that start and end inside blocks (windows, the causal end), empty ranges.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/attention.h"
#include "kernels/formats/blocks.h"
#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"
#include "tests/kernels/test_data.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace nibble::kernels {
namespace {

// A KV cache of n positions x one head, in f16 or q8_0, and the exact f32 values it holds. K
// is in the cache's layout (dimension-major per kKGroup positions, attn_k_put); the lanes of its
// last group past n are NaN (all-ones bytes: f16 NaN, q8_0 NaN scales), which the kernels read
// and must mask.
struct Cache {
  std::vector<uint8_t> k, v;
  std::vector<float> kf, vf;  // n x hd, the stored values
  size_t row_bytes = 0;
};

Cache make_cache(int64_t n, int64_t hd, bool q8, uint32_t seed, float kscale) {
  Cache c;
  c.row_bytes = q8 ? static_cast<size_t>(hd / QK) * sizeof(BlockQ8_0) : hd * sizeof(uint16_t);
  auto kx = gaussian(n * hd, seed), vx = gaussian(n * hd, seed + 1);
  for (float& x : kx) x *= kscale;
  c.k.assign(attn_k_positions(n) * c.row_bytes, 0xFF);
  c.v.resize(n * c.row_bytes);
  std::vector<uint8_t> row(c.row_bytes);
  c.kf.resize(n * hd);
  c.vf.resize(n * hd);
  for (int64_t j = 0; j < n; ++j) {
    for (int which = 0; which < 2; ++which) {
      const float* src = (which ? vx : kx).data() + j * hd;
      uint8_t* dst = which ? c.v.data() + j * c.row_bytes : row.data();
      float* f = (which ? c.vf : c.kf).data() + j * hd;
      if (q8) {
        ref::quantize_row(TensorType::Q8_0, src, dst, hd);
        ref::dequantize_row(TensorType::Q8_0, dst, f, hd);
      } else {
        auto* h = reinterpret_cast<uint16_t*>(dst);
        for (int64_t i = 0; i < hd; ++i) h[i] = f32_to_fp16(src[i]), f[i] = fp16_to_f32(h[i]);
      }
      if (!which) attn_k_put(c.k.data(), hd, q8, j, dst);
    }
  }
  return c;
}

// Query rows rounded to f16 and zero padded, as the executor passes them.
std::vector<float> round_rows(const std::vector<float>& q, int nq, int64_t hd) {
  const int64_t hp = attn_padded(hd);
  std::vector<float> r(nq * hp, 0.0f);
  for (int i = 0; i < nq; ++i)
    for (int64_t d = 0; d < hd; ++d) r[i * hp + d] = fp16_to_f32(f32_to_fp16(q[i * hd + d]));
  return r;
}

// Query rows (nq x attn_padded(hd) floats, padding ignored) quantized to q8_0, as the executor
// passes them for a q8_0 K: nq x hd / 32 AttnQ8.
std::vector<AttnQ8> q8_rows(const std::vector<float>& q, int nq, int64_t hd) {
  const int64_t hp = attn_padded(hd), nb = hd / QK;
  std::vector<AttnQ8> r(nq * nb);
  std::vector<BlockQ8_0> blk(nb);
  for (int i = 0; i < nq; ++i) {
    ref::quantize_row(TensorType::Q8_0, q.data() + i * hp, blk.data(), hd);
    attn_q8_from_blocks(blk.data(), hd, r.data() + i * nb);
  }
  return r;
}

// The q8_0 score of query row q (hd / 32 AttnQ8) against position j of cache c (decision 61):
// per 32-dimension block the exact integer dot product, fma'd in block order.
float fma_exact(float a, float b, float c);
float q8_score(const AttnQ8* q, const Cache& c, int64_t hd, int64_t j) {
  std::vector<uint8_t> row(c.row_bytes);
  attn_k_get(c.k.data(), hd, true, j, row.data());
  float s = 0;
  for (int64_t b = 0; b < hd / QK; ++b) {
    BlockQ8_0 blk;
    std::memcpy(&blk, row.data() + b * sizeof blk, sizeof blk);
    int32_t isum = 0;
    for (int e = 0; e < QK; ++e) isum += q[b].qs[e] * blk.qs[e];
    s = fma_exact(static_cast<float>(isum), q[b].d * fp16_to_f32(blk.d), s);
  }
  return s;
}

float* aligned(std::vector<float>& buf, size_t n) {
  buf.assign(n + 16, std::numeric_limits<float>::quiet_NaN());
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t{63});
}

// Whole attention of nq rows over positions [lo[i], hi[i]) of cache c, as the executor runs
// it: scores over the blocks, max, expsum per block summed in order, values summed in order.
struct AttnRun {
  std::vector<float> out, m, l, s;  // out: nq x hd; s: nq x padded positions (after expsum)
};

AttnRun attend(const AttnOps& ops, const std::vector<float>& qr, int nq, int64_t hd, const Cache& c,
           int64_t n_pos, bool q8, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi,
           float scale, float cap) {
  const int64_t hp = attn_padded(hd), nb = (n_pos + kAttnBlock - 1) / kAttnBlock;
  const size_t stride = nb * kAttnBlock;
  std::vector<float> qb, sb, tb, ab, bm(nq), inv(nq);
  float* q = aligned(qb, qr.size());
  std::copy(qr.begin(), qr.end(), q);
  const std::vector<AttnQ8> qq = q8 ? q8_rows(qr, nq, hd) : std::vector<AttnQ8>();
  float* s = aligned(sb, nq * stride);
  float* tile = aligned(tb, attn_scratch_floats(hd));
  float* a = aligned(ab, nq * hp);
  std::vector<int32_t> l32(nq), h32(nq);
  AttnRun r;
  r.out.assign(nq * hd, 0.0f);
  r.m.assign(nq, -std::numeric_limits<float>::infinity());
  r.l.assign(nq, 0.0f);
  auto args = [&](int64_t b) {
    for (int i = 0; i < nq; ++i) {
      l32[i] = static_cast<int32_t>(std::clamp<int64_t>(lo[i] - b * kAttnBlock, 0, kAttnBlock));
      h32[i] = static_cast<int32_t>(std::clamp<int64_t>(hi[i] - b * kAttnBlock, 0, kAttnBlock));
    }
    AttnBlock k;
    k.q = q, k.q8 = qq.data(), k.nq = nq, k.head_dim = hd;
    k.k = c.k.data() + b * kAttnBlock * c.row_bytes, k.v = c.v.data() + b * kAttnBlock * c.row_bytes;
    k.row_bytes = c.row_bytes, k.q8_0 = q8, k.lo = l32.data(), k.hi = h32.data();
    k.scale = scale, k.softcap = cap, k.s = s + b * kAttnBlock, k.s_stride = stride;
    k.m = bm.data(), k.inv_l = inv.data(), k.a = a, k.scratch = tile;
    return k;
  };
  for (int64_t b = 0; b < nb; ++b) {
    ops.scores(args(b));
    for (int i = 0; i < nq; ++i) r.m[i] = std::max(r.m[i], bm[i]);
  }
  for (int i = 0; i < nq; ++i) {
    for (int64_t b = 0; b < nb; ++b) {
      args(b);
      r.l[i] += ops.expsum(s + i * stride + b * kAttnBlock, l32[i], h32[i], r.m[i]);
    }
    inv[i] = 1.0f / r.l[i];
  }
  for (int64_t b = 0; b < nb; ++b) {
    ops.values(args(b));
    for (int i = 0; i < nq; ++i)
      if (l32[i] < h32[i])
        for (int64_t d = 0; d < hd; ++d) r.out[i * hd + d] += a[i * hp + d];
  }
  r.s.assign(s, s + nq * stride);
  return r;
}

struct Shape {
  int64_t hd;
  bool q8;
};
const Shape kShapes[] = {{64, false}, {128, false}, {256, false}, {80, false}, {8, false},
                         {64, true},  {128, true},  {256, true}};

// max over j in [lo, hi) of scale * sum_d |q_d k_jd|, and of |v_jd| for each d.
double qk_abs(const std::vector<float>& q, int64_t hd, const Cache& c, int64_t lo, int64_t hi,
              float scale) {
  double mx = 0;
  for (int64_t j = lo; j < hi; ++j) {
    double t = 0;
    for (int64_t d = 0; d < hd; ++d) t += std::fabs(q[d] * c.kf[j * hd + d]);
    mx = std::max(mx, t * scale);
  }
  return mx;
}

// A q8_0 K's score error from q's quantization (decision 61): each value of q moves by at most
// 0.6 d of its block (half a step, and the scale's rounding to f16: 127 x 2^-11 d), so
// max over j of scale * sum_d 0.6 d_b(d) |k_jd|, plus 2^-20 of scale * sum_d |q_d k_jd| for the
// block steps' f32 roundings (at most head_dim / 32 of them).
double q8_delta(const std::vector<AttnQ8>& q, int64_t hd, const Cache& c, int64_t lo, int64_t hi,
                float scale) {
  double mx = 0;
  for (int64_t j = lo; j < hi; ++j) {
    double t = 0, a = 0;
    for (int64_t d = 0; d < hd; ++d) {
      t += 0.6 * q[d / QK].d * std::fabs(c.kf[j * hd + d]);
      a += std::fabs(q[d / QK].d * q[d / QK].qs[d % QK] * c.kf[j * hd + d]);
    }
    mx = std::max(mx, (t + std::ldexp(a, -20)) * scale);
  }
  return mx;
}

// The K layout (kernels/attention.h): rows come back as they went in, and a group of 32
// positions holds dimension d of position j at half d * 32 + j % 32 (f16), scale j % 32 and
// value (c, e) at 64 + (e / 4) * 128 + (j % 32) * 4 + e % 4 of block c's 32 x 34 bytes (q8_0).
TEST(Attn, KLayoutIsDimensionMajorPerGroup) {
  static_assert(kKGroup == 32, "the offsets below spell out the layout for 32");
  for (bool q8 : {false, true}) {
    const int64_t hd = 64, n = 77;
    const size_t rb = attn_row_bytes(hd, q8);
    std::vector<uint8_t> k(attn_k_positions(n) * rb, 0), rows(n * rb), back(rb);
    EXPECT_EQ(k.size(), 96 * rb);
    std::mt19937 rng(3);
    for (uint8_t& x : rows) x = static_cast<uint8_t>(rng());
    for (int64_t j = 0; j < n; ++j) attn_k_put(k.data(), hd, q8, j, rows.data() + j * rb);
    for (int64_t j = 0; j < n; ++j) {
      attn_k_get(k.data(), hd, q8, j, back.data());
      ASSERT_EQ(std::memcmp(back.data(), rows.data() + j * rb, rb), 0) << "q8 " << q8 << " pos " << j;
    }
    const int64_t j = 69, d = 37;  // group 2, lane 5; q8_0: block 1, element 5
    const uint8_t* grp = k.data() + 64 * rb;
    const uint8_t* row = rows.data() + j * rb;
    if (!q8) {
      EXPECT_EQ(std::memcmp(grp + (d * 32 + 5) * 2, row + d * 2, 2), 0);
    } else {
      const uint8_t* blk = grp + 32 * sizeof(BlockQ8_0);
      EXPECT_EQ(std::memcmp(blk + 5 * 2, row + sizeof(BlockQ8_0), 2), 0);  // the scale
      EXPECT_EQ(blk[64 + 1 * 128 + 5 * 4 + 1], row[sizeof(BlockQ8_0) + 2 + 5]);
    }
  }
}

TEST(Attn, KernelsMatchReference) {
  const AttnOps& ref_ops = *attn_op_tables()[0];
  for (const AttnOps* ops : attn_op_tables()) {
    if (!isa_supported(ops->isa)) {
      std::printf("skipped %s: CPU lacks it\n", ops->name);
      continue;
    }
    for (const Shape& sh : kShapes) {
      for (int nq : {1, 4, 16}) {
        const int64_t hd = sh.hd, hp = attn_padded(hd), n_pos = 200;
        const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
        Cache c = make_cache(n_pos, hd, sh.q8, 11 + nq, 1.5f);
        auto qr = round_rows(gaussian(nq * hd, 5 + hd), nq, hd);
        std::vector<int64_t> lo(nq), hi(nq);
        for (int i = 0; i < nq; ++i) {
          lo[i] = (i * 37) % 90;  // windows starting inside a block
          hi[i] = std::min<int64_t>(n_pos, lo[i] + 1 + (i * 53) % 150);
        }
        for (float cap : {0.0f, 5.0f}) {
          const AttnRun got = attend(*ops, qr, nq, hd, c, n_pos, sh.q8, lo, hi, scale, cap);
          const AttnRun want = attend(ref_ops, qr, nq, hd, c, n_pos, sh.q8, lo, hi, scale, cap);
          for (int i = 0; i < nq; ++i) {
            SCOPED_TRACE(::testing::Message() << ops->name << " hd " << hd << " q8 " << sh.q8
                                              << " nq " << nq << " row " << i << " cap " << cap);
            const std::vector<float> qi(qr.begin() + i * hp, qr.begin() + i * hp + hd);
            EXPECT_NEAR(got.m[i], want.m[i], 2e-6 * qk_abs(qi, hd, c, lo[i], hi[i], scale) + 1e-6);
            EXPECT_NEAR(got.l[i], want.l[i], 1e-4 * want.l[i]);
            for (int64_t d = 0; d < hd; ++d) {
              double pv = 0;
              for (int64_t j = lo[i]; j < hi[i]; ++j) pv += std::fabs(c.vf[j * hd + d]) / want.l[i];
              ASSERT_NEAR(got.out[i * hd + d], want.out[i * hd + d], 1e-3 * pv + 1e-6) << "dim " << d;
            }
          }
        }
      }
    }
  }
}

// One correctly rounded fma for the reference chain below. On x86-64 the instruction (every
// non-scalar table requires FMA): mingw-w64's std::fma(float) goes through double and can
// round twice, one ulp off the hardware's (seen under wine).
#if defined(__x86_64__) || defined(_M_X64)
__attribute__((target("fma"))) float fma_exact(float a, float b, float c) {
  return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}
#else
float fma_exact(float a, float b, float c) { return std::fma(a, b, c); }
#endif

// Every table's scores over an f16 K are the FMA chain s = fma(q_d, k_d, s) over d in order,
// times scale (decision 31), bit for bit, on the decode calls of 1-4 rows (K from the cache) and
// on the tile path (16 rows); over a q8_0 K, every table's (the scalar one's too) are the
// integer dot products per 32-dimension block fma'd in block order (decision 61). Ranges
// starting and ending inside blocks.
TEST(Attn, ScoresAreOneFmaChainInDimensionOrder) {
  for (const AttnOps* ops : attn_op_tables()) {
    if (!isa_supported(ops->isa)) continue;
    for (const Shape& sh : kShapes) {
      for (int nq : {1, 2, 3, 4, 16}) {
        const int64_t hd = sh.hd, hp = attn_padded(hd), n_pos = 3 * kAttnBlock;
        const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
        Cache c = make_cache(n_pos, hd, sh.q8, 21 + nq, 1.5f);
        if (ops->isa == Isa::scalar && !sh.q8) continue;  // the reference rounds f16 products
        auto qr = round_rows(gaussian(nq * hd, 7 + hd), nq, hd);
        const std::vector<AttnQ8> q8 = sh.q8 ? q8_rows(qr, nq, hd) : std::vector<AttnQ8>();
        std::vector<float> qb, sb, tb, bm(nq);
        float* q = aligned(qb, qr.size());
        std::copy(qr.begin(), qr.end(), q);
        float* s = aligned(sb, nq * kAttnBlock);
        float* tile = aligned(tb, attn_scratch_floats(hd));
        std::vector<int32_t> lo(nq), hi(nq);
        for (int64_t b = 0; b < n_pos / kAttnBlock; ++b) {
          for (int i = 0; i < nq; ++i) lo[i] = (i * 7) % 20, hi[i] = kAttnBlock - (i * 5) % 30;
          AttnBlock k;
          k.q = q, k.q8 = q8.data(), k.nq = nq, k.head_dim = hd;
          k.k = c.k.data() + b * kAttnBlock * c.row_bytes;
          k.row_bytes = c.row_bytes, k.q8_0 = sh.q8, k.lo = lo.data(), k.hi = hi.data();
          k.scale = scale, k.s = s, k.s_stride = kAttnBlock, k.m = bm.data(), k.scratch = tile;
          ops->scores(k);
          for (int i = 0; i < nq; ++i)
            for (int64_t j = lo[i]; j < hi[i]; ++j) {
              float want = 0;
              if (sh.q8)
                want = q8_score(q8.data() + i * (hd / QK), c, hd, b * kAttnBlock + j);
              else
                for (int64_t d = 0; d < hd; ++d)
                  want = fma_exact(q[i * hp + d], c.kf[(b * kAttnBlock + j) * hd + d], want);
              ASSERT_EQ(s[i * kAttnBlock + j], want * scale)
                  << ops->name << " hd " << hd << " q8 " << sh.q8 << " nq " << nq << " row " << i
                  << " position " << b * kAttnBlock + j;
            }
        }
      }
    }
  }
}

// expsum_range (one call per row, the prefill executor's) gives the same probabilities and the
// same sum, bit for bit, as expsum called block by block with the sums added in order (decode's
// and the reference's way), for ranges that start and end inside blocks or on their bounds.
TEST(Attn, ExpsumRangeEqualsBlockByBlock) {
  constexpr int64_t n = 5 * kAttnBlock;
  const float kNegInf = -std::numeric_limits<float>::infinity();
  for (const AttnOps* ops : attn_op_tables()) {
    if (!isa_supported(ops->isa)) continue;
    std::vector<float> b1(n + 16), b2(n + 16);
    for (auto [lo, hi] : {std::pair<int64_t, int64_t>{0, n}, {0, 1}, {5, 70}, {64, 128},
                          {63, 257}, {100, 101}, {130, 319}, {0, 200}}) {
      const auto g = gaussian(n, static_cast<uint32_t>(7 + lo + 3 * hi));
      float* s1 = aligned(b1, n);
      float* s2 = aligned(b2, n);
      for (int64_t j = 0; j < n; ++j) s1[j] = s2[j] = j >= lo && j < hi ? 4 * g[j] : kNegInf;
      const float m = *std::max_element(s1 + lo, s1 + hi);
      float l1 = 0;
      for (int64_t j0 = lo / kAttnBlock * kAttnBlock; j0 < hi; j0 += kAttnBlock)
        l1 += ops->expsum(s1 + j0, static_cast<int32_t>(std::max<int64_t>(lo - j0, 0)),
                          static_cast<int32_t>(std::min<int64_t>(hi - j0, kAttnBlock)), m);
      const float l2 = ops->expsum_range(s2, lo, hi, m);
      EXPECT_EQ(std::memcmp(&l1, &l2, sizeof l1), 0) << ops->name << " [" << lo << ", " << hi << ")";
      EXPECT_EQ(std::memcmp(s1, s2, n * sizeof(float)), 0) << ops->name << " [" << lo << ", " << hi << ")";
      EXPECT_GT(l2, 0.5f) << ops->name;  // the max's own term is 1
    }
  }
}

// The probabilities are xsimd's float exp on every SIMD table, bit for bit, including where a
// table computes it with its own instructions (avx512: attn_exp_nonpos, vscalefps): x = s - m
// on a dense grid of [-100, 0] and around the underflow edge (k = -126 / -127, xsimd's minlog),
// -inf (masked lanes). Past that, 0; within 3 ulp of libm's exp where the result is normal.
TEST(Attn, ExpsumIsXsimdExpOnEveryTable) {
  constexpr int64_t n = 4 * kAttnBlock;
  const float kNegInf = -std::numeric_limits<float>::infinity();
  std::vector<float> xs;
  for (int i = 0; i <= 100000; ++i) xs.push_back(-100.0f * static_cast<float>(i) / 100000.0f);
  for (float edge : {-87.33654f, -87.68f, -88.02969f, -88.37626f, -88.72283f, -103.9f})
    for (int u = -64; u <= 64; ++u) xs.push_back(edge + static_cast<float>(u) * 1e-5f);
  xs.push_back(kNegInf);
  const float m = 3.25f;  // s = m + x: the row's max is m itself (x = 0 is in the grid)
  std::vector<float> first, buf(n + 16);
  const char* first_name = nullptr;
  for (const AttnOps* ops : attn_op_tables()) {
    if (!isa_supported(ops->isa) || ops->isa == Isa::scalar) continue;
    std::vector<float> p;
    for (size_t i0 = 0; i0 < xs.size(); i0 += n) {
      float* s = aligned(buf, n);
      const int64_t k = std::min<int64_t>(n, static_cast<int64_t>(xs.size() - i0));
      for (int64_t j = 0; j < k; ++j) s[j] = xs[i0 + j] == kNegInf ? kNegInf : m + xs[i0 + j];
      ops->expsum_range(s, 0, k, m);
      p.insert(p.end(), s, s + k);
    }
    for (size_t i = 0; i < xs.size(); ++i) {
      const float x = xs[i] == kNegInf ? kNegInf : (m + xs[i]) - m;
      ASSERT_GE(p[i], 0.0f) << ops->name << " x " << x;
      if (x <= -88.3763f) {
        EXPECT_EQ(p[i], 0.0f) << ops->name << " x " << x;
      } else if (std::exp(static_cast<double>(x)) >= 0x1p-126) {
        const double e = std::exp(static_cast<double>(x));
        EXPECT_LE(std::abs(p[i] - e), 3 * e * 0x1p-24) << ops->name << " x " << x;
      }
    }
    if (first_name == nullptr) {
      first = p, first_name = ops->name;
      continue;
    }
    for (size_t i = 0; i < xs.size(); ++i)
      ASSERT_EQ(std::memcmp(&p[i], &first[i], sizeof(float)), 0)
          << ops->name << " vs " << first_name << " at s - m = " << xs[i] << ": " << p[i]
          << " vs " << first[i];
  }
}

// values with accumulate (a_i += the block's output, as prefill runs it) equals values stored
// then added (as decode sums its block outputs): the same bits; rows with no position in the
// block keep their running sums.
TEST(Attn, ValuesAccumulateEqualsStoreThenAdd) {
  for (const AttnOps* ops : attn_op_tables()) {
    if (!isa_supported(ops->isa)) continue;
    for (const Shape& sh : kShapes) {
      const int64_t hd = sh.hd, hp = attn_padded(hd);
      const Cache c = make_cache(kAttnBlock, hd, sh.q8, 91, 1.0f);
      for (int nq : {1, 3, 4, 8, 13}) {
        std::vector<int32_t> lo(nq), hi(nq);
        for (int i = 0; i < nq; ++i) {  // causal ends, a window start, empty rows
          lo[i] = i % 5 == 3 ? 17 : 0;
          hi[i] = i % 4 == 2 ? 0 : static_cast<int32_t>(std::min<int64_t>(kAttnBlock, 9 + 7 * i));
        }
        std::vector<float> sb, tb, ab, rb, inv(nq);
        float* s = aligned(sb, nq * kAttnBlock);
        float* tile = aligned(tb, attn_scratch_floats(hd));
        float* a = aligned(ab, nq * hp);
        float* run = aligned(rb, nq * hp);
        const auto g = gaussian(nq * kAttnBlock + nq * hp, 5 + nq);
        for (int i = 0; i < nq; ++i) {
          for (int64_t j = 0; j < kAttnBlock; ++j)
            s[i * kAttnBlock + j] = j >= lo[i] && j < hi[i] ? std::fabs(g[i * kAttnBlock + j]) : 0;
          inv[i] = 0.03f + 0.01f * i;
        }
        for (int64_t x = 0; x < nq * hp; ++x) run[x] = g[nq * kAttnBlock + x];
        const std::vector<float> before(run, run + nq * hp);
        AttnBlock k;
        k.nq = nq, k.head_dim = hd, k.k = c.k.data(), k.v = c.v.data(), k.row_bytes = c.row_bytes;
        k.q8_0 = sh.q8, k.lo = lo.data(), k.hi = hi.data(), k.s = s, k.s_stride = kAttnBlock;
        k.inv_l = inv.data(), k.a = a, k.scratch = tile;
        ops->values(k);
        k.a = run, k.accumulate = true;
        ops->values(k);
        for (int i = 0; i < nq; ++i)
          for (int64_t d = 0; d < hd; ++d) {
            const float want = lo[i] < hi[i] ? before[i * hp + d] + a[i * hp + d] : before[i * hp + d];
            ASSERT_EQ(std::memcmp(&want, run + i * hp + d, sizeof want), 0)
                << ops->name << " hd " << hd << (sh.q8 ? " q8" : " f16") << " nq " << nq
                << " row " << i << " d " << d;
          }
      }
    }
  }
}

// Whole attentions against double precision with the unrounded q, within the stated bound.
TEST(Attn, MatchesDoubleWithinBound) {
  for (const AttnOps* ops : attn_op_tables()) {
    if (!isa_supported(ops->isa)) continue;
    for (const Shape& sh : kShapes) {
      const int64_t hd = sh.hd, n_pos = 300;
      const int nq = 4;
      const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
      Cache c = make_cache(n_pos, hd, sh.q8, 21, 3.0f);  // peaked softmax
      auto q = gaussian(nq * hd, 31);
      for (int64_t window : {int64_t{0}, int64_t{100}}) {
        const int64_t pos = 290, lo = window ? pos - window + 1 : 0;
        const AttnRun r = attend(*ops, round_rows(q, nq, hd), nq, hd, c, n_pos, sh.q8,
                             std::vector<int64_t>(nq, lo), std::vector<int64_t>(nq, pos + 1),
                             scale, 0.0f);
        for (int i = 0; i < nq; ++i) {
          std::vector<double> s(pos + 1);
          double mx = -1e300, vmax = 0;
          for (int64_t j = lo; j <= pos; ++j) {
            double t = 0;
            for (int64_t d = 0; d < hd; ++d) {
              t += static_cast<double>(q[i * hd + d]) * c.kf[j * hd + d];
              vmax = std::max(vmax, static_cast<double>(std::fabs(c.vf[j * hd + d])));
            }
            s[j] = t * scale;
            mx = std::max(mx, s[j]);
          }
          const std::vector<float> qi(q.begin() + i * hd, q.begin() + (i + 1) * hd);
          double delta = qk_abs(qi, hd, c, lo, pos + 1, scale) * std::ldexp(1.0, -11);
          if (sh.q8) delta += q8_delta(q8_rows(round_rows(qi, 1, hd), 1, hd), hd, c, lo, pos + 1, scale);
          const double bound =
              (std::expm1(2 * delta) + std::ldexp(1.0, -11) * std::exp(2 * delta)) * vmax + 1e-5;
          for (int64_t d = 0; d < hd; ++d) {
            double num = 0, den = 0;
            for (int64_t j = lo; j <= pos; ++j) {
              const double p = std::exp(s[j] - mx);
              num += p * c.vf[j * hd + d];
              den += p;
            }
            ASSERT_NEAR(r.out[i * hd + d], num / den, bound)
                << ops->name << " hd " << hd << " q8 " << sh.q8 << " window " << window;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace nibble::kernels
