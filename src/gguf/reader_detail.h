// Internals shared by the GGUF reader, the Value accessors and the writer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/gguf.h"

namespace nibble::gguf::detail {

// Deepest nesting of arrays accepted (an array of arrays is depth 2). Real files use depth 1;
// the bound keeps hostile files from recursing the parser off the stack.
inline constexpr int kMaxArrayDepth = 8;
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;

// Bytes of one scalar element; 0 for string/array.
size_t scalar_size(ValueType t);
bool is_signed_int(ValueType t);
bool is_unsigned_int(ValueType t);
// Decodes one little-endian scalar (scalar_size(t) bytes at p).
Value decode_scalar(ValueType t, const uint8_t* p);

inline bool is_known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::f64); }

}  // namespace nibble::gguf::detail
