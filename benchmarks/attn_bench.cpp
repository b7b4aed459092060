// Decode attention at depth on the 1B llama shape (head_dim 64, 32 query heads, 8 KV heads),
// over 16 layers of head-major caches like the context's (decision 33; K dimension-major per
// 32 positions), random f16 or q8_0 values: the attention part of one decode step, without the matmuls. Prints the median, min
// and max milliseconds per step over the repetitions and the KV stream in GB/s.
//   attn_bench [depth=4096] [q8=0] [threads=2] [reps=20] [layers=16] [flush_mb=600] [batch=0]
// batch > 0: prefill instead: the depth + 1 positions' attention as a prompt in batches of
// `batch` tokens (the engine's -b), every layer per batch; prints ms and G multiply-adds/s.
// Not a ctest; an A/B tool for docs/kernels-ops.md (run it under `chrt -f 50`).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "graph/attention.h"
#include "kernels/formats/blocks.h"
#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"
#include "runtime/large_buffer.h"
#include "runtime/thread_pool.h"

using namespace nibble;

int main(int argc, char** argv) {
  const int64_t depth = argc > 1 ? std::atoll(argv[1]) : 4096;
  const bool q8 = argc > 2 && std::atoi(argv[2]) != 0;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 20;
  const int layers = argc > 5 ? std::atoi(argv[5]) : 16;
  const int64_t hd = 64, nh = 32, nkv = 8, n_ctx = depth + 1;
  const size_t hb = kernels::attn_row_bytes(hd, q8);
  const size_t head_stride = static_cast<size_t>(kernels::attn_k_positions(n_ctx)) * hb;
  uint32_t seed = 1;
  auto nd = [&seed] {  // xorshift, uniform in [-2, 2): the cache's contents do not matter
    seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
    return static_cast<float>(seed >> 8) * (4.0f / 16777216.0f) - 2.0f;
  };
  std::vector<float> row(hd);
  std::vector<uint8_t> raw(hb);
  std::vector<LargeBuffer> kb, vb;
  for (int l = 0; l < layers; ++l) {
    kb.emplace_back(head_stride * nkv);
    vb.emplace_back(head_stride * nkv);
    for (auto* buf : {&kb.back(), &vb.back()})
      for (int64_t j = 0; j < n_ctx * nkv; ++j) {
        for (float& x : row) x = nd();
        const int64_t h = j / n_ctx, pos = j % n_ctx;  // head-major; K through attn_k_put
        const bool key = buf == &kb.back();
        uint8_t* dst = key ? raw.data() : buf->data() + h * head_stride + pos * hb;
        if (q8) {
          kernels::ref::quantize_row(TensorType::Q8_0, row.data(), dst, hd);
        } else {
          auto* hh = reinterpret_cast<uint16_t*>(dst);
          for (int64_t i = 0; i < hd; ++i) hh[i] = kernels::f32_to_fp16(row[i]);
        }
        if (key) kernels::attn_k_put(buf->data() + h * head_stride, hd, q8, pos, dst);
      }
  }
  const int64_t batch = argc > 7 ? std::atoll(argv[7]) : 0;
  const int64_t nq = batch > 0 ? n_ctx : 1;  // query tokens
  std::vector<float> q(nq * nh * hd), out(nq * nh * hd);
  for (float& x : q) x = nd();
  graph::Attention a;
  a.init(kernels::KernelTable::get(), {hd, nh, nkv, 1.0f / 8.0f, 0.0f}, static_cast<int>(n_ctx),
         batch > 0 ? static_cast<int>(batch) : 64, threads, q8);
  ThreadPool pool(threads);
  // Between steps a model reads ~600 MB of weights, which pushes the cache out of L3:
  // `flush` MB (default 600) are read between repetitions.
  const size_t flush = (argc > 6 ? std::atoll(argv[6]) : 600) << 20;
  std::vector<uint64_t> junk(flush / 8, 1);
  uint64_t sink = 0;
  std::vector<double> ms;
  for (int r = 0; r < reps + 1; ++r) {
    for (uint64_t x : junk) sink += x;
    const auto t0 = std::chrono::steady_clock::now();
    pool.run([&](int tid) {
      if (batch > 0) {
        for (int64_t p0 = 0; p0 < n_ctx; p0 += batch)
          for (int l = 0; l < layers; ++l) {
            const graph::KvView kv{kb[l].data(), vb[l].data(), hb, head_stride, q8};
            const int n = static_cast<int>(std::min(batch, n_ctx - p0));
            a.run(tid, pool, kv, q.data() + p0 * nh * hd, nh * hd, p0, n, 0,
                  out.data() + p0 * nh * hd, nh * hd);
            pool.barrier();
          }
        return;
      }
      for (int l = 0; l < layers; ++l) {
        const graph::KvView kv{kb[l].data(), vb[l].data(), hb, head_stride, q8};
        a.run(tid, pool, kv, q.data(), nh * hd, depth, 1, 0, out.data(), nh * hd);
        pool.barrier();
      }
    });
    const double t = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - t0).count();
    if (r > 0) ms.push_back(t);  // the first run faults the pages in
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  if (batch > 0) {
    const double macs = 2.0 * layers * nh * hd * (n_ctx * (n_ctx + 1) / 2.0);
    std::printf("prefill %lld tokens (batch %lld) %s threads %d layers %d: median %.3f ms "
                "(min %.3f, max %.3f), %.1f GMAC/s, out[0] %.6f\n",
                static_cast<long long>(n_ctx), static_cast<long long>(batch), q8 ? "q8_0" : "f16",
                threads, layers, med, ms.front(), ms.back(), macs / med / 1e6,
                out[0] + 0 * sink);
    return 0;
  }
  const double bytes = 2.0 * layers * nkv * (depth + 1) * hb;
  std::printf("depth %lld %s threads %d layers %d: median %.3f ms (min %.3f, max %.3f), "
              "KV %.1f MB, %.1f GB/s, out[0] %.6f\n",
              static_cast<long long>(depth), q8 ? "q8_0" : "f16", threads, layers, med,
              ms.front(), ms.back(), bytes / 1e6, bytes / med / 1e6, out[0] + 0 * sink);
  return 0;
}
