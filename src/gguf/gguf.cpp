// GGUF reader. Layout (v2/v3, little-endian):
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x   { string key | u32 type | value }
//   n_tensors x { string name | u32 n_dims | i64 ne[n_dims] | u32 type | u64 offset }
//   padding to general.alignment (default 32) | tensor data (each offset aligned)
// where string = u64 length + bytes, array value = u32 element type + u64 count + elements.
//
// Parsing goes through a bounds-checked Cursor: every count is compared with the bytes left
// before anything is reserved, and every offset computation is overflow-checked, so a hostile
// file can neither read out of bounds nor make us allocate more than a small multiple of its
// own size.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <unordered_map>

#include "gguf/gguf.h"
#include "gguf/reader_detail.h"
#include "runtime/mapped_file.h"
#include "runtime/overflow.h"

namespace nibble::gguf {

using detail::scalar_size;

struct File::Impl {
  std::string path;
  uint32_t version = 0;
  uint64_t alignment = detail::kDefaultAlignment;
  uint64_t data_offset = 0;
  uint64_t size = 0;
  const uint8_t* base = nullptr;
  // Exactly one owner of the bytes: a mapping (open) or an aligned heap copy (from_bytes).
  MappedFile map;
  struct AlignedDelete {
    void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<uint8_t[], AlignedDelete> copy;

  std::vector<KeyValue> metadata;
  std::unordered_map<std::string_view, size_t> key_index;
  std::vector<TensorInfo> tensors;
  std::unordered_map<std::string_view, size_t> tensor_index;
};

namespace {

// Bounds-checked little-endian reader over [base, base + size).
class Cursor {
 public:
  Cursor(const uint8_t* base, uint64_t size) : base_(base), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

  Status need(uint64_t n, std::string_view what) const {
    if (n > left())
      return Error(ErrorCode::truncated,
                   fmt::format("file ends at byte {} while reading {} at offset {} ({} bytes "
                               "needed, {} left)",
                               size_, what, pos_, n, left()));
    return ok_status();
  }
  template <typename T>
  Result<T> read(std::string_view what) {
    NIBBLE_TRY(need(sizeof(T), what));
    T v = 0;
    for (size_t k = 0; k < sizeof(T); ++k)
      v |= static_cast<T>(static_cast<T>(base_[pos_ + k]) << (8 * k));
    pos_ += sizeof(T);
    return v;
  }
  // u64 length + bytes. `ctx` names what the string belongs to.
  Result<std::string_view> read_string(std::string_view what) {
    uint64_t at = pos_;
    NIBBLE_ASSIGN_OR_RETURN(uint64_t len, read<uint64_t>(what));
    if (len > left())
      return Error(ErrorCode::string_out_of_bounds,
                   fmt::format("{} at offset {}: string length {} runs past the end of the file "
                               "({} bytes left)",
                               what, at, len, left()));
    std::string_view s(reinterpret_cast<const char*>(base_ + pos_), len);
    pos_ += len;
    return s;
  }
  const uint8_t* here() const { return base_ + pos_; }
  void skip(uint64_t n) { pos_ += n; }  // caller checked n <= left()

 private:
  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

using nibble::add_overflow;
using nibble::mul_overflow;

// Reads a value of type `type` (already read) for key `key`; `depth` = enclosing arrays.
Result<Value> read_value(Cursor& c, uint32_t type, std::string_view key, int depth);

Result<Value> read_array(Cursor& c, std::string_view key, int depth) {
  if (depth > detail::kMaxArrayDepth)
    return Error(ErrorCode::corrupt_metadata,
                 fmt::format("metadata '{}' at offset {}: arrays nested deeper than {}", key,
                             c.pos(), detail::kMaxArrayDepth));
  uint64_t at = c.pos();
  NIBBLE_ASSIGN_OR_RETURN(uint32_t etype, c.read<uint32_t>("array element type"));
  if (!detail::is_known_value_type(etype))
    return Error(
        ErrorCode::unknown_value_type,
        fmt::format("metadata '{}' at offset {}: unknown array element type {}", key, at, etype));
  NIBBLE_ASSIGN_OR_RETURN(uint64_t count, c.read<uint64_t>("array length"));
  const auto elem = static_cast<ValueType>(etype);
  size_t es = scalar_size(elem);
  // Smallest encoding of one element: a scalar's size, an empty string (8), an empty array (12).
  uint64_t min_elem = es ? es : (elem == ValueType::string ? 8 : 12);
  if (count > c.left() / min_elem)
    return Error(ErrorCode::array_out_of_bounds,
                 fmt::format("metadata '{}' at offset {}: array of {} x {} runs past the end of "
                             "the file ({} bytes left)",
                             key, at, count, value_type_name(elem), c.left()));
  if (es) {
    Value v = detail::ValueAccess::scalar_array(elem, count, c.here());
    c.skip(count * es);
    return v;
  }
  auto items = std::make_shared<std::vector<Value>>();
  items->reserve(count);  // bounded by the check above
  for (uint64_t i = 0; i < count; ++i) {
    NIBBLE_ASSIGN_OR_RETURN(Value e, read_value(c, etype, key, depth));
    items->push_back(std::move(e));
  }
  return detail::ValueAccess::item_array(elem, std::move(items));
}

Result<Value> read_value(Cursor& c, uint32_t type, std::string_view key, int depth) {
  if (!detail::is_known_value_type(type))
    return Error(
        ErrorCode::unknown_value_type,
        fmt::format("metadata '{}' at offset {}: unknown value type {}", key, c.pos(), type));
  auto t = static_cast<ValueType>(type);
  if (t == ValueType::array) return read_array(c, key, depth + 1);
  if (t == ValueType::string) {
    NIBBLE_ASSIGN_OR_RETURN(std::string_view s,
                            c.read_string(fmt::format("metadata '{}' value", key)));
    return detail::ValueAccess::string(s);
  }
  size_t n = scalar_size(t);
  NIBBLE_TRY(c.need(n, fmt::format("metadata '{}' value", key)));
  Value v = detail::decode_scalar(t, c.here());
  c.skip(n);
  return v;
}

Status parse_metadata(Cursor& c, File::Impl& f, uint64_t n_kv) {
  f.metadata.reserve(n_kv);  // n_kv was bounded by the file size
  for (uint64_t i = 0; i < n_kv; ++i) {
    uint64_t at = c.pos();
    NIBBLE_ASSIGN_OR_RETURN(std::string_view key,
                            c.read_string(fmt::format("metadata key #{}", i)));
    NIBBLE_ASSIGN_OR_RETURN(uint32_t type,
                            c.read<uint32_t>(fmt::format("type of metadata '{}'", key)));
    NIBBLE_ASSIGN_OR_RETURN(Value v, read_value(c, type, key, 0));
    if (!f.key_index.emplace(key, f.metadata.size()).second)
      return Error(ErrorCode::duplicate_key,
                   fmt::format("metadata key '{}' at offset {} appears twice", key, at));
    f.metadata.push_back({key, std::move(v)});
  }
  return ok_status();
}

Status parse_alignment(File::Impl& f) {
  auto it = f.key_index.find("general.alignment");
  if (it == f.key_index.end()) return ok_status();
  const Value& v = f.metadata[it->second].value;
  if (v.type() != ValueType::u32)
    return Error(ErrorCode::bad_alignment,
                 fmt::format("metadata 'general.alignment' must be u32, found {}",
                             value_type_name(v.type())));
  uint64_t a = *v.as_uint();
  if (a == 0 || (a & (a - 1)) != 0)
    return Error(ErrorCode::bad_alignment,
                 fmt::format("metadata 'general.alignment' = {} is not a power of two", a));
  f.alignment = a;
  return ok_status();
}

Status parse_tensor_info(Cursor& c, File::Impl& f, uint64_t i) {
  uint64_t at = c.pos();
  TensorInfo t{};
  NIBBLE_ASSIGN_OR_RETURN(t.name, c.read_string(fmt::format("name of tensor #{}", i)));
  NIBBLE_ASSIGN_OR_RETURN(t.n_dims, c.read<uint32_t>(fmt::format("tensor '{}' n_dims", t.name)));
  if (t.n_dims > detail::kMaxDims)
    return Error(ErrorCode::too_many_dims,
                 fmt::format("tensor '{}' at offset {} has {} dimensions (at most {})", t.name, at,
                             t.n_dims, detail::kMaxDims));
  if (t.n_dims == 0)
    return Error(ErrorCode::bad_dimension,
                 fmt::format("tensor '{}' at offset {} has no dimensions", t.name, at));
  t.ne = {1, 1, 1, 1};
  uint64_t n = 1;
  for (uint32_t d = 0; d < t.n_dims; ++d) {
    NIBBLE_ASSIGN_OR_RETURN(uint64_t raw,
                            c.read<uint64_t>(fmt::format("tensor '{}' dimension {}", t.name, d)));
    auto ne = static_cast<int64_t>(raw);
    if (ne <= 0)
      return Error(ErrorCode::bad_dimension,
                   fmt::format("tensor '{}' dimension {} is {} (must be positive)", t.name, d, ne));
    t.ne[d] = raw;
    if (mul_overflow(n, raw, &n) || n > static_cast<uint64_t>(INT64_MAX))
      return Error(ErrorCode::element_count_overflow,
                   fmt::format("tensor '{}': element count overflows at dimension {}", t.name, d));
  }
  t.n_elements = n;
  NIBBLE_ASSIGN_OR_RETURN(uint32_t type, c.read<uint32_t>(fmt::format("tensor '{}' type", t.name)));
  TensorTypeInfo ti = tensor_type_info(type);
  if (type > kMaxTensorTypeId || !ti.known)
    return Error(ErrorCode::unknown_tensor_type,
                 fmt::format("tensor '{}' has unknown type id {}", t.name, type));
  t.type = static_cast<TensorType>(type);
  if (t.ne[0] % ti.block_size != 0)
    return Error(ErrorCode::bad_block_multiple,
                 fmt::format("tensor '{}' ({}): first dimension {} is not a multiple of the "
                             "block size {}",
                             t.name, ti.name, t.ne[0], ti.block_size));
  if (mul_overflow(n / ti.block_size, ti.type_size, &t.n_bytes))
    return Error(ErrorCode::element_count_overflow,
                 fmt::format("tensor '{}': byte size overflows", t.name));
  NIBBLE_ASSIGN_OR_RETURN(t.offset, c.read<uint64_t>(fmt::format("tensor '{}' offset", t.name)));
  if (!f.tensor_index.emplace(t.name, f.tensors.size()).second)
    return Error(ErrorCode::duplicate_tensor,
                 fmt::format("tensor name '{}' at offset {} appears twice", t.name, at));
  f.tensors.push_back(t);
  return ok_status();
}

// Places every tensor inside the data section: aligned, inside the file, no overlaps.
Status place_tensors(File::Impl& f) {
  for (TensorInfo& t : f.tensors) {
    if (t.offset % f.alignment != 0)
      return Error(ErrorCode::misaligned_tensor,
                   fmt::format("tensor '{}': offset {} is not a multiple of the alignment {}",
                               t.name, t.offset, f.alignment));
    uint64_t start = 0, end = 0;
    if (add_overflow(f.data_offset, t.offset, &start) || add_overflow(start, t.n_bytes, &end) ||
        start > f.size)
      return Error(ErrorCode::tensor_out_of_bounds,
                   fmt::format("tensor '{}': data at offset {} (+{} bytes) lies outside the file "
                               "({} bytes, data section at {})",
                               t.name, t.offset, t.n_bytes, f.size, f.data_offset));
    if (end > f.size)
      return Error(ErrorCode::truncated,
                   fmt::format("tensor '{}': data ends at byte {} but the file ends at byte {}",
                               t.name, end, f.size));
    t.data = f.base + start;
  }
  std::vector<const TensorInfo*> order;
  order.reserve(f.tensors.size());
  for (const TensorInfo& t : f.tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo* a = order[k - 1];
    const TensorInfo* b = order[k];
    if (a->offset + a->n_bytes > b->offset)
      return Error(ErrorCode::overlapping_tensors,
                   fmt::format("tensors '{}' (offset {}, {} bytes) and '{}' (offset {}) overlap",
                               a->name, a->offset, a->n_bytes, b->name, b->offset));
  }
  return ok_status();
}

Status parse(File::Impl& f) {
  Cursor c(f.base, f.size);
  if (f.size < 4)
    return Error(ErrorCode::truncated,
                 fmt::format("file is {} bytes, too small for a GGUF header", f.size));
  if (std::memcmp(f.base, "GGUF", 4) != 0)
    return Error(ErrorCode::not_gguf, "not a GGUF file: bytes 0-3 are not the magic 'GGUF'");
  c.skip(4);
  NIBBLE_ASSIGN_OR_RETURN(f.version, c.read<uint32_t>("version"));
  if (f.version != 2 && f.version != 3) {
    bool big_endian = f.version == 0x02000000u || f.version == 0x03000000u;
    return Error(ErrorCode::unsupported_version,
                 fmt::format("GGUF version {} at offset 4 is not supported (2 and 3, "
                             "little-endian, are){}",
                             f.version, big_endian ? "; this looks like a big-endian file" : ""));
  }
  NIBBLE_ASSIGN_OR_RETURN(uint64_t n_tensors, c.read<uint64_t>("tensor count"));
  NIBBLE_ASSIGN_OR_RETURN(uint64_t n_kv, c.read<uint64_t>("metadata count"));
  // Smallest encodings: a key-value is 8 (empty key) + 4 (type) + 1 (u8); a tensor info is
  // 8 (empty name) + 4 + 8 (one dim) + 4 + 8 = 32 bytes.
  if (n_kv > c.left() / 13)
    return Error(ErrorCode::too_many_items,
                 fmt::format("metadata count {} at offset 16 exceeds what the {} bytes of the "
                             "file could hold",
                             n_kv, f.size));
  if (n_tensors > c.left() / 32)
    return Error(ErrorCode::too_many_items,
                 fmt::format("tensor count {} at offset 8 exceeds what the {} bytes of the file "
                             "could hold",
                             n_tensors, f.size));
  NIBBLE_TRY(parse_metadata(c, f, n_kv));
  NIBBLE_TRY(parse_alignment(f));
  if (n_tensors > c.left() / 32)
    return Error(ErrorCode::too_many_items,
                 fmt::format("tensor count {} exceeds what the {} bytes left after the metadata "
                             "(offset {}) could hold",
                             n_tensors, c.left(), c.pos()));
  f.tensors.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) NIBBLE_TRY(parse_tensor_info(c, f, i));
  // The data section starts at the next multiple of the alignment. Files without tensors
  // (vocab-only) are often not padded, so there it is clamped to the end of the file.
  uint64_t pad = (f.alignment - c.pos() % f.alignment) % f.alignment;
  f.data_offset = c.pos() + pad;
  if (f.data_offset > f.size) {
    if (!f.tensors.empty())
      return Error(ErrorCode::truncated,
                   fmt::format("file ends at byte {} before its tensor data section (byte {})",
                               f.size, f.data_offset));
    f.data_offset = f.size;
  }
  return place_tensors(f);
}

Error with_path(Error e, const std::string& path) {
  if (path.empty()) return e;
  return Error(e.code(), fmt::format("{}: {}", path, e.message()));
}

}  // namespace

File::File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

Result<File> File::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  NIBBLE_ASSIGN_OR_RETURN(impl->map, MappedFile::open(path));
  impl->size = impl->map.size();
  impl->base = impl->map.data();
  if (auto st2 = parse(*impl); !st2.ok()) return with_path(std::move(st2).error(), path);
  return File(std::move(impl));
}

Result<File> File::from_bytes(std::span<const uint8_t> bytes) {
  auto impl = std::make_unique<Impl>();
  impl->size = bytes.size();
  // 64-byte aligned copy, so tensor data is as aligned as it would be in a mapping.
  impl->copy.reset(static_cast<uint8_t*>(
      ::operator new[](std::max<size_t>(bytes.size(), 1), std::align_val_t(64))));
  if (!bytes.empty()) std::memcpy(impl->copy.get(), bytes.data(), bytes.size());
  impl->base = impl->copy.get();
  NIBBLE_TRY(parse(*impl));
  return File(std::move(impl));
}

const std::string& File::path() const { return impl_->path; }
uint32_t File::version() const { return impl_->version; }
uint64_t File::alignment() const { return impl_->alignment; }
uint64_t File::data_offset() const { return impl_->data_offset; }
uint64_t File::file_size() const { return impl_->size; }
const uint8_t* File::base() const { return impl_->base; }
const std::vector<KeyValue>& File::metadata() const { return impl_->metadata; }
const std::vector<TensorInfo>& File::tensors() const { return impl_->tensors; }

const Value* File::find(std::string_view key) const {
  auto it = impl_->key_index.find(key);
  return it == impl_->key_index.end() ? nullptr : &impl_->metadata[it->second].value;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = impl_->tensor_index.find(name);
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

namespace {
Error missing(const File& f, std::string_view key) {
  return Error(ErrorCode::missing_key,
               f.path().empty() ? fmt::format("metadata key '{}' not found", key)
                                : fmt::format("{}: metadata key '{}' not found", f.path(), key));
}
}  // namespace

#define NIBBLE_GGUF_GETTER_(Ret, name, method)         \
  Result<Ret> File::name(std::string_view key) const { \
    const Value* v = find(key);                        \
    if (!v) return missing(*this, key);                \
    return v->method(key);                             \
  }
NIBBLE_GGUF_GETTER_(uint64_t, get_uint, as_uint)
NIBBLE_GGUF_GETTER_(int64_t, get_int, as_int)
NIBBLE_GGUF_GETTER_(double, get_float, as_float)
NIBBLE_GGUF_GETTER_(bool, get_bool, as_bool)
NIBBLE_GGUF_GETTER_(std::string_view, get_string, as_string)
NIBBLE_GGUF_GETTER_(std::vector<std::string_view>, get_string_array, as_string_array)
NIBBLE_GGUF_GETTER_(std::vector<float>, get_f32_array, as_f32_array)
NIBBLE_GGUF_GETTER_(std::vector<int32_t>, get_i32_array, as_i32_array)
#undef NIBBLE_GGUF_GETTER_

#define NIBBLE_GGUF_GETTER_OR_(Ret, name, method)                    \
  Result<Ret> File::name(std::string_view key, Ret fallback) const { \
    const Value* v = find(key);                                      \
    if (!v) return fallback;                                         \
    return v->method(key);                                           \
  }
NIBBLE_GGUF_GETTER_OR_(uint64_t, get_uint_or, as_uint)
NIBBLE_GGUF_GETTER_OR_(double, get_float_or, as_float)
NIBBLE_GGUF_GETTER_OR_(bool, get_bool_or, as_bool)
NIBBLE_GGUF_GETTER_OR_(std::string_view, get_string_or, as_string)
#undef NIBBLE_GGUF_GETTER_OR_

void File::release(const void* data, uint64_t n) const { impl_->map.drop_pages(data, n); }

}  // namespace nibble::gguf
