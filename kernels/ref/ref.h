// Scalar reference kernels: the specification every SIMD variant is tested against. Written to
// be obviously correct, never optimised. Integer formats accumulate exactly as the SIMD
// kernels must: int32 sums of weight x activation quants per (sub-)block, then scaled.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/formats/blocks.h"

namespace nibble::kernels::ref {

// A weight block decoded to integers: x[i] = d * sc[i / sub] * q[i] - dmin * mn[i / sub].
// Block of `n` (32 or 256) elements in `n / sub` sub-blocks. Formats without mins have
// dmin = 0; 32-block formats have one sub-block with sc = 1 and dmin * mn = -m.
struct IntBlock {
  int n = 0, sub = 0;
  float d = 0, dmin = 0;
  int8_t q[QK_K];
  int16_t sc[QK_K / 16];
  int16_t mn[QK_K / 16];
};

// 6-bit scale *d and min *m of sub-block j (0..7) from the 12 packed bytes of a Q4_K / Q5_K
// block (GGUF's get_scale_min_k4).
void scale_min_k4(int j, const uint8_t* q, int16_t* d, int16_t* m);

// Decode block `i` of a row of `type`. false for types without an integer form (floats).
bool decode_block(TensorType type, const void* row, int64_t i, IntBlock* out);

// Dequantize n elements (a multiple of the block size) of any supported type.
bool dequantize_row(TensorType type, const void* src, float* dst, int64_t n);
// Quantize n floats into `type` (weights: simple reference quantizers; activations Q8_0,
// Q8_1, Q8_K exactly as GGUF's reference). false when the type has no quantizer.
bool quantize_row(TensorType type, const float* src, void* dst, int64_t n);

// Partner activation format of a weight format (F32 for float weights).
TensorType activation_type(TensorType weight);
// true when nibble can compute with weights of this type.
bool computable(TensorType weight);

// dot(W row, X row) of k elements, X already in the partner format.
float dot_row(TensorType weight, const void* w_row, const void* x_row, int64_t k);

}  // namespace nibble::kernels::ref
