// Causal (optionally sliding-window) attention over one layer's KV cache, for the executor
// (src/graph/context.cpp). The KV cache belongs to the context; this reads it through KvView.
//
// Called by every thread of the context's pool inside its parallel region; it may wait on the
// pool's barrier itself, and the caller's barrier follows it. Scratch is sized once by init()
// for n_batch tokens, n_ctx positions and the pool's threads: run() allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/thread_pool.h"

namespace nibble::graph {

// One layer's K and V: position j, KV head h starts at k + j * row_bytes + h * head_bytes (the
// same for v). Heads are f16 (head_dim halves) or q8_0 (head_dim / 32 blocks of 34 bytes).
struct KvView {
  const uint8_t* k = nullptr;
  const uint8_t* v = nullptr;
  size_t row_bytes = 0, head_bytes = 0;
  bool q8_0 = false;
};

struct AttnShape {
  int64_t head_dim = 0, n_head = 0, n_head_kv = 0;
  float scale = 1.0f;    // on q.k before soft-capping and softmax
  float softcap = 0.0f;  // 0: none
};

class Attention {
 public:
  // Scratch for n_threads threads, chunks of up to n_batch tokens and n_ctx positions.
  void init(const kernels::KernelTable& k, const AttnShape& s, int n_ctx, int n_batch,
            int n_threads, bool q8_0);
  // out[t * out_stride + h * head_dim ...] for tokens t in [0, n) at positions pos0 + t and
  // query heads h, from q (same layout, q_stride) and positions [max(0, pos - window + 1), pos]
  // of kv (window 0: all). Every thread of pool calls it with its tid.
  void run(int tid, ThreadPool& pool, const KvView& kv, const float* q, size_t q_stride,
           int64_t pos0, int n, int64_t window, float* out, size_t out_stride);
  size_t scratch_bytes() const;

 private:
  const kernels::KernelTable* k_ = nullptr;
  AttnShape s_;
  int64_t n_ctx_ = 0;
  std::vector<float> scores_, qh_, kvrow_;
  std::vector<uint16_t> h16_, kv16_;
};

}  // namespace nibble::graph
