// RoPE parameters of one session. Which frequencies a layer rotates with can depend on the
// session (Phi-3 LongRoPE picks its short or long factors from the context size), so the
// executor asks for them once per context instead of reading the config per token.
//
// Every scaling kind reduces to the kernel's rope (theta_i = pos * base^(-2i/n_rot) *
// freq_scale / factor_i) plus a magnitude factor on the rotated dims of q and k:
//   none      freq_scale 1, factors = rope_freqs (Llama 3) or none
//   linear    freq_scale = 1 / rope.scaling.factor, factors = rope_freqs or none
//   yarn      freq_scale 1, factor_i = 1 / (s (1 - r_i) + r_i) with s = 1 / factor and r_i the
//             extrapolation weight of pair i (1 below the beta_fast dim, 0 above beta_slow's,
//             linear in between); mscale = attention factor (0.1 ln(factor) + 1 by default)
//   longrope  freq_scale 1, factors = rope_factors_short when n_ctx <= the original context,
//             else rope_factors_long; mscale = attention factor
// docs/engine.md ("RoPE scaling") has the definitions and the choices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace nibble::model {

struct RopeParams {
  float base = 10000.0f;
  float freq_scale = 1.0f;     // kernel's linear position scale
  std::vector<float> factors;  // [n_rot/2] frequency divisors; empty = none
  float mscale = 1.0f;         // multiplies the n_rot rotated dims of q and k after the rotation
};

struct SessionRope {
  RopeParams global;          // full-attention layers
  RopeParams local;           // sliding-window layers (differs from global only for gemma3)
  bool long_factors = false;  // LongRoPE: the long factor set is in use
  std::string description;    // one line for the log, e.g. "LongRoPE long factors (...)"
};

// YaRN's extrapolation weight r_i of every rotated pair i in [0, n_rot/2): 1 keeps the
// original frequency (fast dims), 0 interpolates fully (slow dims).
std::vector<float> yarn_extrapolation(int64_t n_rot, float base, int64_t ctx_orig, float beta_fast,
                                      float beta_slow);

SessionRope session_rope(const LoadedModel& m, int64_t n_ctx);

}  // namespace nibble::model
