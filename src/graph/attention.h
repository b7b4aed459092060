// Causal (optionally sliding-window) attention over one layer's KV cache, for the executor
// (src/graph/context.cpp). The KV cache belongs to the context; this reads it through KvView.
//
// Blocked over kernels::kAttnBlock positions (kernels/attention.h): a query's attention is
// three passes over its blocks (scores and max; exp and sum; normalized f16 probabilities times
// V), each block of one KV head read once for all the query rows that need it. Two schedules
// with the same arithmetic per (token, head), so results depend on neither the schedule, the
// chunk size nor the thread count:
//   decode (a few tokens; see set_decode_tokens for when): units are (token, KV head, block)
//     for the K and V passes and (token, head) for the sums, four ThreadPool::for_each steps
//     (K pass, sums, V pass, output sums), so that two threads share the positions even of a
//     single KV head and a descheduled thread holds up only the chunk it is in; a unit rounds
//     its own group's query rows; scores and per-block outputs go to scratch.
//   prefill: units are (tile of tokens, KV head), claimed in chunks through
//     ThreadPool::for_each (the last, longest tiles first); a unit runs the three passes over
//     its blocks for all tile tokens x group heads at once (the query block x KV block tiles of
//     flash attention; blocks past the tile's last position, and window blocks before its
//     first token's window, are never visited). A decode token whose units split evenly over
//     the threads (8 KV heads on 2 threads) takes this schedule too.
// Called by every thread of the context's pool inside its parallel region; both schedules end
// with a completed for_each step, so the output is complete and visible when run() returns
// (no barrier). Scratch is sized once by init(): run() allocates nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/attention.h"
#include "kernels/kernels.h"
#include "runtime/thread_pool.h"

namespace nibble::graph {

// One layer's K and V, head-major: V's row of position j, KV head h starts at v + j * row_bytes
// + h * head_stride; head h's K starts at k + h * head_stride, its positions dimension-major per
// 32 (kernels/attention.h: attn_k_put writes a row there). Head rows are f16 (head_dim halves)
// or q8_0 (head_dim / 32 blocks of 34 bytes); row_bytes is one head row (attn_row_bytes), and
// head_stride covers attn_k_positions(n_ctx) rows.
struct KvView {
  const uint8_t* k = nullptr;
  const uint8_t* v = nullptr;
  size_t row_bytes = 0, head_stride = 0;
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
  // Tests force a schedule: decode for calls of up to n tokens (n > 0), or prefill always
  // (n = 0). By default run() takes decode for up to decode_cap_ tokens when the prefill
  // units (tile, KV head) do not split evenly over the threads (e.g. 3 KV heads on 2
  // threads), and prefill otherwise (one step).
  void set_decode_tokens(int n) { forced_ = std::min(n, decode_cap_); }

 private:
  struct Thread;  // one thread's views of scratch_
  Thread thread(int tid) const;
  void run_decode(int tid, ThreadPool& pool, const KvView& kv, const float* q, size_t q_stride,
                  int64_t pos0, int n, int64_t window, float* out, size_t out_stride);
  void run_prefill(int tid, ThreadPool& pool, const KvView& kv, const float* q,
                   size_t q_stride, int64_t pos0, int n, int64_t window, float* out,
                   size_t out_stride);
  // One prefill unit: tokens [t0, t0 + tn) x the query heads of KV head kh.
  void prefill_unit(const Thread& th, const KvView& kv, const float* q, size_t q_stride,
                    int64_t pos0, int t0, int tn, int64_t kh, int64_t window, float* out,
                    size_t out_stride);
  // Query heads [h0, h0 + nh) of one token (q: the token's row) as rows row0.. of the block
  // calls' q at `base`: rounded to f16 and zero padded (f16 K; hp_ floats a row), or quantized
  // to q8_0 (q8_0 K; head_dim / 32 AttnQ8 a row, inside the same buffer).
  void round_q(const float* q, int64_t h0, int64_t nh, float* base, int64_t row0, bool q8) const;
  // Where row0's q starts in `base`, as a block call takes it.
  static void set_q(kernels::AttnBlock& a, float* base, int64_t row0, int64_t hp, int64_t nb);
  int64_t first_pos(int64_t pos, int64_t window) const {
    return window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
  }
  // A position range [lo, pos] clipped to block b, relative to its start (empty: lo >= hi).
  static void clip(int64_t lo, int64_t pos, int64_t b, int32_t* l, int32_t* h);
  // The shared block loop setup of one kernel call.
  kernels::AttnBlock block_args(const KvView& kv, int64_t b, int64_t kh) const;

  const kernels::KernelTable* k_ = nullptr;
  const kernels::AttnOps* ops_ = nullptr;
  AttnShape s_;
  int64_t n_ctx_ = 0, hp_ = 0, group_ = 0, n_blocks_ = 0, s_stride_ = 0;
  int tile_tokens_ = 1, nq_max_ = 0, decode_cap_ = 0, forced_ = -1;
  size_t per_thread_ = 0;        // floats of scratch_ per thread
  std::vector<float> scratch_;   // per thread: tile, q rows, score rows, block outputs, sums
  std::vector<int32_t> ranges_;  // per thread: lo, hi per query row
  // decode: score rows, per (token, head, block) max and output, per (token, head) 1 / L
  std::vector<float> dec_s_, dec_m_, dec_a_, dec_inv_;
};

}  // namespace nibble::graph
