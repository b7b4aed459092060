// Reference dot products and matmul. Integer formats: int32 sums of q_w * q_x per sub-block
// (|q_w| <= 127, |q_x| <= 127, at most 256 terms: |sum| < 2^22, no overflow), scaled by the
// integer sub-block scales, then by d_w * d_x in float. Float formats: f32 sums in order.
#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels::ref {

TensorType activation_type(TensorType w) {
  switch (w) {
    case TensorType::Q4_0:
    case TensorType::Q5_0:
    case TensorType::Q8_0:
    case TensorType::IQ4_NL: return TensorType::Q8_0;
    case TensorType::Q4_1:
    case TensorType::Q5_1: return TensorType::Q8_1;
    case TensorType::Q2_K:
    case TensorType::Q3_K:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
    case TensorType::TQ1_0:
    case TensorType::TQ2_0: return TensorType::Q8_K;
    default: return TensorType::F32;
  }
}

bool computable(TensorType w) {
  switch (w) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q8_0:
    case TensorType::IQ4_NL:
    case TensorType::Q2_K:
    case TensorType::Q3_K:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
    case TensorType::TQ1_0:
    case TensorType::TQ2_0: return true;
    default: return false;
  }
}

float dot_row(TensorType type, const void* w, const void* x, int64_t k) {
  switch (type) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: {
      const auto* xf = static_cast<const float*>(x);
      float sum = 0;
      for (int64_t i = 0; i < k; ++i) {
        float wi;
        if (type == TensorType::F32) wi = static_cast<const float*>(w)[i];
        else if (type == TensorType::F16) wi = fp16_to_f32(static_cast<const uint16_t*>(w)[i]);
        else wi = bf16_to_f32(static_cast<const uint16_t*>(w)[i]);
        sum += wi * xf[i];
      }
      return sum;
    }
    default: break;
  }
  const TensorType at = activation_type(type);
  const auto info = tensor_type_info(type);
  const int64_t nb = k / info.block_size;
  IntBlock b;
  float sum = 0;
  for (int64_t i = 0; i < nb; ++i) {
    decode_block(type, w, i, &b);
    if (at == TensorType::Q8_K) {
      const BlockQ8_K& xb = static_cast<const BlockQ8_K*>(x)[i];
      int32_t scaled = 0, mins = 0;
      for (int s = 0; s < QK_K / b.sub; ++s) {
        int32_t isum = 0, xsum = 0;
        for (int j = s * b.sub; j < (s + 1) * b.sub; ++j) isum += b.q[j] * xb.qs[j];
        for (int j = s * b.sub / 16; j < (s + 1) * b.sub / 16; ++j) xsum += xb.bsums[j];
        scaled += b.sc[s] * isum;
        mins += b.mn[s] * xsum;
      }
      sum += b.d * xb.d * static_cast<float>(scaled) - b.dmin * xb.d * static_cast<float>(mins);
    } else if (at == TensorType::Q8_1) {
      const BlockQ8_1& xb = static_cast<const BlockQ8_1*>(x)[i];
      int32_t isum = 0;
      for (int j = 0; j < QK; ++j) isum += b.q[j] * xb.qs[j];
      // x_w = d*q + m  =>  dot = d*dx*isum + m * (dx * sum(qx)) = ... + m * s
      sum += b.d * fp16_to_f32(xb.d) * static_cast<float>(isum) - b.dmin * fp16_to_f32(xb.s);
    } else {
      const BlockQ8_0& xb = static_cast<const BlockQ8_0*>(x)[i];
      int32_t isum = 0;
      for (int j = 0; j < QK; ++j) isum += b.q[j] * xb.qs[j];
      sum += static_cast<float>(isum) * b.d * fp16_to_f32(xb.d);
    }
  }
  return sum;
}

}  // namespace nibble::kernels::ref
