// Reference row ops (f32). The KernelTable forwards to these or to a SIMD variant.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nibble::kernels::ref {

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps);
void softmax(float* x, int64_t n, float scale, float softcap);
void swiglu(const float* gate, const float* up, float* y, int64_t n);
void geglu(const float* gate, const float* up, float* y, int64_t n);
void add(const float* a, const float* b, float* y, int64_t n);
void scale(const float* x, float s, float* y, int64_t n);
void softcap(float* x, int64_t n, float cap);
void rope(float* x, int64_t head_dim, int64_t n_rot, int64_t pos, float base, float freq_scale,
          const float* freq_factors, bool neox);
void attn_scores_f16(const float* q, const uint16_t* k, size_t k_stride, int64_t head_dim,
                     int64_t n_kv, float* scores);
void attn_values_f16(const float* p, const uint16_t* v, size_t v_stride, int64_t head_dim,
                     int64_t n_kv, float* out);

}  // namespace nibble::kernels::ref
