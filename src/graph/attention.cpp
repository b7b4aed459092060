// Attention over the KV cache with the block kernels of kernels/attention.h; the schedules are
// described in attention.h.
#include "graph/attention.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/formats/blocks.h"

namespace nibble::graph {
namespace {

using kernels::kAttnBlock;
constexpr int kDecodeMax = 4;               // tokens per call that may take the decode schedule
constexpr size_t kDecodeBudget = 64 << 20;  // bytes of decode scratch at most
constexpr size_t kTileBudget = 8 << 20;     // bytes of one prefill unit's score rows at most
constexpr int kTileRows = 256;              // query rows (tokens x group) per prefill tile
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float* align64(float* p) {
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
}
size_t round16(size_t n) { return (n + 15) / 16 * 16; }

}  // namespace

// One thread's scratch.
struct Attention::Thread {
  float* tile;  // the kernel's K or V tile
  float* q;     // query rows, hp floats each
  float* s;     // prefill: score rows, s_stride floats each
  float* bm;    // a block call's row maxima
  float* ba;    // a block call's row outputs, hp floats each
  float* m;     // prefill: per row max, 1 / L, output sum (hp floats)
  float* inv;
  float* acc;
  int32_t *lo, *hi;
};

void Attention::init(const kernels::KernelTable& k, const AttnShape& s, int n_ctx, int n_batch,
                     int n_threads, bool q8_0) {
  (void)q8_0;
  k_ = &k;
  ops_ = &kernels::attn_ops(k.cap());
  s_ = s;
  n_ctx_ = n_ctx;
  hp_ = kernels::attn_padded(s.head_dim);
  group_ = s.n_head / s.n_head_kv;
  n_blocks_ = (n_ctx + kAttnBlock - 1) / kAttnBlock;
  s_stride_ = n_blocks_ * kAttnBlock;
  const size_t row_bytes = static_cast<size_t>(s_stride_) * sizeof(float);
  tile_tokens_ = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>(kTileRows / group_, kTileBudget / (row_bytes * group_))));
  nq_max_ = static_cast<int>(tile_tokens_ * group_);
  const size_t nh = static_cast<size_t>(s.n_head), nb = static_cast<size_t>(n_blocks_);
  const size_t per_token = (nh * s_stride_ + nh * nb * (hp_ + 1) + nh) * sizeof(float);
  decode_cap_ = static_cast<int>(std::min<size_t>(
      {static_cast<size_t>(kDecodeMax), static_cast<size_t>(n_batch), kDecodeBudget / per_token}));
  const size_t dt = static_cast<size_t>(decode_cap_);
  dec_s_.assign(dt * nh * s_stride_ + 16, 0);
  dec_m_.assign(dt * nh * nb, 0);
  dec_a_.assign(dt * nh * nb * hp_, 0);
  dec_inv_.assign(dt * nh, 0);
  const size_t nq = static_cast<size_t>(nq_max_), rows = std::max(nq, dt * nh);
  per_thread_ = round16(kernels::attn_scratch_floats(s.head_dim)) + rows * hp_ +
                nq * s_stride_ + 2 * nq * hp_ + 3 * round16(nq) + 16;
  scratch_.assign(per_thread_ * n_threads + 16, 0);
  ranges_.assign(2 * nq * n_threads, 0);
}

size_t Attention::scratch_bytes() const {
  return (scratch_.size() + dec_s_.size() + dec_m_.size() + dec_a_.size() + dec_inv_.size()) *
             sizeof(float) +
         ranges_.size() * sizeof(int32_t);
}

Attention::Thread Attention::thread(int tid) const {
  float* p = align64(const_cast<float*>(scratch_.data()) + per_thread_ * tid);
  const size_t nq = static_cast<size_t>(nq_max_);
  const size_t rows = std::max(nq, static_cast<size_t>(decode_cap_) * s_.n_head);
  Thread t;
  t.tile = p, p += round16(kernels::attn_scratch_floats(s_.head_dim));
  t.q = p, p += rows * hp_;
  t.s = p, p += nq * s_stride_;
  t.ba = p, p += nq * hp_;
  t.acc = p, p += nq * hp_;
  t.bm = p, p += round16(nq);
  t.m = p, p += round16(nq);
  t.inv = p;
  int32_t* r = const_cast<int32_t*>(ranges_.data()) + 2 * nq * tid;
  t.lo = r, t.hi = r + nq;
  return t;
}

void Attention::round_q(const float* q, int64_t h0, int64_t nh, float* base, int64_t row0,
                        bool q8) const {
  if (q8) {  // the row ops' q8_0 quantization, then each block's sum (kernels/attention.h)
    const int64_t nb = s_.head_dim / kernels::QK;
    auto* rows = reinterpret_cast<kernels::AttnQ8*>(base);
    for (int64_t h = 0; h < nh; ++h)
      for (int64_t c = 0; c < nb; ++c) {  // block by block: q8_0 blocks are independent
        kernels::BlockQ8_0 blk;
        k_->quantize_activation(TensorType::Q8_0, q + (h0 + h) * s_.head_dim + c * kernels::QK,
                                &blk, kernels::QK);
        kernels::attn_q8_from_blocks(&blk, kernels::QK, rows + (row0 + h) * nb + c);
      }
    return;
  }
  uint16_t h16[256];
  for (int64_t h = 0; h < nh; ++h) {
    const float* src = q + (h0 + h) * s_.head_dim;
    float* d = base + (row0 + h) * hp_;
    for (int64_t i = 0; i < s_.head_dim; i += 256) {
      const int64_t c = std::min<int64_t>(256, s_.head_dim - i);
      k_->f32_to_f16(src + i, h16, c);
      k_->f16_to_f32(h16, d + i, c);
    }
    std::fill(d + s_.head_dim, d + hp_, 0.0f);
  }
}

void Attention::clip(int64_t lo, int64_t pos, int64_t b, int32_t* l, int32_t* h) {
  const int64_t j0 = b * kAttnBlock;
  *l = static_cast<int32_t>(std::clamp<int64_t>(lo - j0, 0, kAttnBlock));
  *h = static_cast<int32_t>(std::clamp<int64_t>(pos + 1 - j0, 0, kAttnBlock));
}

void Attention::set_q(kernels::AttnBlock& a, float* base, int64_t row0, int64_t hp, int64_t nb) {
  if (a.q8_0)
    a.q8 = reinterpret_cast<const kernels::AttnQ8*>(base) + row0 * nb;
  else
    a.q = base + row0 * hp;
}

kernels::AttnBlock Attention::block_args(const KvView& kv, int64_t b, int64_t kh) const {
  kernels::AttnBlock a;
  const size_t off = static_cast<size_t>(b) * kAttnBlock * kv.row_bytes + kh * kv.head_stride;
  a.head_dim = s_.head_dim, a.k = kv.k + off, a.v = kv.v + off;
  a.row_bytes = kv.row_bytes, a.q8_0 = kv.q8_0, a.scale = s_.scale, a.softcap = s_.softcap;
  return a;
}

void Attention::run(int tid, ThreadPool& pool, const KvView& kv, const float* q, size_t q_stride,
                    int64_t pos0, int n, int64_t window, float* out, size_t out_stride) {
  const int64_t units = s_.n_head_kv * ((n + tile_tokens_ - 1) / tile_tokens_);
  if (forced_ >= 0 ? n <= forced_ : n <= decode_cap_ && units % pool.size() != 0)
    run_decode(tid, pool, kv, q, q_stride, pos0, n, window, out, out_stride);
  else
    run_prefill(tid, pool, kv, q, q_stride, pos0, n, window, out, out_stride);
}

void Attention::run_decode(int tid, ThreadPool& pool, const KvView& kv, const float* q,
                           size_t q_stride, int64_t pos0, int n, int64_t window, float* out,
                           size_t out_stride) {
  const int64_t nh = s_.n_head, nkv = s_.n_head_kv, hd = s_.head_dim, nb = n_blocks_;
  const Thread th = thread(tid);
  int64_t bf[kDecodeMax], unit0[kDecodeMax + 1], units = 0;
  for (int t = 0; t < n; ++t) {
    bf[t] = first_pos(pos0 + t, window) / kAttnBlock;
    unit0[t] = units;
    units += nkv * ((pos0 + t) / kAttnBlock - bf[t] + 1);
  }
  unit0[n] = units;
  float* S = align64(dec_s_.data());
  // The K pass (values = false) or the V pass over units [ub, ue) of (token, KV head, block).
  // A unit rounds its group's query rows into this thread's scratch (once per run of units
  // of the same (token, KV head)), so any thread can take any unit.
  auto block_pass = [&](bool values, int64_t ub, int64_t ue) {
    int64_t rounded = -1;  // row0 of the group this thread's th.q holds for this chunk
    for (int64_t u = ub; u < ue; ++u) {
      int t = 0;
      while (u >= unit0[t + 1]) ++t;
      const int64_t pos = pos0 + t, span = pos / kAttnBlock - bf[t] + 1;
      const int64_t kh = (u - unit0[t]) / span, b = bf[t] + (u - unit0[t]) % span;
      const int64_t row0 = t * nh + kh * group_;  // first (token, head) row of the group
      if (row0 != rounded) round_q(q + t * q_stride, kh * group_, group_, th.q, row0, kv.q8_0);
      rounded = row0;
      for (int i = 0; i < group_; ++i) clip(first_pos(pos, window), pos, b, th.lo + i, th.hi + i);
      kernels::AttnBlock a = block_args(kv, b, kh);
      set_q(a, th.q, row0, hp_, s_.head_dim / kernels::QK);
      a.nq = static_cast<int>(group_), a.lo = th.lo, a.hi = th.hi;
      a.s = S + row0 * s_stride_ + b * kAttnBlock, a.s_stride = s_stride_;
      a.m = th.bm, a.inv_l = dec_inv_.data() + row0, a.a = th.ba, a.scratch = th.tile;
      if (!values) {
        ops_->scores(a);
        for (int i = 0; i < group_; ++i) dec_m_[(row0 + i) * nb + b] = th.bm[i];
      } else {
        ops_->values(a);
        for (int i = 0; i < group_; ++i)
          std::memcpy(dec_a_.data() + ((row0 + i) * nb + b) * hp_, th.ba + i * hp_,
                      hd * sizeof(float));
      }
    }
  };
  // Four steps of claimed chunks (ThreadPool::for_each), not a static split with barriers: a
  // thread the OS deschedules holds up the others only for the chunk it is in (decision 29).
  // Every unit and row is computed the same way whoever takes it (decision 23's bits).
  // Chunks of at least min(n / threads, 4) units: a claim and its completion are two atomic
  // operations on lines both threads touch, which a single-block unit (a short context) does
  // not pay for alone.
  const int64_t rows = static_cast<int64_t>(n) * nh, nt = pool.size();
  auto min_chunk = [nt](int64_t count) { return std::min<int64_t>((count + nt - 1) / nt, 4); };
  pool.for_each(tid, units, min_chunk(units),
                [&](int64_t ub, int64_t ue) { block_pass(false, ub, ue); });
  pool.for_each(tid, rows, min_chunk(rows), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {  // max, exp and sum per (token, head)
      const int t = static_cast<int>(r / nh);
      const int64_t pos = pos0 + t;
      float m = kNegInf;
      for (int64_t b = bf[t]; b <= pos / kAttnBlock; ++b) m = std::max(m, dec_m_[r * nb + b]);
      dec_inv_[r] = 1.0f / ops_->expsum_range(S + r * s_stride_, first_pos(pos, window), pos + 1, m);
    }
  });
  pool.for_each(tid, units, min_chunk(units),
                [&](int64_t ub, int64_t ue) { block_pass(true, ub, ue); });
  pool.for_each(tid, rows, min_chunk(rows), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {  // the blocks' outputs, summed in position order
      const int t = static_cast<int>(r / nh);
      float* o = out + t * out_stride + (r % nh) * hd;
      std::fill(o, o + hd, 0.0f);
      for (int64_t b = bf[t]; b <= (pos0 + t) / kAttnBlock; ++b)
        k_->add(o, dec_a_.data() + (r * nb + b) * hp_, o, hd);
    }
  });
}

void Attention::run_prefill(int tid, ThreadPool& pool, const KvView& kv, const float* q,
                            size_t q_stride, int64_t pos0, int n, int64_t window, float* out,
                            size_t out_stride) {
  const int64_t nkv = s_.n_head_kv, tiles = (n + tile_tokens_ - 1) / tile_tokens_;
  const Thread th = thread(tid);
  // Units (tile, KV head) claimed in chunks (ThreadPool::for_each), the last (longest) tiles
  // first, so the small chunks at the end are short units and a descheduled thread holds up
  // only the unit it is in.
  pool.for_each(tid, tiles * nkv, 1, [&](int64_t ub, int64_t ue) {
    for (int64_t u = ub; u < ue; ++u) {
      const int t0 = static_cast<int>((tiles - 1 - u / nkv) * tile_tokens_);
      prefill_unit(th, kv, q, q_stride, pos0, t0, std::min(tile_tokens_, n - t0), u % nkv,
                   window, out, out_stride);
    }
  });
}

void Attention::prefill_unit(const Thread& th, const KvView& kv, const float* q, size_t q_stride,
                             int64_t pos0, int t0, int tn, int64_t kh, int64_t window, float* out,
                             size_t out_stride) {
  const int64_t hd = s_.head_dim;
  const int nq = static_cast<int>(tn * group_);
  for (int t = 0; t < tn; ++t)
    round_q(q + (t0 + t) * q_stride, kh * group_, group_, th.q, t * group_, kv.q8_0);
  const int64_t b0 = first_pos(pos0 + t0, window) / kAttnBlock;
  const int64_t b1 = (pos0 + t0 + tn - 1) / kAttnBlock;
  auto pos_of = [&](int r) { return pos0 + t0 + r / group_; };
  // A block inside every row's range (the first row's position is the smallest, the last
  // row's window start the largest) gives every row [0, kAttnBlock): no per-row clip.
  const int64_t inner_lo = first_pos(pos0 + t0 + tn - 1, window), inner_hi = pos0 + t0 + 1;
  auto set_ranges = [&](int64_t b) {  // true: block b is inside every row's range
    if (b * kAttnBlock >= inner_lo && (b + 1) * kAttnBlock <= inner_hi) {
      std::fill(th.lo, th.lo + nq, 0);
      std::fill(th.hi, th.hi + nq, static_cast<int32_t>(kAttnBlock));
      return true;
    }
    for (int r = 0; r < nq; ++r)
      clip(first_pos(pos_of(r), window), pos_of(r), b, th.lo + r, th.hi + r);
    return false;
  };
  auto args = [&](int64_t b) {
    kernels::AttnBlock a = block_args(kv, b, kh);
    set_q(a, th.q, 0, hp_, hd / kernels::QK);
    a.nq = nq, a.lo = th.lo, a.hi = th.hi;
    a.s = th.s + b * kAttnBlock, a.s_stride = s_stride_;
    a.m = th.bm, a.inv_l = th.inv, a.a = th.ba, a.scratch = th.tile;
    return a;
  };
  std::fill(th.m, th.m + nq, kNegInf);
  for (int64_t b = b0; b <= b1; ++b) {  // scores and maxima
    set_ranges(b);
    ops_->scores(args(b));
    for (int r = 0; r < nq; ++r) th.m[r] = std::max(th.m[r], th.bm[r]);
  }
  for (int r = 0; r < nq; ++r) {  // exp and sum, block sums in position order
    const int64_t pos = pos_of(r);
    th.inv[r] = 1.0f / ops_->expsum_range(th.s + r * s_stride_, first_pos(pos, window), pos + 1,
                                          th.m[r]);
  }
  std::fill(th.acc, th.acc + nq * hp_, 0.0f);
  for (int64_t b = b0; b <= b1; ++b) {  // values, summed in position order
    set_ranges(b);
    // The kernel adds each row's block output to the row's running sum as it stores it (the
    // same f32 add as decode's sum of block outputs; rows with no position here untouched).
    kernels::AttnBlock a = args(b);
    a.a = th.acc, a.accumulate = true;
    ops_->values(a);
  }
  for (int r = 0; r < nq; ++r) {
    float* o = out + (t0 + r / group_) * out_stride + (kh * group_ + r % group_) * hd;
    std::copy(th.acc + r * hp_, th.acc + r * hp_ + hd, o);
  }
}

}  // namespace nibble::graph
