// The executor: one InferenceContext per session over a shared, immutable LoadedModel.
//
// A forward pass over a chunk of up to n_batch tokens runs as ONE parallel region on the
// context's thread pool: every thread walks the same layer sequence and takes its slice of
// each op (rows of a matmul, (token, head) pairs of attention, tokens of a norm). Each op is a
// step of ThreadPool::for_each: threads claim chunks of its units from a shared counter and the
// step ends when every chunk is done, so a thread the OS deschedules delays nobody beyond its
// current chunk (docs/engine.md, threading).
// All buffers are sized at creation for n_batch tokens; eval allocates nothing unless
// all_logits asks for more logits rows than any earlier call.
//
// KV cache: per layer, K and V, each head-major: [n_head_kv][n_ctx positions][head row], a head
// row f16 (head_dim halves) or q8_0 (head_dim / 32 blocks), so that attention streams one KV
// head's positions contiguously; K dimension-major per 32 positions (kernels/attention.h), n_ctx
// rounded up to whole groups. In runtime::LargeBuffer (2 MiB pages where the OS has them).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <new>
#include <vector>

#include "graph/attention.h"
#include "graph/context.h"
#include "graph/plan.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "model/rope.h"
#include "runtime/large_buffer.h"
#include "runtime/log.h"
#include "runtime/thread_pool.h"

namespace nibble::graph {
namespace {

using model::Config;
using model::Layer;
using model::LoadedModel;
using model::Matrix;

constexpr size_t kNone = ~size_t{0};
// Forward passes of at most this many tokens go through ThreadPool::run_shared (forward()).
constexpr int kSharedMaxTokens = 16;
// Index of the first NaN or Inf in x[0, n), kNone when all are finite. The pass tests the
// exponent bits of 16 lanes at a time (SSE2/NEON compares and ORs at -O2): ~8 us for 32k logits,
// ~50-80 us for 128k on this project's shared 2-core machine, a fraction of a percent of a
// decode step; the scalar search runs only when something was found.
size_t first_non_finite(const float* x, size_t n) {
  uint32_t acc[16] = {};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    uint32_t b[16];
    std::memcpy(b, x + i, sizeof b);
    for (int k = 0; k < 16; ++k) acc[k] |= (b[k] & 0x7f800000u) == 0x7f800000u ? 1u : 0u;
  }
  uint32_t any = 0;
  for (uint32_t a : acc) any |= a;
  for (; i < n; ++i) any |= std::isfinite(x[i]) ? 0u : 1u;
  if (any == 0) return kNone;
  for (size_t j = 0; j < n; ++j)
    if (!std::isfinite(x[j])) return j;
  return kNone;
}

// The per-batch activations, n_batch rows, in a LargeBuffer: zero pages faulted in on first
// touch, so a session that only decodes (one row per step) keeps a few pages of each resident
// instead of the whole prefill batch (about 70 MiB for a 1B model at n_batch 512).
class FloatScratch {
 public:
  void allocate(size_t n) {
    buf_ = LargeBuffer(n * sizeof(float));
    n_ = n;
  }
  float* data() { return reinterpret_cast<float*>(buf_.data()); }
  const float* data() const { return reinterpret_cast<const float*>(buf_.data()); }
  size_t size() const { return n_; }

 private:
  LargeBuffer buf_;
  size_t n_ = 0;
};

class Context final : public InferenceContext {
 public:
  Context(std::shared_ptr<const LoadedModel> m, const ContextOptions& o, int n_ctx)
      : m_(std::move(m)),
        c_(m_->config),
        k_(*m_->kernels),
        pool_(o.n_threads),
        n_ctx_(n_ctx),
        n_batch_(o.n_batch),
        kv_q8_(o.kv_q8_0),
        rope_(model::session_rope(*m_, n_ctx)) {
    NIBBLE_LOG_INFO("context: n_ctx {}, rope scaling: {}", n_ctx_, rope_.description);
  }

  Status init() {
    try {
      const int64_t B = n_batch_, E = c_.n_embd, Q = c_.n_head * c_.head_dim;
      kv_dim_ = c_.n_head_kv * c_.head_dim;
      qkv_dim_ = Q + 2 * kv_dim_;
      x_.allocate(B * E);
      xn_.allocate(B * E);
      tmp_.allocate(B * E);
      qkv_.allocate(B * qkv_dim_);
      att_.allocate(B * Q);
      gu_.allocate(B * 2 * c_.n_ff);
      h_.allocate(B * c_.n_ff);
      size_t xq = 0;
      auto need = [&](const Matrix& mat) {
        if (mat.present()) xq = std::max(xq, k_.activation_row_bytes(mat.w.type, mat.w.cols) * B);
      };
      for (const Layer& L : m_->layers)
        for (const Matrix* mat : L.matrices()) need(*mat);
      need(m_->output);
      xq_.assign(xq + 64, 0);
      // q8_0 head rows: head_dim / 32 blocks of 34 bytes (f16 scale + 32 int8).
      head_bytes_ = kernels::attn_row_bytes(c_.head_dim, kv_q8_);
      head_cells_ = kernels::attn_k_positions(n_ctx_);
      krow_.assign(static_cast<size_t>(pool_.size()) * head_bytes_, 0);
      const size_t cells = static_cast<size_t>(c_.n_layer) * head_cells_ * c_.n_head_kv;
      kbuf_ = LargeBuffer(cells * head_bytes_);
      vbuf_ = LargeBuffer(cells * head_bytes_);
      logits_.assign(c_.n_vocab, 0);
      stop_.assign(static_cast<size_t>(c_.n_layer), 0);
      attn_.init(k_, {c_.head_dim, c_.n_head, c_.n_head_kv, c_.query_scale, c_.attn_softcap},
                 n_ctx_, n_batch_, pool_.size(), kv_q8_);
      build_plan();
    } catch (const std::bad_alloc&) {
      return Error(ErrorCode::out_of_memory, "cannot allocate the context's KV cache and scratch");
    }
    return ok_status();
  }

  Status eval(std::span<const Token> tokens, bool all_logits,
              const std::atomic<bool>* cancel) override {
    if (tokens.empty()) return Error(ErrorCode::invalid_argument, "eval: no tokens");
    if (static_cast<int64_t>(tokens.size()) > n_ctx_ - n_past_)
      return Error(ErrorCode::context_full, "context full: " + std::to_string(n_past_) + " + " +
                                                std::to_string(tokens.size()) + " tokens > n_ctx " +
                                                std::to_string(n_ctx_));
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] < 0 || tokens[i] >= c_.n_vocab)
        return Error(ErrorCode::invalid_argument,
                     "token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                         " is outside the vocabulary (n_vocab " + std::to_string(c_.n_vocab) + ")");
    const int n = static_cast<int>(tokens.size());
    const size_t rows = all_logits ? static_cast<size_t>(n) : 1;
    if (logits_.size() < rows * c_.n_vocab) {
      try {
        logits_.resize(rows * c_.n_vocab);
      } catch (const std::bad_alloc&) {
        return Error(ErrorCode::out_of_memory, "cannot allocate logits");
      }
    }
    n_logits_ = 0;
    const int start = n_past_;
    for (int off = 0; off < n; off += n_batch_) {
      const int nb = std::min(n_batch_, n - off);
      const bool last = off + nb == n;
      float* out = all_logits ? logits_.data() + static_cast<size_t>(off) * c_.n_vocab
                              : (last ? logits_.data() : nullptr);
      if (!forward(tokens.data() + off, nb, all_logits, out, cancel)) {
        n_past_ = start;
        n_logits_ = 0;
        return Error(ErrorCode::cancelled, "evaluation cancelled");
      }
      n_past_ += nb;
    }
    // NaN or Inf in a weight matrix (or activations overflowing f32) turns every logit into
    // NaN and sampling into nothing: refuse it by name instead (docs/engine.md).
    const size_t bad = first_non_finite(logits_.data(), rows * static_cast<size_t>(c_.n_vocab));
    if (bad != kNone) {
      n_past_ = start;
      return Error(ErrorCode::corrupt_metadata,
                   "the model computed a non-finite logit (" + std::to_string(logits_[bad]) +
                       " for token id " + std::to_string(bad % c_.n_vocab) +
                       "): its weights hold NaN or Inf values, or overflow f32");
    }
    n_logits_ = static_cast<int>(rows);
    return ok_status();
  }

  std::span<const float> logits(int i) const override {
    if (n_logits_ == 0) return {};
    if (i < 0 || n_logits_ == 1) i = n_logits_ - 1;
    if (i >= n_logits_) return {};
    return {logits_.data() + static_cast<size_t>(i) * c_.n_vocab, static_cast<size_t>(c_.n_vocab)};
  }
  int n_past() const override { return n_past_; }
  void truncate(int n) override {
    if (n >= 0 && n < n_past_) n_past_ = n;
  }
  // Drops positions [first, first + count): later K/V rows move down by count and their keys
  // are rotated back by count positions (RoPE is a rotation linear in the position, so
  // rotating by -count turns position p into p - count exactly, up to f16 rounding).
  Status shift(int first, int count) override {
    if (first < 0 || count <= 0 || first > n_past_ - count)
      return Error(ErrorCode::invalid_argument, "shift(" + std::to_string(first) + ", " +
                                                    std::to_string(count) + ") outside the " +
                                                    std::to_string(n_past_) + " cached positions");
    const int64_t hd = c_.head_dim;
    std::vector<float> row(static_cast<size_t>(hd));
    for (int64_t il = 0; il < c_.n_layer; ++il) {
      // A pure rotation: the attention factor is already in the cached keys.
      const model::RopeParams& rp = rope(il);
      const float* ff = rp.factors.empty() ? nullptr : rp.factors.data();
      for (int64_t j = first + count; j < n_past_; ++j) {
        for (int64_t h = 0; h < c_.n_head_kv; ++h) {
          load_kv(0, false, il, j, h, row.data());
          store_kv(0, false, il, j - count, h, row.data());
          load_kv(0, true, il, j, h, row.data());
          k_.rope(row.data(), hd, c_.n_rot, -count, rp.base, rp.freq_scale, ff, c_.rope_neox);
          store_kv(0, true, il, j - count, h, row.data());
        }
      }
    }
    n_past_ -= count;
    return ok_status();
  }
  int n_ctx() const override { return n_ctx_; }
  int n_vocab() const override { return static_cast<int>(c_.n_vocab); }
  bool kv_q8_0() const override { return kv_q8_; }
  // Bytes of one position's K (or V) row over all KV heads, and of one layer's first n rows.
  size_t kv_row_bytes() const { return static_cast<size_t>(c_.n_head_kv) * head_bytes_; }
  size_t kv_state_bytes(int n_tokens) const override {
    return 2 * static_cast<size_t>(c_.n_layer) * static_cast<size_t>(n_tokens) * kv_row_bytes();
  }
  // Head kh's position pos in layer il (head-major cache, see the top of the file): V's row,
  // or the start of the head's K at pos 0 (K rows are moved by attn_k_put / attn_k_get).
  uint8_t* kv_cell(bool key, int64_t il, int64_t pos, int64_t kh) const {
    const size_t cell = (static_cast<size_t>(il) * c_.n_head_kv + kh) * head_cells_ + pos;
    return const_cast<uint8_t*>((key ? kbuf_ : vbuf_).data()) + cell * head_bytes_;
  }
  // Position pos's head row (head_bytes_ bytes, the cache's f16 or q8_0) out of / into the cache.
  void get_row(bool key, int64_t il, int64_t pos, int64_t kh, uint8_t* row) const {
    if (key)
      kernels::attn_k_get(kv_cell(true, il, 0, kh), c_.head_dim, kv_q8_, pos, row);
    else
      std::memcpy(row, kv_cell(false, il, pos, kh), head_bytes_);
  }
  void put_row(bool key, int64_t il, int64_t pos, int64_t kh, const uint8_t* row) {
    if (key)
      kernels::attn_k_put(kv_cell(true, il, 0, kh), c_.head_dim, kv_q8_, pos, row);
    else
      std::memcpy(kv_cell(false, il, pos, kh), row, head_bytes_);
  }
  // The saved state is position-major whatever the cache's layout: per layer, K then V, each n
  // rows of all KV heads (kv_row_bytes), so state files do not depend on this layout.
  void save_kv_state(uint8_t* dst) const override {
    for (int64_t il = 0; il < c_.n_layer; ++il)
      for (bool key : {true, false})
        for (int64_t pos = 0; pos < n_past_; ++pos)
          for (int64_t kh = 0; kh < c_.n_head_kv; ++kh, dst += head_bytes_)
            get_row(key, il, pos, kh, dst);
  }
  Status load_kv_state(int n_tokens, std::span<const uint8_t> src,
                       std::span<const float> logits) override {
    if (n_tokens < 0 || n_tokens > n_ctx_)
      return Error(ErrorCode::invalid_argument,
                   "state of " + std::to_string(n_tokens) + " tokens does not fit the context of " +
                       std::to_string(n_ctx_));
    if (src.size() != kv_state_bytes(n_tokens))
      return Error(ErrorCode::invalid_argument,
                   "KV state of " + std::to_string(src.size()) + " bytes, expected " +
                       std::to_string(kv_state_bytes(n_tokens)));
    if (!logits.empty() && logits.size() != static_cast<size_t>(c_.n_vocab))
      return Error(ErrorCode::invalid_argument, "state logits of the wrong length");
    if (!logits.empty() && logits_.size() < logits.size()) {
      try {
        logits_.resize(logits.size());
      } catch (const std::bad_alloc&) {
        return Error(ErrorCode::out_of_memory, "cannot allocate logits");
      }
    }
    const uint8_t* p = src.data();
    for (int64_t il = 0; il < c_.n_layer; ++il)
      for (bool key : {true, false})
        for (int64_t pos = 0; pos < n_tokens; ++pos)
          for (int64_t kh = 0; kh < c_.n_head_kv; ++kh, p += head_bytes_)
            put_row(key, il, pos, kh, p);
    n_past_ = n_tokens;
    std::copy(logits.begin(), logits.end(), logits_.begin());
    n_logits_ = logits.empty() ? 0 : 1;
    return ok_status();
  }
  MemoryReport memory() const override {
    MemoryReport r;
    r.weights_bytes = m_->weight_bytes;
    r.kv_bytes = kbuf_.size() + vbuf_.size();
    r.scratch_bytes = (x_.size() + xn_.size() + tmp_.size() + qkv_.size() + att_.size() +
                       gu_.size() + h_.size() + logits_.size()) *
                          sizeof(float) +
                      xq_.size() + attn_.scratch_bytes();
    return r;
  }

 private:
  // Rows per unit of a matmul step: the layout's row group (rows_per_call), doubled for
  // several tokens, so that the 16-row tiles of the prefill kernels (AMX, AVX-512 VNNI) are
  // never cut in half by a chunk boundary.
  static int64_t unit_rows(const kernels::PreparedWeights& w, int n) {
    return static_cast<int64_t>(std::max(1, w.rows_per_call)) * (n > 1 ? 2 : 1);
  }
  // The smallest chunk of a matmul step, in units: about 128 KiB of weights per token, and
  // from 16 tokens at least 64 rows x 64 tokens of work (each prefill call prepares its
  // activation tiles again: 64 rows at pp64, one unit from 256 tokens, so long prompts keep
  // fine tail chunks), so the claims cost nothing next to the rows' work
  // (ThreadPool::for_each makes the early chunks larger).
  static int64_t min_units(const kernels::PreparedWeights& w, int n) {
    const int64_t ur = unit_rows(w, n);
    // Below 16 tokens (verification passes) by the weight bytes alone, as for one token: each
    // call of the 2-15-token kernels prepares its activations again and starts its weight
    // stream cold, so chunks of ~128 KiB / n bytes (one 16-row unit at 9 tokens) cost more in
    // calls than they gain in balance (decision 51).
    const int nb = n < 16 ? 1 : n;
    const uint64_t unit_bytes =
        static_cast<uint64_t>(ur) * w.row_bytes * static_cast<uint64_t>(nb);
    const auto by_bytes = static_cast<int64_t>(
        std::max<uint64_t>(1, (uint64_t{128} << 10) / std::max<uint64_t>(1, unit_bytes)));
    if (n < 16) return by_bytes;
    return std::max<int64_t>(by_bytes, (64 * 64 + ur * n - 1) / (ur * n));
  }

  // y[t][r] (stride y_stride) = M x[t] (stride x_stride) for n tokens and every job, inside a
  // parallel region. Jobs reading the same input in the same activation format (q/k/v,
  // gate/up) share one quantization step (chunks of tokens; skipped when `quantized`: the
  // step before wrote xq_) and one step over the row chunks of every job. With `stop`, the
  // thread that runs the first row chunk samples *cancel into it (every thread reads the same
  // value once the step is done).
  void mm(int tid, const MatJob* jobs, int n_jobs, const float* x, size_t x_stride, int n,
          bool quantized = false, const std::atomic<bool>* cancel = nullptr,
          uint8_t* stop = nullptr) {
    const MatJob& j0 = jobs[0];
    bool shared = true;
    for (const MatJob& j : std::span<const MatJob>(jobs, n_jobs))
      shared = shared && k_.activation_type(j.m->w.type) == k_.activation_type(j0.m->w.type) &&
               j.m->w.cols == j0.m->w.cols;
    if (!shared) {
      for (int i = 0; i < n_jobs; ++i)
        mm(tid, jobs + i, 1, x, x_stride, n, false, cancel, i == 0 ? stop : nullptr);
      return;
    }
    const TensorType wt = j0.m->w.type;
    const int64_t k = j0.m->w.cols;
    const size_t xrb = k_.activation_row_bytes(wt, k);
    if (!quantized)
      pool_.for_each(tid, n, 1, [&](int64_t tb, int64_t te) {
        for (int64_t t = tb; t < te; ++t)
          k_.quantize_activation(wt, x + t * x_stride, xq_.data() + t * xrb, k);
      });
    // The row units of every job, one after the other, claimed as one step.
    int64_t first[4] = {}, unit[3] = {};
    int64_t min_chunk = 1 << 30;
    for (int i = 0; i < n_jobs; ++i) {
      const kernels::PreparedWeights& w = jobs[i].m->w;
      unit[i] = unit_rows(w, n);
      first[i + 1] = first[i] + (w.rows + unit[i] - 1) / unit[i];
      min_chunk = std::min(min_chunk, min_units(w, n));
    }
    pool_.for_each(tid, first[n_jobs], min_chunk, [&](int64_t ub, int64_t ue) {
      if (ub == 0 && stop) *stop = cancel && cancel->load(std::memory_order_relaxed);
      for (int i = 0; i < n_jobs; ++i) {
        const int64_t b = std::max(ub, first[i]), e = std::min(ue, first[i + 1]);
        if (b < e) rows(jobs[i], (b - first[i]) * unit[i], (e - first[i]) * unit[i], xrb, n);
      }
    });
  }
  // Rows [r0, r1) (clipped to the matrix) of one job for n tokens of xq_, then scale and bias.
  void rows(const MatJob& j, int64_t r0, int64_t r1, size_t xrb, int n) {
    const kernels::PreparedWeights& w = j.m->w;
    r1 = std::min(r1, w.rows);
    kernels::MatmulArgs a{w.data, w.row_bytes, xq_.data(), xrb, j.y, j.y_stride, w.cols, r0, r1, n};
    k_.matmul(w, a);
    const float sc = j.m->scale;
    const bool has_bias = j.bias && !j.bias->empty();
    if (sc != 1.0f || has_bias) {
      for (int t = 0; t < n; ++t) {
        float* yr = j.y + t * j.y_stride;
        for (int64_t r = r0; r < r1; ++r) yr[r] = yr[r] * sc + (has_bias ? (*j.bias)[r] : 0.0f);
      }
    }
  }

  // Returns false when cancelled (nothing of this chunk is kept).
  bool forward(const Token* tok, int n, bool all_logits, float* out,
               const std::atomic<bool>* cancel) {
    bool cancelled = false;
    struct Call {
      const Token* tok;
      int n;
      bool all_logits;
      float* out;
      const std::atomic<bool>* cancel;
      bool* cancelled;
    } call{tok, n, all_logits, out, cancel, &cancelled};
    // Two pointers of capture: std::function keeps them inline (no allocation per chunk).
    const std::function<void(int)> fn = [this, &call](int tid) {
      const bool done =
          forward_thread(tid, call.tok, call.n, call.all_logits, call.out, call.cancel);
      if (tid == 0) *call.cancelled = !done;  // all threads read the same stop_ sample
    };
    // Decode and verification passes (bound by memory, where one thread alone loses little)
    // run on the caller alone for a while when the other threads are held up by a busy core
    // (ThreadPool::run_shared: all of forward_thread's work is for_each steps); prefill
    // batches, bound by compute, keep every thread.
    if (n <= kSharedMaxTokens)
      pool_.run_shared(fn);
    else
      pool_.run(fn);
    return !cancelled;
  }

  // The layer program, once, with every buffer assigned (see plan.h).
  void build_plan() {
    const int64_t E = c_.n_embd, Q = c_.n_head * c_.head_dim, F = c_.n_ff;
    const size_t qs = static_cast<size_t>(qkv_dim_), gs = static_cast<size_t>(2 * F);
    auto norm = [&](const float* src, size_t ss, const std::vector<float>& w, float* dst,
                    int64_t dim) {
      Node nd{NodeKind::norm};
      nd.src = src, nd.src_stride = ss, nd.w = w.data(), nd.dst = dst, nd.dst_stride = ss;
      nd.dim = dim;
      plan_.push_back(nd);
    };
    auto matmul = [&](const float* src, int64_t dim, std::initializer_list<MatJob> jobs) {
      Node nd{NodeKind::matmul};
      nd.src = src, nd.src_stride = static_cast<size_t>(dim), nd.dim = dim;
      for (const MatJob& j : jobs) nd.jobs[nd.n_jobs++] = j;
      plan_.push_back(nd);
    };
    plan_.push_back(Node{NodeKind::embed});
    for (int il = 0; il < c_.n_layer; ++il) {
      const Layer& L = m_->layers[il];
      Node cp{NodeKind::cancel_point};
      cp.layer = il;
      plan_.push_back(cp);
      if (il == 0) {
        norm(x_.data(), E, L.attn_norm, xn_.data(), E);
      } else {
        // The previous layer's last residual also writes this layer's pre-norm (one step fewer).
        for (size_t i = plan_.size(); i-- > 0;)
          if (plan_[i].kind == NodeKind::residual) {
            plan_[i].w2 = L.attn_norm.data(), plan_[i].dst2 = xn_.data();
            break;
          }
      }
      if (c_.arch->fused_qkv) {
        matmul(xn_.data(), E, {{&L.wqkv, qkv_.data(), qs, &L.bq}});
      } else {
        matmul(xn_.data(), E,
               {{&L.wq, qkv_.data(), qs, &L.bq},
                {&L.wk, qkv_.data() + Q, qs, &L.bk},
                {&L.wv, qkv_.data() + Q + kv_dim_, qs, &L.bv}});
      }
      Node rs{NodeKind::rope_store};
      rs.layer = il;
      plan_.push_back(rs);
      Node at{NodeKind::attention};
      at.layer = il, at.dst = att_.data(), at.dst_stride = static_cast<size_t>(Q);
      plan_.push_back(at);
      if (!L.attn_sub_norm.empty()) norm(att_.data(), Q, L.attn_sub_norm, att_.data(), Q);
      matmul(att_.data(), Q, {{&L.wo, tmp_.data(), static_cast<size_t>(E), &L.bo}});
      Node r1{NodeKind::residual};
      r1.src = tmp_.data(), r1.src_stride = E, r1.dst = x_.data(), r1.dst_stride = E;
      r1.w = L.post_attn_norm.empty() ? nullptr : L.post_attn_norm.data();
      r1.w2 = L.ffn_norm.data(), r1.dst2 = xn_.data(), r1.dim = E;
      plan_.push_back(r1);
      if (c_.arch->fused_gate_up) {
        matmul(xn_.data(), E, {{&L.ffn_gate_up, gu_.data(), gs, nullptr}});
      } else {
        matmul(xn_.data(), E,
               {{&L.ffn_gate, gu_.data(), gs, nullptr}, {&L.ffn_up, gu_.data() + F, gs, nullptr}});
      }
      Node ga{NodeKind::gated_act};
      ga.src = gu_.data(), ga.src_stride = gs, ga.dst = h_.data(), ga.dst_stride = F, ga.dim = F;
      ga.w = L.ffn_sub_norm.empty() ? nullptr : L.ffn_sub_norm.data();
      plan_.push_back(ga);
      matmul(h_.data(), F, {{&L.ffn_down, tmp_.data(), static_cast<size_t>(E), nullptr}});
      Node r2{NodeKind::residual};
      r2.src = tmp_.data(), r2.src_stride = E, r2.dst = x_.data(), r2.dst_stride = E, r2.dim = E;
      r2.w = L.post_ffn_norm.empty() ? nullptr : L.post_ffn_norm.data();
      plan_.push_back(r2);
    }
    Node on{NodeKind::output_norm};
    on.src = x_.data(), on.src_stride = E, on.w = m_->output_norm.data(), on.dst = xn_.data();
    on.dst_stride = E, on.dim = E;
    plan_.push_back(on);
    Node oh{NodeKind::output_head};
    oh.src = xn_.data(), oh.src_stride = E, oh.dim = E;
    oh.jobs[0] = {&m_->output, nullptr, static_cast<size_t>(c_.n_vocab), nullptr};
    oh.n_jobs = 1;
    plan_.push_back(oh);
    fuse_quantization();
  }

  // A matmul whose input the per-token step just before it writes takes its activation rows
  // from that step, which quantizes each token's row as it writes it: one step fewer.
  void fuse_quantization() {
    for (size_t i = 1; i < plan_.size(); ++i) {
      Node& mn = plan_[i];
      if (mn.kind != NodeKind::matmul) continue;
      size_t pi = i - 1;  // the step before (a cancel point is none)
      while (pi > 0 && plan_[pi].kind == NodeKind::cancel_point) --pi;
      Node& p = plan_[pi];
      const bool producer = p.kind == NodeKind::norm || p.kind == NodeKind::gated_act ||
                            (p.kind == NodeKind::residual && p.w2);
      const float* out = p.kind == NodeKind::residual ? p.dst2 : p.dst;
      if (!producer || out != mn.src || p.dst_stride != mn.src_stride) continue;
      const kernels::PreparedWeights& w0 = mn.jobs[0].m->w;
      bool shared = w0.cols == p.dim;
      for (int j = 0; j < mn.n_jobs; ++j)
        shared = shared && mn.jobs[j].m->w.cols == w0.cols &&
                 k_.activation_type(mn.jobs[j].m->w.type) == k_.activation_type(w0.type);
      if (!shared) continue;
      p.quant = &w0;
      mn.quantized = true;
    }
  }
  // Quantizes row t (just written at row) for the matmul after node nd, when nd.quant says so.
  void quantize_for_next(const Node& nd, int64_t t, const float* row) {
    if (!nd.quant) return;
    const size_t xrb = k_.activation_row_bytes(nd.quant->type, nd.dim);
    k_.quantize_activation(nd.quant->type, row, xq_.data() + t * xrb, nd.dim);
  }

  bool forward_thread(int tid, const Token* tok, int n, bool all_logits, float* out,
                      const std::atomic<bool>* cancel) {
    const float eps = c_.norm_eps;
    // f(t) for t in [0, count) as one step of chunks of tokens (ThreadPool::for_each).
    auto per_token = [&](int64_t count, auto&& f) {
      pool_.for_each(tid, count, 1, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) f(t);
      });
    };
    // Tokens that want logits: all of the chunk, or only its last one.
    const int first = all_logits ? 0 : n - 1, nl = n - first;
    int pending_cancel = -1;  // layer whose cancel sample the next matmul takes
    for (const Node& nd : plan_) {
      switch (nd.kind) {
        case NodeKind::embed:
          per_token(n, [&](int64_t t) {
            float* xr = x_.data() + t * c_.n_embd;
            k_.dequantize(m_->tok_embd_type, m_->tok_embd + tok[t] * m_->tok_embd_row_bytes, xr,
                          c_.n_embd);
            if (c_.embd_scale != 1.0f) k_.scale(xr, c_.embd_scale, xr, c_.n_embd);
          });
          break;
        case NodeKind::cancel_point:
          // No step of its own: the layer's first matmul samples the flag (below).
          if (cancel) pending_cancel = nd.layer;
          break;
        case NodeKind::norm:
          per_token(n, [&](int64_t t) {
            k_.rmsnorm(nd.src + t * nd.src_stride, nd.w, nd.dst + t * nd.dst_stride, nd.dim, eps);
            quantize_for_next(nd, t, nd.dst + t * nd.dst_stride);
          });
          break;
        case NodeKind::matmul: {
          uint8_t* stop = pending_cancel >= 0 ? &stop_[static_cast<size_t>(pending_cancel)] : nullptr;
          mm(tid, nd.jobs.data(), nd.n_jobs, nd.src, nd.src_stride, n, nd.quantized, cancel, stop);
          pending_cancel = -1;
          if (stop && *stop) return false;  // every thread read the same sample
          break;
        }
        case NodeKind::rope_store:
          rope_and_store(tid, m_->layers[nd.layer], nd.layer, n);
          break;
        case NodeKind::attention:
          attention(tid, nd.layer, n);  // ends with a completed for_each step: no barrier
          break;
        case NodeKind::residual:
          per_token(n, [&](int64_t t) {
            float* sr = const_cast<float*>(nd.src) + t * nd.src_stride;
            float* xr = nd.dst + t * nd.dst_stride;
            if (nd.w) k_.rmsnorm(sr, nd.w, sr, nd.dim, eps);
            k_.add(xr, sr, xr, nd.dim);
            if (nd.w2) k_.rmsnorm(xr, nd.w2, nd.dst2 + t * nd.dst_stride, nd.dim, eps);
            if (nd.w2) quantize_for_next(nd, t, nd.dst2 + t * nd.dst_stride);
          });
          break;
        case NodeKind::gated_act:
          per_token(n, [&](int64_t t) {
            const float* g = nd.src + t * nd.src_stride;
            float* hr = nd.dst + t * nd.dst_stride;
            if (c_.gelu)
              k_.geglu(g, g + nd.dim, hr, nd.dim);
            else
              k_.swiglu(g, g + nd.dim, hr, nd.dim);
            if (nd.w) k_.rmsnorm(hr, nd.w, hr, nd.dim, eps);
            quantize_for_next(nd, t, hr);
          });
          break;
        case NodeKind::output_norm:
          if (!out) return true;
          per_token(nl, [&](int64_t t) {
            k_.rmsnorm(nd.src + (first + t) * nd.src_stride, nd.w, nd.dst + t * nd.dst_stride,
                       nd.dim, eps);
          });
          break;
        case NodeKind::output_head: {
          MatJob j = nd.jobs[0];
          j.y = out;
          mm(tid, &j, 1, nd.src, nd.src_stride, nl);
          if (c_.final_softcap > 0)
            per_token(nl, [&](int64_t t) {
              k_.softcap(out + t * c_.n_vocab, c_.n_vocab, c_.final_softcap);
            });
          break;
        }
      }
    }
    return true;
  }

  // q/k norms, RoPE on q and k, K and V into the cache (f16); units are (token, head).
  void rope_and_store(int tid, const Layer& L, int64_t il, int n) {
    const int64_t hd = c_.head_dim, nh = c_.n_head, nkv = c_.n_head_kv, Q = nh * hd;
    const model::RopeParams& rp = rope(il);
    const float base = rp.base, fscale = rp.freq_scale, mscale = rp.mscale;
    const float* ff = rp.factors.empty() ? nullptr : rp.factors.data();
    const int64_t units = static_cast<int64_t>(n) * (nh + nkv);
    pool_.for_each(tid, units, 1, [&](int64_t ub, int64_t ue) {
      for (int64_t u = ub; u < ue; ++u) {
        const int64_t t = u / (nh + nkv), h = u % (nh + nkv);
        const int64_t pos = n_past_ + t;
        float* row = qkv_.data() + t * qkv_dim_;
        if (h < nh) {
          float* q = row + h * hd;
          if (!L.q_norm.empty()) k_.rmsnorm(q, L.q_norm.data(), q, hd, c_.norm_eps);
          k_.rope(q, hd, c_.n_rot, pos, base, fscale, ff, c_.rope_neox);
          if (mscale != 1.0f) k_.scale(q, mscale, q, c_.n_rot);
        } else {
          const int64_t kh = h - nh;
          float* kk = row + Q + kh * hd;
          float* vv = row + Q + kv_dim_ + kh * hd;
          if (!L.k_norm.empty()) k_.rmsnorm(kk, L.k_norm.data(), kk, hd, c_.norm_eps);
          k_.rope(kk, hd, c_.n_rot, pos, base, fscale, ff, c_.rope_neox);
          if (mscale != 1.0f) k_.scale(kk, mscale, kk, c_.n_rot);
          store_kv(tid, true, il, pos, kh, kk);
          store_kv(tid, false, il, pos, kh, vv);
        }
      }
    });
  }

  // One head's K (key = true) or V row of position pos in layer il, to / from f32, through
  // thread tid's row of krow_ (K's rows are scattered over their group).
  void store_kv(int tid, bool key, int64_t il, int64_t pos, int64_t kh, const float* x) {
    uint8_t* cell = key ? krow_.data() + tid * head_bytes_ : kv_cell(false, il, pos, kh);
    if (kv_q8_)
      k_.quantize_activation(TensorType::Q8_0, x, cell, c_.head_dim);
    else
      k_.f32_to_f16(x, reinterpret_cast<uint16_t*>(cell), c_.head_dim);
    if (key) put_row(true, il, pos, kh, cell);
  }
  void load_kv(int tid, bool key, int64_t il, int64_t pos, int64_t kh, float* x) {
    uint8_t* cell = krow_.data() + tid * head_bytes_;
    get_row(key, il, pos, kh, cell);
    if (kv_q8_)
      k_.dequantize(TensorType::Q8_0, cell, x, c_.head_dim);
    else
      k_.f16_to_f32(reinterpret_cast<const uint16_t*>(cell), x, c_.head_dim);
  }

  // Causal (optionally sliding-window) attention over layer il (src/graph/attention.cpp).
  void attention(int tid, int64_t il, int n) {
    const bool local = c_.swa_layer[il] != 0 && c_.sliding_window > 0;
    KvView kv;
    kv.k = kv_cell(true, il, 0, 0), kv.v = kv_cell(false, il, 0, 0);
    kv.row_bytes = head_bytes_, kv.head_stride = static_cast<size_t>(head_cells_) * head_bytes_;
    kv.q8_0 = kv_q8_;
    attn_.run(tid, pool_, kv, qkv_.data(), qkv_dim_, n_past_, n, local ? c_.sliding_window : 0,
              att_.data(), c_.n_head * c_.head_dim);
  }

  std::shared_ptr<const LoadedModel> m_;
  const Config& c_;
  const kernels::KernelTable& k_;
  ThreadPool pool_;
  int n_ctx_, n_batch_;
  int n_past_ = 0, n_logits_ = 0;
  int64_t kv_dim_ = 0, qkv_dim_ = 0;
  std::vector<uint8_t> stop_;  // per layer: the cancel flag as sampled in this forward pass
  std::vector<Node> plan_;
  FloatScratch x_, xn_, tmp_, qkv_, att_, gu_, h_;  // n_batch rows each
  std::vector<float> logits_;
  Attention attn_;
  std::vector<uint8_t> xq_;
  bool kv_q8_ = false;     // q8_0 KV cache instead of f16
  size_t head_bytes_ = 0;  // one KV head's row of one position
  int64_t head_cells_ = 0;  // positions per head in the cache: n_ctx_ in whole K groups
  std::vector<uint8_t> krow_;  // per thread, one head row: K rows on their way in or out
  LargeBuffer kbuf_, vbuf_;
  model::SessionRope rope_;         // this session's RoPE frequencies and attention factor
  const model::RopeParams& rope(int64_t il) const {
    return c_.swa_layer[il] ? rope_.local : rope_.global;
  }
};

}  // namespace

Result<std::unique_ptr<InferenceContext>> create_context(
    std::shared_ptr<const model::LoadedModel> model, const ContextOptions& options) {
  if (!model) return Error(ErrorCode::invalid_argument, "create_context: no model");
  const auto& c = model->config;
  if (options.n_ctx < 0) return Error(ErrorCode::invalid_argument, "n_ctx must be >= 0");
  if (options.n_threads < 0 || options.n_threads > 512)
    return Error(ErrorCode::invalid_argument, "n_threads must be in [0, 512]");
  if (options.n_batch < 1 || options.n_batch > 4096)
    return Error(ErrorCode::invalid_argument, "n_batch must be in [1, 4096]");
  // The q8_0 KV rows are quantized with the (always present) Q8_0 activation quantizer.
  if (options.kv_q8_0 && c.head_dim % 32 != 0)
    return Error(ErrorCode::invalid_argument,
                 "q8_0 KV cache needs head_dim a multiple of 32 (this model: " +
                     std::to_string(c.head_dim) + ")");
  int64_t n_ctx = options.n_ctx;
  if (n_ctx == 0) n_ctx = std::min<int64_t>(c.n_ctx_train, 4096);
  if (n_ctx > std::max<int64_t>(c.n_ctx_train * 4, 4096) || n_ctx > (1 << 20))
    return Error(ErrorCode::invalid_argument, "n_ctx " + std::to_string(n_ctx) +
                                                  " exceeds 4x the trained context " +
                                                  std::to_string(c.n_ctx_train));
  auto ctx = std::make_unique<Context>(std::move(model), options, static_cast<int>(n_ctx));
  NIBBLE_TRY(ctx->init());
  return std::unique_ptr<InferenceContext>(std::move(ctx));
}

}  // namespace nibble::graph
