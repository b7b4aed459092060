// The execution plan of a context: a flat list of nodes built once when the context is created
// (the model's layer program with every buffer already assigned), walked by all threads of the
// pool for every chunk. Each node is one or two steps of the pool's work sharing (a matmul: the
// quantization of its input, unless the node before did it, then its rows); the number of
// tokens of the chunk (1..n_batch) is the only run-time input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace nibble::graph {

struct MatJob {
  const model::Matrix* m = nullptr;
  float* y = nullptr;                        // output, token t at y + t * y_stride
  size_t y_stride = 0;                       // floats
  const std::vector<float>* bias = nullptr;  // may be null or empty
};

enum class NodeKind : uint8_t {
  embed,         // token rows -> x (dequantized, scaled)
  cancel_point,  // thread 0 samples the cancel flag; all threads see it after a barrier
  norm,          // dst[t] = rmsnorm(src[t]) * w, t < n (in place allowed)
  matmul,        // jobs[0..n_jobs) over src (one shared quantization)
  rope_store,    // q/k norms, RoPE, K/V into the cache for `layer`
  attention,     // causal / sliding-window attention for `layer` -> dst
  residual,      // x[t] += post_norm(src[t]); then xn[t] = rmsnorm(x[t]) * w2 when w2 set
  gated_act,     // h[t] = act(gate[t]) * up[t], then optional sub-norm w
  output_norm,   // xn[t] = rmsnorm(x[first + t]) * w for the tokens that want logits
  output_head,   // logits = output · xn (+ final soft-cap)
};

struct Node {
  NodeKind kind;
  int layer = -1;
  const float* src = nullptr;
  size_t src_stride = 0;
  float* dst = nullptr;
  size_t dst_stride = 0;
  const float* w = nullptr;   // norm weight / post-norm weight
  const float* w2 = nullptr;  // residual: the next pre-norm
  float* dst2 = nullptr;      // residual: where the next pre-norm writes
  int64_t dim = 0;            // row length of src (norm/matmul inner dimension)
  std::array<MatJob, 3> jobs{};
  int n_jobs = 0;
  // norm / residual (with w2) / gated_act: also quantize each output row (dst2 for a residual,
  // else dst) into the context's activation buffer in this matrix's activation format, for the
  // matmul that follows (which then has `quantized` set and skips its own quantization step).
  const kernels::PreparedWeights* quant = nullptr;
  bool quantized = false;
};

// Human-readable dump (one line per node), for debugging and docs.
std::string describe(const std::vector<Node>& plan);

}  // namespace nibble::graph
