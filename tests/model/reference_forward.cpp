// The float reference forward pass (see reference_forward.h). Written for clarity: one token
// at a time, every architecture difference an `if` on the config or on a tensor's presence.
#include "tests/model/reference_forward.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/kernels.h"

namespace nibble::test {
namespace {

const kernels::KernelTable& scalar() { return kernels::KernelTable::get(kernels::Isa::scalar); }

std::vector<float> dequant(const gguf::TensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.n_elements));
  if (t.type == TensorType::F32)
    std::memcpy(out.data(), t.data, out.size() * sizeof(float));
  else
    scalar().dequantize(t.type, t.data, out.data(), static_cast<int64_t>(out.size()));
  return out;
}

// Four partial sums: independent of the engine's kernels, and not slow.
float dot(const float* a, const float* b, int64_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

float gelu_tanh(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
}
float silu(float x) { return x / (1.0f + std::exp(-x)); }

}  // namespace

RefRope plain_rope(int64_t n_rot, double base, double freq_scale,
                   const std::vector<float>& factors) {
  RefRope r;
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    double f = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
    f *= freq_scale;
    if (!factors.empty()) f /= factors[static_cast<size_t>(i)];
    r.inv_freq.push_back(f);
  }
  return r;
}

std::vector<float> read_vector(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo* t = f.find_tensor(name);
  return t ? dequant(*t) : std::vector<float>{};
}

RefForward::Mat RefForward::matrix(const std::string& name, bool required) const {
  Mat m;
  const gguf::TensorInfo* t = f_.find_tensor(name);
  if (!t) {
    if (required) ADD_FAILURE() << "reference: missing tensor " << name;
    return m;
  }
  m.w = dequant(*t);
  m.cols = static_cast<int64_t>(t->ne[0]);
  m.rows = static_cast<int64_t>(t->rows());
  auto s = read_vector(f_, name.substr(0, name.size() - 7) + ".scale");
  if (!s.empty()) m.scale = s[0];
  return m;
}

RefForward::RefForward(const gguf::File& file, const model::Config& cfg, std::vector<RefRope> rope,
                       int n_ctx)
    : f_(file), c_(cfg), rope_(std::move(rope)), n_ctx_(n_ctx) {
  tok_embd_ = read_vector(f_, "token_embd.weight");
  out_norm_ = read_vector(f_, "output_norm.weight");
  output_ = matrix(f_.find_tensor("output.weight") ? "output.weight" : "token_embd.weight");
  for (int64_t il = 0; il < c_.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    Layer L;
    L.attn_norm = read_vector(f_, p + "attn_norm.weight");
    L.ffn_norm = read_vector(f_, p + "ffn_norm.weight");
    L.post_attn_norm = read_vector(f_, p + "post_attention_norm.weight");
    L.post_ffn_norm = read_vector(f_, p + "post_ffw_norm.weight");
    L.q_norm = read_vector(f_, p + "attn_q_norm.weight");
    L.k_norm = read_vector(f_, p + "attn_k_norm.weight");
    L.attn_sub_norm = read_vector(f_, p + "attn_sub_norm.weight");
    L.ffn_sub_norm = read_vector(f_, p + "ffn_sub_norm.weight");
    L.bq = read_vector(f_, p + "attn_q.bias");
    L.bk = read_vector(f_, p + "attn_k.bias");
    L.bv = read_vector(f_, p + "attn_v.bias");
    L.bo = read_vector(f_, p + "attn_output.bias");
    if (f_.find_tensor(p + "attn_qkv.weight")) {
      L.wqkv = matrix(p + "attn_qkv.weight");
    } else {
      L.wq = matrix(p + "attn_q.weight");
      L.wk = matrix(p + "attn_k.weight");
      L.wv = matrix(p + "attn_v.weight");
    }
    L.wo = matrix(p + "attn_output.weight");
    if (f_.find_tensor(p + "ffn_gate.weight")) {
      L.gate = matrix(p + "ffn_gate.weight");
      L.up = matrix(p + "ffn_up.weight");
    } else {
      L.gate_up = matrix(p + "ffn_up.weight");  // phi3: gate rows, then up rows
    }
    L.down = matrix(p + "ffn_down.weight");
    layers_.push_back(std::move(L));
  }
  const size_t kv = static_cast<size_t>(c_.n_head_kv * c_.head_dim);
  kcache_.assign(static_cast<size_t>(c_.n_layer) * n_ctx_ * kv, 0.0f);
  vcache_.assign(kcache_.size(), 0.0f);
}

void RefForward::matvec(const Mat& m, const float* x, float* y) {
  for (int64_t r = 0; r < m.rows; ++r) y[r] = dot(m.w.data() + r * m.cols, x, m.cols) * m.scale;
}

void RefForward::rmsnorm(float* x, const std::vector<float>& w, int64_t n) const {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + c_.norm_eps));
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] * inv * w[static_cast<size_t>(i)];
}

void RefForward::rope(float* x, const RefRope& r, int64_t pos) const {
  const int64_t half = c_.n_rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double t = static_cast<double>(pos) * r.inv_freq[static_cast<size_t>(i)];
    const double cs = std::cos(t) * r.mscale, sn = std::sin(t) * r.mscale;
    const int64_t a = c_.rope_neox ? i : 2 * i, b = c_.rope_neox ? i + half : 2 * i + 1;
    const double x0 = x[a], x1 = x[b];
    x[a] = static_cast<float>(x0 * cs - x1 * sn);
    x[b] = static_cast<float>(x0 * sn + x1 * cs);
  }
}

std::vector<float> RefForward::step(int token, bool want_logits) {
  const int64_t E = c_.n_embd, hd = c_.head_dim, nh = c_.n_head, nkv = c_.n_head_kv;
  const int64_t Q = nh * hd, KV = nkv * hd, F = c_.n_ff, pos = n_past_;
  std::vector<float> x(tok_embd_.begin() + token * E, tok_embd_.begin() + (token + 1) * E);
  for (float& v : x) v *= c_.embd_scale;
  std::vector<float> xn(E), qkv(Q + 2 * KV), att(Q), o(E), gu(2 * F), h(F), sc(n_ctx_);
  auto add_bias = [](float* y, const std::vector<float>& b) {
    for (size_t i = 0; i < b.size(); ++i) y[i] += b[i];
  };
  for (int64_t il = 0; il < c_.n_layer; ++il) {
    const Layer& L = layers_[static_cast<size_t>(il)];
    xn = x;
    rmsnorm(xn.data(), L.attn_norm, E);
    if (!L.wqkv.w.empty()) {
      matvec(L.wqkv, xn.data(), qkv.data());
    } else {
      matvec(L.wq, xn.data(), qkv.data());
      matvec(L.wk, xn.data(), qkv.data() + Q);
      matvec(L.wv, xn.data(), qkv.data() + Q + KV);
    }
    add_bias(qkv.data(), L.bq);
    add_bias(qkv.data() + Q, L.bk);
    add_bias(qkv.data() + Q + KV, L.bv);
    for (int64_t hh = 0; hh < nh + nkv; ++hh) {
      float* v = qkv.data() + hh * hd;  // q heads, then k heads
      const auto& nw = hh < nh ? L.q_norm : L.k_norm;
      if (!nw.empty()) rmsnorm(v, nw, hd);
      rope(v, rope_[static_cast<size_t>(il)], pos);
    }
    float* kc = kcache_.data() + (static_cast<size_t>(il) * n_ctx_ + pos) * KV;
    float* vc = vcache_.data() + (static_cast<size_t>(il) * n_ctx_ + pos) * KV;
    std::copy(qkv.begin() + Q, qkv.begin() + Q + KV, kc);
    std::copy(qkv.begin() + Q + KV, qkv.begin() + Q + 2 * KV, vc);
    const bool local = c_.swa_layer[static_cast<size_t>(il)] && c_.sliding_window > 0;
    const int64_t lo = local ? std::max<int64_t>(0, pos - c_.sliding_window + 1) : 0;
    for (int64_t hh = 0; hh < nh; ++hh) {
      const int64_t kh = hh / (nh / nkv);
      const float* q = qkv.data() + hh * hd;
      float mx = -INFINITY;
      for (int64_t j = lo; j <= pos; ++j) {
        const float* kr = kcache_.data() + (static_cast<size_t>(il) * n_ctx_ + j) * KV + kh * hd;
        float s = dot(q, kr, hd) * c_.query_scale;
        if (c_.attn_softcap > 0) s = c_.attn_softcap * std::tanh(s / c_.attn_softcap);
        sc[j] = s;
        mx = std::max(mx, s);
      }
      double sum = 0;
      for (int64_t j = lo; j <= pos; ++j) sum += (sc[j] = std::exp(sc[j] - mx));
      float* out = att.data() + hh * hd;
      std::fill(out, out + hd, 0.0f);
      for (int64_t j = lo; j <= pos; ++j) {
        const float p = static_cast<float>(sc[j] / sum);
        const float* vr = vcache_.data() + (static_cast<size_t>(il) * n_ctx_ + j) * KV + kh * hd;
        for (int64_t d = 0; d < hd; ++d) out[d] += p * vr[d];
      }
    }
    if (!L.attn_sub_norm.empty()) rmsnorm(att.data(), L.attn_sub_norm, Q);
    matvec(L.wo, att.data(), o.data());
    add_bias(o.data(), L.bo);
    if (!L.post_attn_norm.empty()) rmsnorm(o.data(), L.post_attn_norm, E);
    for (int64_t i = 0; i < E; ++i) x[i] += o[i];
    xn = x;
    rmsnorm(xn.data(), L.ffn_norm, E);
    if (!L.gate_up.w.empty()) {
      matvec(L.gate_up, xn.data(), gu.data());
    } else {
      matvec(L.gate, xn.data(), gu.data());
      matvec(L.up, xn.data(), gu.data() + F);
    }
    for (int64_t i = 0; i < F; ++i) h[i] = (c_.gelu ? gelu_tanh(gu[i]) : silu(gu[i])) * gu[F + i];
    if (!L.ffn_sub_norm.empty()) rmsnorm(h.data(), L.ffn_sub_norm, F);
    matvec(L.down, h.data(), o.data());
    if (!L.post_ffn_norm.empty()) rmsnorm(o.data(), L.post_ffn_norm, E);
    for (int64_t i = 0; i < E; ++i) x[i] += o[i];
  }
  ++n_past_;
  if (!want_logits) return {};
  rmsnorm(x.data(), out_norm_, E);
  std::vector<float> logits(static_cast<size_t>(output_.rows));
  matvec(output_, x.data(), logits.data());
  if (c_.final_softcap > 0)
    for (float& l : logits) l = c_.final_softcap * std::tanh(l / c_.final_softcap);
  return logits;
}

}  // namespace nibble::test
