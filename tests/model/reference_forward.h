// A float reference forward pass for the engine's long-context tests: the model's weights
// dequantized to f32 by the scalar reference kernels, f32 activations everywhere (no
// activation quantization, no f16 rounding of q, K, V or probabilities), an f32 KV cache and
// plain loops. The RoPE frequencies are not taken from the engine: the test computes them
// from the definitions (RefRope) and hands them in per layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/config.h"

namespace nibble::test {

// RoPE of one layer: pair i turns by pos * inv_freq[i]; the rotated dims are then scaled by
// mscale (the attention factor of YaRN / LongRoPE).
struct RefRope {
  std::vector<double> inv_freq;  // [n_rot / 2]
  double mscale = 1.0;
};

// inv_freq_i = base^(-2i/n_rot) * freq_scale / factors[i] (factors may be empty).
RefRope plain_rope(int64_t n_rot, double base, double freq_scale,
                   const std::vector<float>& factors = {});

// A 1-D f32/f16 tensor of the file as floats (empty when absent).
std::vector<float> read_vector(const gguf::File& f, const std::string& name);

class RefForward {
 public:
  // `rope` holds one entry per layer.
  RefForward(const gguf::File& file, const model::Config& cfg, std::vector<RefRope> rope,
             int n_ctx);
  // Evaluates `token` at the next position; returns the logits when want_logits.
  std::vector<float> step(int token, bool want_logits);
  int n_past() const { return n_past_; }

 private:
  struct Mat {
    std::vector<float> w;  // rows x cols, row-major
    int64_t rows = 0, cols = 0;
    float scale = 1.0f;  // per-tensor output scale (BitNet)
  };
  struct Layer {
    std::vector<float> attn_norm, ffn_norm, post_attn_norm, post_ffn_norm, q_norm, k_norm;
    std::vector<float> attn_sub_norm, ffn_sub_norm, bq, bk, bv, bo;
    Mat wq, wk, wv, wqkv, wo, gate, up, gate_up, down;
  };
  Mat matrix(const std::string& name, bool required = true) const;
  static void matvec(const Mat& m, const float* x, float* y);
  void rmsnorm(float* x, const std::vector<float>& w, int64_t n) const;
  void rope(float* x, const RefRope& r, int64_t pos) const;

  const gguf::File& f_;
  model::Config c_;
  std::vector<RefRope> rope_;
  int n_ctx_;
  int n_past_ = 0;
  std::vector<float> tok_embd_, out_norm_;
  Mat output_;
  std::vector<Layer> layers_;
  std::vector<float> kcache_, vcache_;  // [layer][pos][n_head_kv * head_dim]
};

}  // namespace nibble::test
