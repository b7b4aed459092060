// The executor's attention (src/graph/attention.h) on synthetic KV caches: the decode schedule
// (units split over KV blocks, block states folded after a barrier) and the prefill schedule
// (tiles of tokens walking their blocks) give bit-identical outputs, for 1, 2 and 3 threads;
// both agree with a double-precision attention within the bound of docs/kernels-ops.md.
// Head dims 64 / 128 / 256, GQA ratios 1 / 4 / 8, f16 and q8_0 caches, sliding windows, depths
// past several blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "graph/attention.h"
#include "kernels/formats/blocks.h"
#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"
#include "runtime/thread_pool.h"

namespace nibble::graph {
namespace {

std::vector<float> gauss(size_t n, uint32_t seed, float sd) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

struct Case {
  int64_t hd, nh, nkv;
  bool q8;
  int64_t window;
};

// Cache of n_ctx positions x nkv heads, head-major like the context's (K dimension-major per 32
// positions, attn_k_put; the lanes past n_ctx NaN); kf / vf the values, position-major
// (position j, head h at (j * nkv + h) * hd).
struct Cache {
  std::vector<uint8_t> k, v;
  std::vector<float> kf, vf;
  KvView view;
};

Cache make_cache(const Case& c, int64_t n_ctx) {
  Cache m;
  const size_t hb = kernels::attn_row_bytes(c.hd, c.q8);
  const size_t head_stride = kernels::attn_k_positions(n_ctx) * hb;
  m.k.assign(head_stride * c.nkv, 0xFF);
  m.v.assign(head_stride * c.nkv, 0xFF);
  auto kx = gauss(n_ctx * c.nkv * c.hd, 1, 1.0f), vx = gauss(n_ctx * c.nkv * c.hd, 2, 1.0f);
  m.kf.resize(kx.size());
  m.vf.resize(vx.size());
  std::vector<uint8_t> row(hb);
  for (int64_t j = 0; j < n_ctx * c.nkv; ++j) {
    const int64_t pos = j / c.nkv, h = j % c.nkv;
    for (int w = 0; w < 2; ++w) {
      const float* src = (w ? vx : kx).data() + j * c.hd;
      uint8_t* dst = w ? m.v.data() + h * head_stride + pos * hb : row.data();
      float* f = (w ? m.vf : m.kf).data() + j * c.hd;
      if (c.q8) {
        kernels::ref::quantize_row(TensorType::Q8_0, src, dst, c.hd);
        kernels::ref::dequantize_row(TensorType::Q8_0, dst, f, c.hd);
      } else {
        auto* hh = reinterpret_cast<uint16_t*>(dst);
        for (int64_t i = 0; i < c.hd; ++i)
          hh[i] = kernels::f32_to_fp16(src[i]), f[i] = kernels::fp16_to_f32(hh[i]);
      }
      if (!w) kernels::attn_k_put(m.k.data() + h * head_stride, c.hd, c.q8, pos, dst);
    }
  }
  m.view = {m.k.data(), m.v.data(), hb, head_stride, c.q8};
  return m;
}

// Attention of n tokens at positions pos0.. with `threads` threads; decode_tokens picks the
// schedule (0: prefill).
std::vector<float> attend(const Case& c, const Cache& m, int64_t n_ctx, const std::vector<float>& q,
                          int64_t pos0, int n, int threads, int decode_tokens) {
  Attention a;
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
  a.init(kernels::KernelTable::get(), {c.hd, c.nh, c.nkv, scale, 0.0f}, static_cast<int>(n_ctx),
         64, threads, c.q8);
  a.set_decode_tokens(decode_tokens);
  std::vector<float> out(n * c.nh * c.hd, std::nanf(""));
  ThreadPool pool(threads);
  pool.run([&](int tid) {
    a.run(tid, pool, m.view, q.data(), c.nh * c.hd, pos0, n, c.window, out.data(), c.nh * c.hd);
  });
  return out;
}

const Case kCases[] = {{64, 32, 8, false, 0},  {64, 32, 8, true, 0},   {128, 8, 8, false, 0},
                       {128, 16, 2, true, 0},  {256, 8, 1, false, 0},  {256, 8, 4, true, 0},
                       {64, 8, 2, false, 100}, {128, 8, 1, true, 70}};

TEST(Attention, SchedulesAndThreadCountsAgreeBitForBit) {
  for (const Case& c : kCases) {
    const int64_t n_ctx = 400, pos0 = 327;
    const int n = 3;
    auto q = gauss(n * c.nh * c.hd, 3, 1.0f);
    Cache m = make_cache(c, n_ctx);
    const auto ref = attend(c, m, n_ctx, q, pos0, n, 1, 0);
    for (int threads : {1, 2, 3})
      for (int dec : {0, 4}) {
        const auto got = attend(c, m, n_ctx, q, pos0, n, threads, dec);
        EXPECT_EQ(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)), 0)
            << "hd " << c.hd << " gqa " << c.nh / c.nkv << " q8 " << c.q8 << " window "
            << c.window << " threads " << threads << (dec ? " decode" : " prefill");
      }
    // A token in a prefill chunk equals the same token decoded alone.
    const auto one = attend(c, m, n_ctx, std::vector<float>(q.begin() + 2 * c.nh * c.hd, q.end()),
                            pos0 + 2, 1, 2, 4);
    EXPECT_EQ(std::memcmp(one.data(), ref.data() + 2 * c.nh * c.hd, one.size() * sizeof(float)), 0)
        << "hd " << c.hd << " q8 " << c.q8;
  }
}

// A long prefill (several tiles, the causal diagonal inside blocks, blocks inside every row's
// range and blocks cut by a window) equals its tokens decoded one at a time, and the same
// prompt in two chunks, bit for bit.
TEST(Attention, LongPrefillEqualsDecodeBitForBit) {
  for (const Case& c : kCases) {
    const int64_t n_ctx = 400, pos0 = 250;
    const int n = 70, cut = 29;
    const size_t row = static_cast<size_t>(c.nh * c.hd);
    auto q = gauss(n * row, 5, 1.0f);
    Cache m = make_cache(c, n_ctx);
    const auto ref = attend(c, m, n_ctx, q, pos0, n, 2, 0);
    const auto first = attend(c, m, n_ctx, std::vector<float>(q.begin(), q.begin() + cut * row),
                              pos0, cut, 1, 0);
    const auto rest = attend(c, m, n_ctx, std::vector<float>(q.begin() + cut * row, q.end()),
                             pos0 + cut, n - cut, 2, 0);
    EXPECT_EQ(std::memcmp(first.data(), ref.data(), first.size() * sizeof(float)), 0)
        << "hd " << c.hd << " q8 " << c.q8 << " window " << c.window << " first chunk";
    EXPECT_EQ(std::memcmp(rest.data(), ref.data() + cut * row, rest.size() * sizeof(float)), 0)
        << "hd " << c.hd << " q8 " << c.q8 << " window " << c.window << " second chunk";
    for (int t = 0; t < n; t += 3) {
      const auto one = attend(c, m, n_ctx, std::vector<float>(q.begin() + t * row, q.begin() + (t + 1) * row),
                              pos0 + t, 1, 2, 4);
      EXPECT_EQ(std::memcmp(one.data(), ref.data() + t * row, row * sizeof(float)), 0)
          << "hd " << c.hd << " q8 " << c.q8 << " window " << c.window << " token " << t;
    }
  }
}

// The kernels read K a group of 32 positions at a time, past the causal end and before a
// window's start: what the cache holds at positions outside every query's range (NaN here,
// as a rolled-back or never-written cell may hold anything) does not change a bit.
TEST(Attention, PositionsOutsideTheRangesAreNotUsed) {
  for (const Case& c : kCases) {
    const int64_t n_ctx = 300, pos0 = 250;
    const int n = 3;
    auto q = gauss(n * c.nh * c.hd, 5, 1.0f);
    Cache m = make_cache(c, n_ctx);
    Cache poisoned = m;
    const size_t hb = m.view.row_bytes;
    const std::vector<uint8_t> nan_row(hb, 0xFF);  // f16 NaNs, or q8_0 blocks with NaN scales
    const int64_t first = c.window ? pos0 - c.window + 1 : 0;
    for (int64_t kh = 0; kh < c.nkv; ++kh)
      for (int64_t j = 0; j < n_ctx; ++j) {
        if (j >= first && j < pos0 + n) continue;
        kernels::attn_k_put(poisoned.k.data() + kh * m.view.head_stride, c.hd, c.q8, j,
                            nan_row.data());
        std::memcpy(poisoned.v.data() + kh * m.view.head_stride + j * hb, nan_row.data(), hb);
      }
    poisoned.view = {poisoned.k.data(), poisoned.v.data(), hb, m.view.head_stride, c.q8};
    for (int dec : {0, 4}) {
      const auto ref = attend(c, m, n_ctx, q, pos0, n, 2, dec);
      const auto got = attend(c, poisoned, n_ctx, q, pos0, n, 2, dec);
      EXPECT_EQ(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)), 0)
          << "hd " << c.hd << " q8 " << c.q8 << " window " << c.window << (dec ? " decode" : "");
    }
  }
}

TEST(Attention, MatchesDoubleWithinBound) {
  for (const Case& c : kCases) {
    const int64_t n_ctx = 700, pos0 = 600;
    const int n = 5;
    auto q = gauss(n * c.nh * c.hd, 4, 1.0f);
    Cache m = make_cache(c, n_ctx);
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
    for (int dec : {0, 4}) {
      const auto out = attend(c, m, n_ctx, q, pos0, n, 2, dec);
      for (int t = 0; t < n; ++t) {
        const int64_t pos = pos0 + t, lo = c.window ? std::max<int64_t>(0, pos - c.window + 1) : 0;
        for (int64_t h = 0; h < c.nh; ++h) {
          const int64_t kh = h / (c.nh / c.nkv);
          const float* qh = q.data() + (t * c.nh + h) * c.hd;
          // q8_0 K: q is quantized to q8_0 (decision 61); each value moves by at most 0.6 of
          // its block's scale (tests/kernels/attn_test.cpp, q8_delta).
          std::vector<kernels::BlockQ8_0> qb(c.hd / kernels::QK);
          if (c.q8) kernels::ref::quantize_row(TensorType::Q8_0, qh, qb.data(), c.hd);
          std::vector<double> s(pos + 1);
          double mx = -1e300, delta = 0, vmax = 0;
          for (int64_t j = lo; j <= pos; ++j) {
            const float* kr = m.kf.data() + (j * c.nkv + kh) * c.hd;
            double d = 0, da = 0, dq = 0;
            for (int64_t i = 0; i < c.hd; ++i) {
              d += static_cast<double>(qh[i]) * kr[i];
              if (c.q8) dq += 0.6 * kernels::fp16_to_f32(qb[i / kernels::QK].d) * std::fabs(kr[i]);
              da += std::fabs(static_cast<double>(qh[i]) * kr[i]);
              vmax = std::max(vmax, std::fabs(static_cast<double>(m.vf[(j * c.nkv + kh) * c.hd + i])));
            }
            s[j] = d * scale;
            mx = std::max(mx, s[j]);
            delta = std::max(delta, (da * std::ldexp(1.0, -11) + dq) * scale);
          }
          const double bound =
              (std::expm1(2 * delta) + std::ldexp(1.0, -11) * std::exp(2 * delta)) * vmax + 1e-5;
          for (int64_t i = 0; i < c.hd; ++i) {
            double num = 0, den = 0;
            for (int64_t j = lo; j <= pos; ++j) {
              const double p = std::exp(s[j] - mx);
              num += p * m.vf[(j * c.nkv + kh) * c.hd + i];
              den += p;
            }
            ASSERT_NEAR(out[(t * c.nh + h) * c.hd + i], num / den, bound)
                << "hd " << c.hd << " q8 " << c.q8 << " window " << c.window << " token " << t
                << " head " << h << (dec ? " decode" : " prefill");
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace nibble::graph
