// GGUF / ggml tensor type ids with their block geometry: the one table both the GGUF reader
// (validation: block multiples, byte sizes) and the kernels (formats, dispatch) agree on.
// Header-only, no dependencies, so the gguf layer can use it without linking the kernels.
//
// Block size = elements per block; type size = bytes per block. Ids are the values GGUF files
// store; holes are ids ggml retired (Q4_2, Q4_3, the Q4_0_4_4 family, IQ4_NL_4_x) and are
// rejected as unknown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nibble {

enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

struct TensorTypeInfo {
  std::string_view name;  // as GGUF / llama.cpp spell it, e.g. "Q4_K"
  uint32_t block_size;    // elements per block (1 for plain scalar types)
  uint32_t type_size;     // bytes per block
  bool known;             // false for retired / unassigned ids
};

inline constexpr uint32_t kMaxTensorTypeId = 39;

// Indexed by id; unknown ids have known == false.
constexpr TensorTypeInfo tensor_type_info(uint32_t id) {
  constexpr uint32_t K = 256;  // QK_K, the super-block of the k-quants, IQ and TQ formats
  switch (id) {
    case 0: return {"F32", 1, 4, true};
    case 1: return {"F16", 1, 2, true};
    case 2: return {"Q4_0", 32, 18, true};
    case 3: return {"Q4_1", 32, 20, true};
    case 6: return {"Q5_0", 32, 22, true};
    case 7: return {"Q5_1", 32, 24, true};
    case 8: return {"Q8_0", 32, 34, true};
    case 9: return {"Q8_1", 32, 36, true};
    case 10: return {"Q2_K", K, 84, true};
    case 11: return {"Q3_K", K, 110, true};
    case 12: return {"Q4_K", K, 144, true};
    case 13: return {"Q5_K", K, 176, true};
    case 14: return {"Q6_K", K, 210, true};
    case 15: return {"Q8_K", K, 292, true};
    case 16: return {"IQ2_XXS", K, 66, true};
    case 17: return {"IQ2_XS", K, 74, true};
    case 18: return {"IQ3_XXS", K, 98, true};
    case 19: return {"IQ1_S", K, 50, true};
    case 20: return {"IQ4_NL", 32, 18, true};
    case 21: return {"IQ3_S", K, 110, true};
    case 22: return {"IQ2_S", K, 82, true};
    case 23: return {"IQ4_XS", K, 136, true};
    case 24: return {"I8", 1, 1, true};
    case 25: return {"I16", 1, 2, true};
    case 26: return {"I32", 1, 4, true};
    case 27: return {"I64", 1, 8, true};
    case 28: return {"F64", 1, 8, true};
    case 29: return {"IQ1_M", K, 56, true};
    case 30: return {"BF16", 1, 2, true};
    case 34: return {"TQ1_0", K, 54, true};
    case 35: return {"TQ2_0", K, 66, true};
    case 39: return {"MXFP4", 32, 17, true};
    default: return {"unknown", 0, 0, false};
  }
}

constexpr TensorTypeInfo tensor_type_info(TensorType t) {
  return tensor_type_info(static_cast<uint32_t>(t));
}

constexpr std::string_view tensor_type_name(TensorType t) { return tensor_type_info(t).name; }

}  // namespace nibble
