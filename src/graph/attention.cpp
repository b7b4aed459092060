// Attention over the KV cache: units are (token, query head).
#include "graph/attention.h"

#include <algorithm>

#include "kernels/formats/types.h"

namespace nibble::graph {

void Attention::init(const kernels::KernelTable& k, const AttnShape& s, int n_ctx, int n_batch,
                     int n_threads, bool q8_0) {
  (void)n_batch;
  k_ = &k;
  s_ = s;
  n_ctx_ = n_ctx;
  const size_t nt = static_cast<size_t>(n_threads), hd = static_cast<size_t>(s.head_dim);
  scores_.assign(nt * n_ctx, 0);
  qh_.assign(nt * hd, 0);
  h16_.assign(nt * std::max<size_t>(n_ctx, hd), 0);
  if (q8_0) {
    kv16_.assign(nt * 2 * n_ctx * hd, 0);
    kvrow_.assign(nt * hd, 0);
  }
}

size_t Attention::scratch_bytes() const {
  return (scores_.size() + qh_.size() + kvrow_.size()) * sizeof(float) +
         (h16_.size() + kv16_.size()) * sizeof(uint16_t);
}

void Attention::run(int tid, ThreadPool& pool, const KvView& kv, const float* q, size_t q_stride,
                    int64_t pos0, int n, int64_t window, float* out, size_t out_stride) {
  const kernels::KernelTable& k = *k_;
  const int64_t hd = s_.head_dim, nh = s_.n_head, group = nh / s_.n_head_kv;
  float* scores = scores_.data() + static_cast<size_t>(tid) * n_ctx_;
  float* qh = qh_.data() + static_cast<size_t>(tid) * hd;
  uint16_t* h16 = h16_.data() + static_cast<size_t>(tid) * std::max<int64_t>(n_ctx_, hd);
  const int nt = pool.size();
  const int64_t units = static_cast<int64_t>(n) * nh;
  const int64_t ub = units * tid / nt, ue = units * (tid + 1) / nt;
  for (int64_t u = ub; u < ue; ++u) {
    const int64_t t = u / nh, h = u % nh, kh = h / group;
    const int64_t pos = pos0 + t;
    const int64_t lo = window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0;
    const int64_t nkv = pos + 1 - lo;
    // q and the probabilities are rounded to f16 like the K/V they meet: this is the
    // arithmetic of the reference engines' f16 attention (an f16 x f16 dot), and matching it
    // halves the golden error of 8-bit models (docs/engine.md).
    k.f32_to_f16(q + t * q_stride + h * hd, h16, hd);
    k.f16_to_f32(h16, qh, hd);
    const uint16_t* Kh = nullptr;
    const uint16_t* Vh = nullptr;
    size_t stride = kv.row_bytes / sizeof(uint16_t);
    if (!kv.q8_0) {
      Kh = reinterpret_cast<const uint16_t*>(kv.k + lo * kv.row_bytes + kh * kv.head_bytes);
      Vh = reinterpret_cast<const uint16_t*>(kv.v + lo * kv.row_bytes + kh * kv.head_bytes);
    } else {
      // Dequantize this head's rows once per (token, head) into f16 for the kernels.
      uint16_t* k16 = kv16_.data() + static_cast<size_t>(tid) * 2 * n_ctx_ * hd;
      uint16_t* v16 = k16 + static_cast<size_t>(n_ctx_) * hd;
      float* tmp = kvrow_.data() + static_cast<size_t>(tid) * hd;
      for (int64_t j = 0; j < nkv; ++j) {
        const size_t off = (lo + j) * kv.row_bytes + kh * kv.head_bytes;
        k.dequantize(TensorType::Q8_0, kv.k + off, tmp, hd);
        k.f32_to_f16(tmp, k16 + j * hd, hd);
        k.dequantize(TensorType::Q8_0, kv.v + off, tmp, hd);
        k.f32_to_f16(tmp, v16 + j * hd, hd);
      }
      Kh = k16, Vh = v16, stride = static_cast<size_t>(hd);
    }
    k.attn_scores_f16(qh, Kh, stride, hd, nkv, scores);
    k.softmax(scores, nkv, s_.scale, s_.softcap);
    k.f32_to_f16(scores, h16, nkv);
    k.f16_to_f32(h16, scores, nkv);
    k.attn_values_f16(scores, Vh, stride, hd, nkv, out + t * out_stride + h * hd);
  }
}

}  // namespace nibble::graph
