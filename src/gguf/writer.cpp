// GGUF writer. Metadata is encoded when set (so set_value may take views into a File that
// is closed later); tensors are copied. to_bytes lays the file out as the reader expects:
// header, key-values in insertion order, tensor infos, padding to the alignment, then each
// tensor's data padded to the alignment.
#include "gguf/writer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "gguf/reader_detail.h"
#include "runtime/overflow.h"

namespace nibble::gguf {

namespace {

struct Entry {
  std::string key;
  uint32_t type;
  std::vector<uint8_t> payload;
  bool raw;  // added by add_raw_kv: never replaced
};

struct TensorEntry {
  std::string name;
  uint32_t type;
  std::vector<uint64_t> ne;
  std::vector<uint8_t> data;
  uint64_t offset;  // raw entries only
  int64_t n_dims;   // raw entries only
  bool raw;
};

void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int k = 0; k < 4; ++k) b.push_back(static_cast<uint8_t>(v >> (8 * k)));
}
void put_u64(std::vector<uint8_t>& b, uint64_t v) {
  for (int k = 0; k < 8; ++k) b.push_back(static_cast<uint8_t>(v >> (8 * k)));
}
void put_string(std::vector<uint8_t>& b, std::string_view s) {
  put_u64(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}
template <typename T>
std::vector<uint8_t> scalar_bytes(T v) {
  std::vector<uint8_t> b(sizeof(T));
  std::memcpy(b.data(), &v, sizeof(T));  // nibble targets little-endian hosts only
  return b;
}

// Encodes the payload of a Value (everything after its type id).
void encode_value(std::vector<uint8_t>& b, const Value& v) {
  switch (v.type()) {
    case ValueType::string:
      put_string(b, detail::ValueAccess::str(v));
      return;
    case ValueType::array: {
      put_u32(b, static_cast<uint32_t>(v.array_type()));
      size_t es = detail::scalar_size(v.array_type());
      if (es) {
        const uint8_t* data = detail::ValueAccess::array_data(v);
        uint64_t n = data ? v.array_size() : 0;
        put_u64(b, n);
        if (n) b.insert(b.end(), data, data + n * es);
      } else {
        // Only the elements that exist (a hand-built Value may claim more than it holds).
        const std::vector<Value>* items = detail::ValueAccess::items(v);
        uint64_t n = items ? std::min<uint64_t>(v.array_size(), items->size()) : 0;
        put_u64(b, n);
        for (uint64_t i = 0; i < n; ++i) encode_value(b, (*items)[i]);
      }
      return;
    }
    default: {
      size_t n = detail::scalar_size(v.type());
      uint64_t raw = detail::ValueAccess::bits(v);
      if (v.type() == ValueType::f32) {
        float f = static_cast<float>(detail::ValueAccess::real(v));
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        raw = bits;
      } else if (v.type() == ValueType::f64) {
        double d = detail::ValueAccess::real(v);
        std::memcpy(&raw, &d, 8);
      }
      for (size_t k = 0; k < n; ++k) b.push_back(static_cast<uint8_t>(raw >> (8 * k)));
    }
  }
}

}  // namespace

struct Writer::Impl {
  uint32_t version = 3;
  uint32_t alignment = detail::kDefaultAlignment;
  int64_t raw_n_tensors = -1, raw_n_kv = -1;
  std::vector<Entry> kv;
  std::vector<TensorEntry> tensors;
  std::unordered_set<std::string> tensor_names;

  void set(std::string key, ValueType type, std::vector<uint8_t> payload) {
    // general.alignment set as a u32 also drives the layout (e.g. metadata copied by set_value).
    if (key == "general.alignment" && type == ValueType::u32 && payload.size() == 4) {
      uint32_t a;
      std::memcpy(&a, payload.data(), 4);
      if (a != 0 && (a & (a - 1)) == 0) alignment = a;
    }
    for (Entry& e : kv) {
      if (!e.raw && e.key == key) {
        e.type = static_cast<uint32_t>(type);
        e.payload = std::move(payload);
        return;
      }
    }
    kv.push_back({std::move(key), static_cast<uint32_t>(type), std::move(payload), false});
  }
};

Writer::Writer() : impl_(std::make_unique<Impl>()) {}
Writer::~Writer() = default;
Writer::Writer(const Writer& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
Writer& Writer::operator=(const Writer& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(*o.impl_);
  return *this;
}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;

void Writer::set_u8(std::string key, uint8_t v) {
  impl_->set(std::move(key), ValueType::u8, scalar_bytes(v));
}
void Writer::set_i8(std::string key, int8_t v) {
  impl_->set(std::move(key), ValueType::i8, scalar_bytes(v));
}
void Writer::set_u16(std::string key, uint16_t v) {
  impl_->set(std::move(key), ValueType::u16, scalar_bytes(v));
}
void Writer::set_i16(std::string key, int16_t v) {
  impl_->set(std::move(key), ValueType::i16, scalar_bytes(v));
}
void Writer::set_u32(std::string key, uint32_t v) {
  impl_->set(std::move(key), ValueType::u32, scalar_bytes(v));
}
void Writer::set_i32(std::string key, int32_t v) {
  impl_->set(std::move(key), ValueType::i32, scalar_bytes(v));
}
void Writer::set_u64(std::string key, uint64_t v) {
  impl_->set(std::move(key), ValueType::u64, scalar_bytes(v));
}
void Writer::set_i64(std::string key, int64_t v) {
  impl_->set(std::move(key), ValueType::i64, scalar_bytes(v));
}
void Writer::set_f32(std::string key, float v) {
  impl_->set(std::move(key), ValueType::f32, scalar_bytes(v));
}
void Writer::set_f64(std::string key, double v) {
  impl_->set(std::move(key), ValueType::f64, scalar_bytes(v));
}
void Writer::set_bool(std::string key, bool v) {
  impl_->set(std::move(key), ValueType::boolean, {static_cast<uint8_t>(v ? 1 : 0)});
}
void Writer::set_string(std::string key, std::string v) {
  std::vector<uint8_t> b;
  put_string(b, v);
  impl_->set(std::move(key), ValueType::string, std::move(b));
}
void Writer::set_string_array(std::string key, std::vector<std::string> v) {
  std::vector<uint8_t> b;
  put_u32(b, static_cast<uint32_t>(ValueType::string));
  put_u64(b, v.size());
  for (auto& s : v) put_string(b, s);
  impl_->set(std::move(key), ValueType::array, std::move(b));
}
void Writer::set_f32_array(std::string key, std::vector<float> v) {
  std::vector<uint8_t> b;
  put_u32(b, static_cast<uint32_t>(ValueType::f32));
  put_u64(b, v.size());
  for (float f : v) {
    auto e = scalar_bytes(f);
    b.insert(b.end(), e.begin(), e.end());
  }
  impl_->set(std::move(key), ValueType::array, std::move(b));
}
void Writer::set_i32_array(std::string key, std::vector<int32_t> v) {
  std::vector<uint8_t> b;
  put_u32(b, static_cast<uint32_t>(ValueType::i32));
  put_u64(b, v.size());
  for (int32_t x : v) put_u32(b, static_cast<uint32_t>(x));
  impl_->set(std::move(key), ValueType::array, std::move(b));
}
void Writer::set_value(std::string key, const Value& v) {
  std::vector<uint8_t> b;
  encode_value(b, v);
  impl_->set(std::move(key), v.type(), std::move(b));
}

Status Writer::add_tensor(std::string name, TensorType type, std::vector<uint64_t> ne,
                          std::span<const uint8_t> data) {
  TensorTypeInfo ti = tensor_type_info(type);
  if (!ti.known)
    return Error(ErrorCode::unknown_tensor_type,
                 fmt::format("tensor '{}': unknown type id {}", name, static_cast<uint32_t>(type)));
  if (ne.empty() || ne.size() > detail::kMaxDims)
    return Error(ErrorCode::too_many_dims,
                 fmt::format("tensor '{}': {} dimensions (1 to 4 allowed)", name, ne.size()));
  uint64_t n = 1;
  for (uint64_t d : ne) {
    if (d == 0 || d > static_cast<uint64_t>(INT64_MAX))
      return Error(ErrorCode::bad_dimension, fmt::format("tensor '{}': dimension {}", name, d));
    if (mul_overflow(n, d, &n))
      return Error(ErrorCode::element_count_overflow, fmt::format("tensor '{}'", name));
  }
  if (ne[0] % ti.block_size != 0)
    return Error(ErrorCode::bad_block_multiple,
                 fmt::format("tensor '{}': first dimension {} is not a multiple of {}", name, ne[0],
                             ti.block_size));
  uint64_t bytes = n / ti.block_size * ti.type_size;
  if (data.size() != bytes)
    return Error(ErrorCode::invalid_argument,
                 fmt::format("tensor '{}': {} bytes of data given, {} {} needs {}", name,
                             data.size(), ti.name, fmt::join(ne, "x"), bytes));
  if (!impl_->tensor_names.insert(name).second)
    return Error(ErrorCode::duplicate_tensor, fmt::format("tensor '{}' added twice", name));
  impl_->tensors.push_back({std::move(name), static_cast<uint32_t>(type), std::move(ne),
                            std::vector<uint8_t>(data.begin(), data.end()), 0, -1, false});
  return ok_status();
}

void Writer::set_version(uint32_t v) { impl_->version = v; }
void Writer::set_alignment(uint32_t a) {
  impl_->alignment = a;
  if (a != detail::kDefaultAlignment) set_u32("general.alignment", a);
}

void Writer::add_raw_kv(std::string key, uint32_t type_id, std::vector<uint8_t> payload) {
  impl_->kv.push_back({std::move(key), type_id, std::move(payload), true});
}
void Writer::add_raw_tensor_info(std::string name, uint32_t type_id, std::vector<uint64_t> dims,
                                 uint64_t offset, int64_t n_dims) {
  impl_->tensors.push_back({std::move(name), type_id, std::move(dims), {}, offset, n_dims, true});
}
void Writer::set_raw_counts(int64_t n_tensors, int64_t n_kv) {
  impl_->raw_n_tensors = n_tensors;
  impl_->raw_n_kv = n_kv;
}

std::vector<uint8_t> Writer::to_bytes() const {
  const Impl& w = *impl_;
  // A raw (possibly invalid) alignment still needs a usable layout step.
  const uint64_t align = (w.alignment && (w.alignment & (w.alignment - 1)) == 0) ? w.alignment : 1;
  auto pad_to = [align](uint64_t x) { return (align - x % align) % align; };
  std::vector<uint8_t> b;
  b.insert(b.end(), {'G', 'G', 'U', 'F'});
  put_u32(b, w.version);
  put_u64(b, w.raw_n_tensors >= 0 ? static_cast<uint64_t>(w.raw_n_tensors) : w.tensors.size());
  put_u64(b, w.raw_n_kv >= 0 ? static_cast<uint64_t>(w.raw_n_kv) : w.kv.size());
  for (const Entry& e : w.kv) {
    put_string(b, e.key);
    put_u32(b, e.type);
    b.insert(b.end(), e.payload.begin(), e.payload.end());
  }
  uint64_t offset = 0;
  for (const TensorEntry& t : w.tensors) {
    put_string(b, t.name);
    put_u32(b,
            t.n_dims >= 0 ? static_cast<uint32_t>(t.n_dims) : static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) put_u64(b, d);
    put_u32(b, t.type);
    if (t.raw) {
      put_u64(b, t.offset);
    } else {
      put_u64(b, offset);
      offset += t.data.size() + pad_to(t.data.size());
    }
  }
  bool any_data = false;
  for (const TensorEntry& t : w.tensors) any_data |= !t.raw;
  if (!w.tensors.empty()) b.resize(b.size() + pad_to(b.size()), 0);
  if (any_data) {
    for (const TensorEntry& t : w.tensors) {
      if (t.raw) continue;
      b.insert(b.end(), t.data.begin(), t.data.end());
      b.resize(b.size() + pad_to(t.data.size()), 0);
    }
  }
  return b;
}

Status Writer::write_file(const std::string& path) const {
  std::vector<uint8_t> b = to_bytes();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    return Error(ErrorCode::io_error,
                 fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
  size_t n = b.empty() ? 0 : std::fwrite(b.data(), 1, b.size(), f);
  bool ok = n == b.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return Error(ErrorCode::io_error, fmt::format("{}: write failed", path));
  return ok_status();
}

}  // namespace nibble::gguf
