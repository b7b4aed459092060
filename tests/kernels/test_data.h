// Reproducible test data for the kernel tests: N(0, 1) floats and matrices quantized by the
// scalar reference.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/ref/ref.h"

namespace nibble::kernels {

inline std::vector<float> gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// `rows` rows of `k` floats quantized to `t` by the reference, rows packed back to back
// (GGUF layout), 64 bytes of slack after the last.
inline std::vector<uint8_t> quantize_matrix(TensorType t, const std::vector<float>& x,
                                            int64_t rows, int64_t k) {
  const auto info = tensor_type_info(t);
  const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  std::vector<uint8_t> out(row_bytes * rows + 64);
  for (int64_t r = 0; r < rows; ++r)
    EXPECT_TRUE(ref::quantize_row(t, x.data() + r * k, out.data() + r * row_bytes, k));
  return out;
}

}  // namespace nibble::kernels
