// Reference decoding of every weight format into IntBlock, and dequantization on top of it.
// The loops follow GGUF's definitions element for element (see the comments in blocks.h):
// dequantize computes (d * sc) * q - (dmin * mn) in that order, exactly as the reference
// engine does, so dequantized fixture weights match bit for bit.
#include <cstring>

#include "kernels/ref/fp16.h"
#include "kernels/ref/ref.h"

namespace nibble::kernels::ref {

void scale_min_k4(int j, const uint8_t* q, int16_t* d, int16_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<int16_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<int16_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

namespace {

template <typename B>
const B& block(const void* row, int64_t i) {
  return static_cast<const B*>(row)[i];
}

void decode_q4_0(const BlockQ4_0& b, IntBlock* o) {
  o->n = o->sub = QK;
  o->d = fp16_to_f32(b.d);
  for (int j = 0; j < QK / 2; ++j) {
    o->q[j] = static_cast<int8_t>((b.qs[j] & 0xF) - 8);
    o->q[j + 16] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
  }
}

void decode_q4_1(const BlockQ4_1& b, IntBlock* o) {
  o->n = o->sub = QK;
  o->d = fp16_to_f32(b.d);
  o->dmin = -fp16_to_f32(b.m);  // x = d*q + m  ==  d*q - (-m)*1
  o->mn[0] = 1;
  for (int j = 0; j < QK / 2; ++j) {
    o->q[j] = static_cast<int8_t>(b.qs[j] & 0xF);
    o->q[j + 16] = static_cast<int8_t>(b.qs[j] >> 4);
  }
}

void decode_q5_0(const BlockQ5_0& b, IntBlock* o) {
  o->n = o->sub = QK;
  o->d = fp16_to_f32(b.d);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < QK / 2; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
    o->q[j] = static_cast<int8_t>(((b.qs[j] & 0xF) | h0) - 16);
    o->q[j + 16] = static_cast<int8_t>(((b.qs[j] >> 4) | h1) - 16);
  }
}

void decode_q5_1(const BlockQ5_1& b, IntBlock* o) {
  o->n = o->sub = QK;
  o->d = fp16_to_f32(b.d);
  o->dmin = -fp16_to_f32(b.m);
  o->mn[0] = 1;
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < QK / 2; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
    o->q[j] = static_cast<int8_t>((b.qs[j] & 0xF) | h0);
    o->q[j + 16] = static_cast<int8_t>((b.qs[j] >> 4) | h1);
  }
}

void decode_q8_0(const BlockQ8_0& b, IntBlock* o) {
  o->n = o->sub = QK;
  o->d = fp16_to_f32(b.d);
  std::memcpy(o->q, b.qs, QK);
}

void decode_iq4_nl(const BlockIQ4_NL& b, IntBlock* o) {
  o->n = o->sub = QK;
  o->d = fp16_to_f32(b.d);
  for (int j = 0; j < QK / 2; ++j) {
    o->q[j] = kIQ4NLValues[b.qs[j] & 0xF];
    o->q[j + 16] = kIQ4NLValues[b.qs[j] >> 4];
  }
}

void decode_q2_k(const BlockQ2_K& b, IntBlock* o) {
  o->n = QK_K;
  o->sub = 16;
  o->d = fp16_to_f32(b.d);
  o->dmin = fp16_to_f32(b.dmin);
  for (int j = 0; j < 16; ++j) {
    o->sc[j] = b.scales[j] & 0xF;
    o->mn[j] = b.scales[j] >> 4;
  }
  // 128-element halves; within a half, 2-bit plane `shift` of bytes q[0..31] gives two
  // sub-blocks of 16 (bytes 0..15, then 16..31).
  int out = 0;
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = b.qs + 32 * half;
    for (int shift = 0; shift < 8; shift += 2) {
      for (int l = 0; l < 32; ++l) o->q[out++] = static_cast<int8_t>((q[l] >> shift) & 3);
    }
  }
}

void unpack_q3_k_scales(const uint8_t* s, int16_t* sc) {
  uint32_t aux[4];
  std::memcpy(aux, s, 12);
  const uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f, tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & k2) | (((tmp >> 4) & k1) << 4);
  aux[3] = ((aux[1] >> 4) & k2) | (((tmp >> 6) & k1) << 4);
  aux[0] = (aux[0] & k2) | (((tmp >> 0) & k1) << 4);
  aux[1] = (aux[1] & k2) | (((tmp >> 2) & k1) << 4);
  int8_t v[16];
  std::memcpy(v, aux, 16);
  for (int j = 0; j < 16; ++j) sc[j] = static_cast<int16_t>(v[j] - 32);
}

void decode_q3_k(const BlockQ3_K& b, IntBlock* o) {
  o->n = QK_K;
  o->sub = 16;
  o->d = fp16_to_f32(b.d);
  unpack_q3_k_scales(b.scales, o->sc);
  int out = 0;
  uint8_t m = 1;
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = b.qs + 32 * half;
    for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4);
        o->q[out++] = static_cast<int8_t>(v);
      }
    }
  }
}

void decode_q4_k(const BlockQ4_K& b, IntBlock* o) {
  o->n = QK_K;
  o->sub = 32;
  o->d = fp16_to_f32(b.d);
  o->dmin = fp16_to_f32(b.dmin);
  for (int j = 0; j < 8; ++j) scale_min_k4(j, b.scales, &o->sc[j], &o->mn[j]);
  for (int c = 0; c < 4; ++c) {  // 64-element chunks: low nibbles, then high nibbles
    const uint8_t* q = b.qs + 32 * c;
    for (int l = 0; l < 32; ++l) o->q[64 * c + l] = static_cast<int8_t>(q[l] & 0xF);
    for (int l = 0; l < 32; ++l) o->q[64 * c + 32 + l] = static_cast<int8_t>(q[l] >> 4);
  }
}

void decode_q5_k(const BlockQ5_K& b, IntBlock* o) {
  o->n = QK_K;
  o->sub = 32;
  o->d = fp16_to_f32(b.d);
  o->dmin = fp16_to_f32(b.dmin);
  for (int j = 0; j < 8; ++j) scale_min_k4(j, b.scales, &o->sc[j], &o->mn[j]);
  for (int c = 0; c < 4; ++c) {
    const uint8_t* q = b.qs + 32 * c;
    const uint8_t u1 = static_cast<uint8_t>(1 << (2 * c)), u2 = static_cast<uint8_t>(2 << (2 * c));
    for (int l = 0; l < 32; ++l)
      o->q[64 * c + l] = static_cast<int8_t>((q[l] & 0xF) + ((b.qh[l] & u1) ? 16 : 0));
    for (int l = 0; l < 32; ++l)
      o->q[64 * c + 32 + l] = static_cast<int8_t>((q[l] >> 4) + ((b.qh[l] & u2) ? 16 : 0));
  }
}

void decode_q6_k(const BlockQ6_K& b, IntBlock* o) {
  o->n = QK_K;
  o->sub = 16;
  o->d = fp16_to_f32(b.d);
  for (int j = 0; j < 16; ++j) o->sc[j] = b.scales[j];
  for (int h = 0; h < 2; ++h) {  // 128-element halves
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int8_t* y = o->q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      y[l] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
      y[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      y[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      y[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

// Ternary digit n (0 = most significant) of a byte that stores 5 (or 4) trits scaled so that
// multiplying by 3^n and taking the top of (q * 3) >> 8 extracts it.
int trit(uint8_t packed, int n) {
  static constexpr uint8_t kPow3[6] = {1, 3, 9, 27, 81, 243};
  const uint8_t q = static_cast<uint8_t>(packed * kPow3[n]);
  return ((static_cast<uint16_t>(q) * 3) >> 8) - 1;
}

void decode_tq1_0(const BlockTQ1_0& b, IntBlock* o) {
  o->n = o->sub = QK_K;
  o->d = fp16_to_f32(b.d);
  o->sc[0] = 1;
  int out = 0;
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m) o->q[out++] = static_cast<int8_t>(trit(b.qs[m], n));
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m) o->q[out++] = static_cast<int8_t>(trit(b.qs[32 + m], n));
  for (int n = 0; n < 4; ++n)
    for (int j = 0; j < 4; ++j) o->q[out++] = static_cast<int8_t>(trit(b.qh[j], n));
}

void decode_tq2_0(const BlockTQ2_0& b, IntBlock* o) {
  o->n = o->sub = QK_K;
  o->d = fp16_to_f32(b.d);
  o->sc[0] = 1;
  int out = 0;
  for (int j = 0; j < 64; j += 32)
    for (int l = 0; l < 4; ++l)
      for (int m = 0; m < 32; ++m)
        o->q[out++] = static_cast<int8_t>(((b.qs[j + m] >> (2 * l)) & 3) - 1);
}

}  // namespace

bool decode_block(TensorType type, const void* row, int64_t i, IntBlock* o) {
  o->dmin = 0;
  for (auto& s : o->sc) s = 1;
  for (auto& m : o->mn) m = 0;
  switch (type) {
    case TensorType::Q4_0: decode_q4_0(block<BlockQ4_0>(row, i), o); return true;
    case TensorType::Q4_1: decode_q4_1(block<BlockQ4_1>(row, i), o); return true;
    case TensorType::Q5_0: decode_q5_0(block<BlockQ5_0>(row, i), o); return true;
    case TensorType::Q5_1: decode_q5_1(block<BlockQ5_1>(row, i), o); return true;
    case TensorType::Q8_0: decode_q8_0(block<BlockQ8_0>(row, i), o); return true;
    case TensorType::IQ4_NL: decode_iq4_nl(block<BlockIQ4_NL>(row, i), o); return true;
    case TensorType::Q2_K: decode_q2_k(block<BlockQ2_K>(row, i), o); return true;
    case TensorType::Q3_K: decode_q3_k(block<BlockQ3_K>(row, i), o); return true;
    case TensorType::Q4_K: decode_q4_k(block<BlockQ4_K>(row, i), o); return true;
    case TensorType::Q5_K: decode_q5_k(block<BlockQ5_K>(row, i), o); return true;
    case TensorType::Q6_K: decode_q6_k(block<BlockQ6_K>(row, i), o); return true;
    case TensorType::TQ1_0: decode_tq1_0(block<BlockTQ1_0>(row, i), o); return true;
    case TensorType::TQ2_0: decode_tq2_0(block<BlockTQ2_0>(row, i), o); return true;
    default: return false;
  }
}

bool dequantize_row(TensorType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case TensorType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return true;
    case TensorType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(s[i]);
      return true;
    }
    case TensorType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return true;
    }
    case TensorType::Q8_K: {
      const auto* b = static_cast<const BlockQ8_K*>(src);
      for (int64_t i = 0; i < n / QK_K; ++i)
        for (int j = 0; j < QK_K; ++j) dst[i * QK_K + j] = b[i].d * b[i].qs[j];
      return true;
    }
    case TensorType::Q8_1: {
      const auto* b = static_cast<const BlockQ8_1*>(src);
      for (int64_t i = 0; i < n / QK; ++i)
        for (int j = 0; j < QK; ++j) dst[i * QK + j] = fp16_to_f32(b[i].d) * b[i].qs[j];
      return true;
    }
    default: break;
  }
  const auto info = tensor_type_info(type);
  IntBlock blk;
  for (int64_t i = 0; i < n / info.block_size; ++i) {
    if (!decode_block(type, src, i, &blk)) return false;
    float* y = dst + i * blk.n;
    for (int j = 0; j < blk.n; ++j) {
      const int s = j / blk.sub;
      y[j] = (blk.d * blk.sc[s]) * blk.q[j] - (blk.dmin * blk.mn[s]);
    }
  }
  return true;
}

}  // namespace nibble::kernels::ref
