// A loaded model: typed hyper-parameters (config.h), per-layer weights prepared for the kernel
// table, the tokenizer and the GGUF mapping the unpacked weights point into.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "model/config.h"
#include "nibble/tokenizer.h"

namespace nibble::model {

// One weight matrix (rows x cols, rows = output features) prepared for matmul.
struct Matrix {
  kernels::PreparedWeights w;  // w.data == nullptr: absent (optional tensor)
  float scale = 1.0f;          // per-tensor scale applied to the output (BitNet), 1 = none
  bool present() const { return w.data != nullptr; }
};

// A 1-D f32 vector (norm weights, biases, rope factors); empty when absent.
using Vec = std::vector<float>;

struct Layer {
  // [n_embd] norms
  Vec attn_norm, post_attn_norm, ffn_norm, post_ffn_norm;
  Vec attn_sub_norm;   // [n_embd_head * n_head] (BitNet, before the output projection)
  Vec ffn_sub_norm;    // [n_ff] (BitNet, before the down projection)
  Vec q_norm, k_norm;  // [head_dim] (qwen3, gemma3)
  // projections: wq [n_head*hd x n_embd], wk/wv [n_head_kv*hd x n_embd], wo [n_embd x n_head*hd]
  Matrix wq, wk, wv, wqkv, wo;
  Vec bq, bk, bv, bo;
  // FFN: gate/up [n_ff x n_embd], down [n_embd x n_ff]; phi3 fuses gate+up [2*n_ff x n_embd]
  Matrix ffn_gate, ffn_up, ffn_gate_up, ffn_down;
  // Every projection matrix of the layer (absent ones included: check present()).
  std::array<const Matrix*, 9> matrices() const {
    return {&wq, &wk, &wv, &wqkv, &wo, &ffn_gate, &ffn_up, &ffn_gate_up, &ffn_down};
  }
};

struct LoadedModel {
  Config config;
  std::shared_ptr<const Tokenizer> tokenizer;  // null when not loaded
  const kernels::KernelTable* kernels = nullptr;
  std::shared_ptr<const gguf::File> file;  // owns the mapping unpacked weights point into

  // token embeddings: GGUF layout [n_vocab rows x n_embd], any supported type; rows are
  // dequantized on lookup.
  TensorType tok_embd_type = TensorType::F32;
  const uint8_t* tok_embd = nullptr;
  size_t tok_embd_row_bytes = 0;

  Vec output_norm;  // [n_embd] (RMSNorm: no bias; a file with output_norm.bias is refused)
  Matrix output;   // [n_vocab x n_embd]; tied models prepare the embedding matrix here
  Vec rope_freqs;  // [n_rot/2] llama3 frequency factors, empty when absent
  // [n_rot/2] Phi-3 LongRoPE frequency factors (both or neither; config.rope_scaling = longrope)
  Vec rope_factors_short, rope_factors_long;
  std::vector<Layer> layers;

  uint64_t weight_bytes = 0;  // bytes of weights in memory (mapped + repacked)
};

}  // namespace nibble::model
