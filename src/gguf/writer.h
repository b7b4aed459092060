// GGUF writer: builds a GGUF v3 (or v2) file in memory or on disk with correct alignment.
// Used by the quantize tool, synthetic model generators and tests (including deliberately
// broken files: see the raw hooks below).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "nibble/result.h"

namespace nibble::gguf {

class Writer {
 public:
  Writer();
  // Metadata (kept in insertion order).
  void set_u8(std::string key, uint8_t v);
  void set_i8(std::string key, int8_t v);
  void set_u16(std::string key, uint16_t v);
  void set_i16(std::string key, int16_t v);
  void set_u32(std::string key, uint32_t v);
  void set_i32(std::string key, int32_t v);
  void set_u64(std::string key, uint64_t v);
  void set_i64(std::string key, int64_t v);
  void set_f32(std::string key, float v);
  void set_f64(std::string key, double v);
  void set_bool(std::string key, bool v);
  void set_string(std::string key, std::string v);
  void set_string_array(std::string key, std::vector<std::string> v);
  void set_f32_array(std::string key, std::vector<float> v);
  void set_i32_array(std::string key, std::vector<int32_t> v);
  // Copy a value read from another file (any type, nested arrays included).
  void set_value(std::string key, const Value& v);

  // Tensors: `data` must hold exactly the type's byte size for `ne` (copied).
  Status add_tensor(std::string name, TensorType type, std::vector<uint64_t> ne,
                    std::span<const uint8_t> data);

  void set_version(uint32_t v);          // default 3
  void set_alignment(uint32_t a);        // default 32, written as general.alignment when != 32

  std::vector<uint8_t> to_bytes() const;
  Status write_file(const std::string& path) const;

  struct Impl;
  ~Writer();

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nibble::gguf
