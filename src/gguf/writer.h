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
  Writer(const Writer&);
  Writer& operator=(const Writer&);
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
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

  void set_version(uint32_t v);    // default 3
  void set_alignment(uint32_t a);  // default 32, written as general.alignment when != 32

  // Raw hooks for building deliberately broken files (tests, fuzz seeds). Nothing is checked.
  // A key-value written verbatim: key, `type_id`, then `payload` (the encoded value). Appended
  // even when the key already exists.
  void add_raw_kv(std::string key, uint32_t type_id, std::vector<uint8_t> payload);
  // A tensor-info entry written verbatim after the regular ones (n_dims = dims.size() unless
  // `n_dims` is given); no data is written for it. `offset` is relative to the data section.
  void add_raw_tensor_info(std::string name, uint32_t type_id, std::vector<uint64_t> dims,
                           uint64_t offset, int64_t n_dims = -1);
  // Header counts written instead of the real ones (-1: real count).
  void set_raw_counts(int64_t n_tensors, int64_t n_kv);

  std::vector<uint8_t> to_bytes() const;
  Status write_file(const std::string& path) const;

  struct Impl;
  ~Writer();

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nibble::gguf
