// Row ops (norms, activations, softmax, RoPE, f16 conversions, attention over the f16 KV cache,
// activation quantization) as one function-pointer table per instruction set. The scalar table
// forwards to kernels/ref; the SIMD tables are the templates of kernels/simd/ops_impl.h
// instantiated in kernels/x86/avx2/ops.cpp, kernels/x86/avx512/ops.cpp and
// kernels/arm/neon/ops.cpp. The KernelTable binds the best table under its ISA cap once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/kernels.h"

namespace nibble::kernels {

struct RowOps {
  Isa isa;
  const char* name;  // "scalar", "avx2", ...
  void (*f16_to_f32)(const uint16_t* src, float* dst, int64_t n);
  void (*f32_to_f16)(const float* src, uint16_t* dst, int64_t n);
  void (*rmsnorm)(const float* x, const float* w, float* y, int64_t n, float eps);
  void (*softmax)(float* x, int64_t n, float scale, float softcap);
  void (*swiglu)(const float* gate, const float* up, float* y, int64_t n);
  void (*geglu)(const float* gate, const float* up, float* y, int64_t n);
  void (*add)(const float* a, const float* b, float* y, int64_t n);
  void (*scale)(const float* x, float s, float* y, int64_t n);
  void (*softcap)(float* x, int64_t n, float cap);
  void (*rope)(float* x, int64_t head_dim, int64_t n_rot, int64_t pos, float base, float freq_scale,
               const float* freq_factors, bool neox);
  void (*attn_scores_f16)(const float* q, const uint16_t* k, size_t k_stride, int64_t head_dim,
                          int64_t n_kv, float* scores);
  void (*attn_values_f16)(const float* p, const uint16_t* v, size_t v_stride, int64_t head_dim,
                          int64_t n_kv, float* out);
  // Activation quantizers: n floats (a multiple of 32, resp. 256) into Q8_0 / Q8_1 / Q8_K
  // blocks, byte for byte what ref::quantize_row writes.
  void (*quantize_q8_0)(const float* x, void* dst, int64_t n);
  void (*quantize_q8_1)(const float* x, void* dst, int64_t n);
  void (*quantize_q8_k)(const float* x, void* dst, int64_t n);
};

// Every table compiled into this binary: the scalar one first, then one per SIMD ISA of this
// architecture (whether or not the CPU can run it; check isa_supported()).
std::span<const RowOps* const> row_op_tables();

}  // namespace nibble::kernels
