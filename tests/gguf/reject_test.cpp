// Hostile-file tests: one handcrafted file per way a GGUF file can be broken, each asserting
// its own error code and that the message names the key, tensor or offset.
#include <gtest/gtest.h>

#include <cstring>

#include "gguf/gguf.h"
#include "gguf/writer.h"

namespace nibble::gguf {
namespace {

std::vector<uint8_t> u32le(uint32_t v) {
  std::vector<uint8_t> b(4);
  for (int k = 0; k < 4; ++k) b[k] = static_cast<uint8_t>(v >> (8 * k));
  return b;
}
std::vector<uint8_t> u64le(uint64_t v) {
  std::vector<uint8_t> b(8);
  for (int k = 0; k < 8; ++k) b[k] = static_cast<uint8_t>(v >> (8 * k));
  return b;
}
std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
std::vector<uint8_t> str(std::string_view s) {
  auto b = u64le(s.size());
  b.insert(b.end(), s.begin(), s.end());
  return b;
}
void put_u64_at(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  for (int k = 0; k < 8; ++k) b[at + k] = static_cast<uint8_t>(v >> (8 * k));
}

// A small valid file: a few keys and two F32 tensors.
Writer valid_writer() {
  Writer w;
  w.set_string("general.architecture", "test");
  w.set_u32("test.block_count", 2);
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  std::vector<uint8_t> data(4 * 8, 0);
  EXPECT_TRUE(w.add_tensor("a.weight", TensorType::F32, {8}, data).ok());
  EXPECT_TRUE(w.add_tensor("b.weight", TensorType::F32, {4, 2}, data).ok());
  return w;
}

// Expects `bytes` to be rejected with `code` and a message containing `needle`.
void expect_reject(const std::vector<uint8_t>& bytes, ErrorCode code, std::string_view needle) {
  auto f = File::from_bytes(bytes);
  ASSERT_FALSE(f.ok()) << "accepted a broken file; expected " << error_code_name(code);
  EXPECT_EQ(f.error().code(), code) << f.error().to_string();
  EXPECT_NE(f.error().message().find(needle), std::string::npos)
      << "message does not name '" << needle << "': " << f.error().message();
}

TEST(GgufReject, ValidBaseFileParses) {
  auto f = File::from_bytes(valid_writer().to_bytes());
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->tensors().size(), 2u);
}

TEST(GgufReject, WrongMagic) {
  auto b = valid_writer().to_bytes();
  b[0] = 'X';
  expect_reject(b, ErrorCode::not_gguf, "magic");
}

TEST(GgufReject, UnsupportedVersion) {
  for (uint32_t v : {0u, 1u, 4u, 0x03000000u /* a big-endian v3 file */}) {
    Writer w;
    w.set_version(v);
    expect_reject(w.to_bytes(), ErrorCode::unsupported_version, std::to_string(v));
  }
  Writer be;
  be.set_version(0x03000000u);
  expect_reject(be.to_bytes(), ErrorCode::unsupported_version, "big-endian");
}

TEST(GgufReject, TooManyTensors) {
  Writer w = valid_writer();
  w.set_raw_counts(int64_t{1} << 40, -1);
  expect_reject(w.to_bytes(), ErrorCode::too_many_items, "tensor count");
  // Plausible for the whole file but not for the bytes left after the metadata.
  Writer w2;
  w2.set_string("k", std::string(4000, 'x'));
  w2.set_raw_counts(100, -1);
  expect_reject(w2.to_bytes(), ErrorCode::too_many_items, "tensor count");
}

TEST(GgufReject, TooManyKeys) {
  Writer w = valid_writer();
  w.set_raw_counts(-1, int64_t{1} << 60);
  expect_reject(w.to_bytes(), ErrorCode::too_many_items, "metadata count");
}

TEST(GgufReject, StringPastEnd) {
  Writer w;
  w.add_raw_kv("general.name", 8, u64le(1000));  // 1000-byte string, 0 bytes follow
  expect_reject(w.to_bytes(), ErrorCode::string_out_of_bounds, "general.name");
  // A key whose own length runs past the end.
  auto b = cat({{'G', 'G', 'U', 'F'},
                u32le(3),
                u64le(0),
                u64le(1),
                u64le(~uint64_t{0}),
                std::vector<uint8_t>(8, 'k')});
  expect_reject(b, ErrorCode::string_out_of_bounds, "metadata key #0");
  // A tensor name.
  Writer t;
  t.add_raw_tensor_info(std::string(10, 'n'), 0, {32}, 0);
  auto tb = t.to_bytes();
  put_u64_at(tb, 24, uint64_t{1} << 50);  // name length field of the first tensor info
  expect_reject(tb, ErrorCode::string_out_of_bounds, "name of tensor #0");
}

TEST(GgufReject, ArrayPastEnd) {
  Writer w;
  w.add_raw_kv("test.f32s", 9, cat({u32le(6), u64le(1u << 20)}));  // 1M floats, none present
  expect_reject(w.to_bytes(), ErrorCode::array_out_of_bounds, "test.f32s");
  Writer s;
  s.add_raw_kv("tokenizer.ggml.tokens", 9, cat({u32le(8), u64le(~uint64_t{0} / 2)}));
  expect_reject(s.to_bytes(), ErrorCode::array_out_of_bounds, "tokenizer.ggml.tokens");
  // Count fits the file but an element's string runs past it.
  Writer e;
  e.add_raw_kv("tokenizer.ggml.tokens", 9, cat({u32le(8), u64le(2), str("ok"), u64le(500)}));
  expect_reject(e.to_bytes(), ErrorCode::string_out_of_bounds, "tokenizer.ggml.tokens");
}

TEST(GgufReject, UnknownValueType) {
  Writer w;
  w.add_raw_kv("test.weird", 13, u32le(0));
  expect_reject(w.to_bytes(), ErrorCode::unknown_value_type, "test.weird");
  Writer a;
  a.add_raw_kv("test.weird_array", 9, cat({u32le(0xffffffffu), u64le(0)}));
  expect_reject(a.to_bytes(), ErrorCode::unknown_value_type, "test.weird_array");
}

TEST(GgufReject, DuplicateKey) {
  Writer w = valid_writer();
  w.add_raw_kv("test.block_count", 4, u32le(3));
  expect_reject(w.to_bytes(), ErrorCode::duplicate_key, "test.block_count");
}

TEST(GgufReject, DuplicateTensor) {
  Writer w = valid_writer();
  w.add_raw_tensor_info("a.weight", 0, {8}, 64);
  expect_reject(w.to_bytes(), ErrorCode::duplicate_tensor, "a.weight");
}

TEST(GgufReject, BadAlignment) {
  // Wrong type: u64 instead of u32.
  Writer t = valid_writer();
  t.add_raw_kv("general.alignment", 10, u64le(32));
  expect_reject(t.to_bytes(), ErrorCode::bad_alignment, "general.alignment");
  Writer s = valid_writer();
  s.set_string("general.alignment", "32");
  expect_reject(s.to_bytes(), ErrorCode::bad_alignment, "general.alignment");
  for (uint32_t a : {0u, 3u, 48u, 0x80000001u}) {
    Writer w = valid_writer();
    w.add_raw_kv("general.alignment", 4, u32le(a));
    expect_reject(w.to_bytes(), ErrorCode::bad_alignment, "general.alignment");
  }
}

TEST(GgufReject, TooManyDims) {
  Writer w = valid_writer();
  w.add_raw_tensor_info("c.weight", 0, {1, 1, 1, 1, 1}, 64);
  expect_reject(w.to_bytes(), ErrorCode::too_many_dims, "c.weight");
}

TEST(GgufReject, ZeroOrNegativeDimension) {
  Writer z = valid_writer();
  z.add_raw_tensor_info("zero.weight", 0, {8, 0}, 64);
  expect_reject(z.to_bytes(), ErrorCode::bad_dimension, "zero.weight");
  Writer n = valid_writer();
  n.add_raw_tensor_info("neg.weight", 0, {8, static_cast<uint64_t>(int64_t{-4})}, 64);
  expect_reject(n.to_bytes(), ErrorCode::bad_dimension, "neg.weight");
  Writer d = valid_writer();
  d.add_raw_tensor_info("nodims.weight", 0, {}, 64);
  expect_reject(d.to_bytes(), ErrorCode::bad_dimension, "nodims.weight");
}

TEST(GgufReject, ElementCountOverflow) {
  Writer w = valid_writer();
  w.add_raw_tensor_info("huge.weight", 0, {uint64_t{1} << 32, uint64_t{1} << 32}, 64);
  expect_reject(w.to_bytes(), ErrorCode::element_count_overflow, "huge.weight");
  // Element count fits i64, byte size (x4 for F32) does not fit u64.
  Writer b = valid_writer();
  b.add_raw_tensor_info("bytes.weight", 0, {uint64_t{1} << 31, uint64_t{1} << 31}, 64);
  auto r = File::from_bytes(b.to_bytes());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("bytes.weight"), std::string::npos);
}

TEST(GgufReject, FirstDimNotBlockMultiple) {
  Writer w = valid_writer();
  w.add_raw_tensor_info("q.weight", static_cast<uint32_t>(TensorType::Q4_0), {48, 2}, 64);
  expect_reject(w.to_bytes(), ErrorCode::bad_block_multiple, "q.weight");
}

TEST(GgufReject, UnknownTensorType) {
  for (uint32_t id : {4u, 5u, 31u, 40u, 1000u}) {
    Writer w = valid_writer();
    w.add_raw_tensor_info("u.weight", id, {256}, 64);
    expect_reject(w.to_bytes(), ErrorCode::unknown_tensor_type, "u.weight");
  }
}

TEST(GgufReject, MisalignedTensor) {
  Writer w = valid_writer();
  w.add_raw_tensor_info("m.weight", 0, {8}, 65);
  expect_reject(w.to_bytes(), ErrorCode::misaligned_tensor, "m.weight");
}

TEST(GgufReject, TensorOutsideFile) {
  Writer w = valid_writer();
  w.add_raw_tensor_info("far.weight", 0, {8}, uint64_t{1} << 40);
  expect_reject(w.to_bytes(), ErrorCode::tensor_out_of_bounds, "far.weight");
  // Offset + data offset overflows u64.
  Writer o = valid_writer();
  o.add_raw_tensor_info("wrap.weight", 0, {8}, ~uint64_t{31});
  expect_reject(o.to_bytes(), ErrorCode::tensor_out_of_bounds, "wrap.weight");
}

TEST(GgufReject, OverlappingTensors) {
  Writer w = valid_writer();  // a.weight at 0 (32 bytes), b.weight at 32 (32 bytes)
  w.add_raw_tensor_info("c.weight", 0, {16}, 0);  // 64 bytes from 0
  expect_reject(w.to_bytes(), ErrorCode::overlapping_tensors, "c.weight");
}

TEST(GgufReject, TruncatedFile) {
  auto b = valid_writer().to_bytes();
  // Cut inside the header, inside the metadata, and inside the tensor data.
  for (size_t n : {size_t{2}, size_t{10}, size_t{30}, b.size() - 40, b.size() - 1}) {
    std::vector<uint8_t> cut(b.begin(), b.begin() + static_cast<ptrdiff_t>(n));
    auto f = File::from_bytes(cut);
    ASSERT_FALSE(f.ok()) << "prefix " << n;
    // A cut right after the header leaves too few bytes for the declared counts.
    EXPECT_TRUE(f.error().code() == ErrorCode::truncated ||
                f.error().code() == ErrorCode::too_many_items ||
                f.error().code() == ErrorCode::string_out_of_bounds ||
                f.error().code() == ErrorCode::array_out_of_bounds)
        << "prefix " << n << ": " << f.error().to_string();
  }
  std::vector<uint8_t> header_cut(b.begin(), b.begin() + 20);
  expect_reject(header_cut, ErrorCode::truncated, "metadata count");
  std::vector<uint8_t> data_cut(b.begin(), b.end() - 1);
  expect_reject(data_cut, ErrorCode::truncated, "b.weight");
}

TEST(GgufReject, EveryPrefixFailsCleanly) {
  // No prefix of a valid file may crash or be accepted with tensors reaching past its end.
  auto b = valid_writer().to_bytes();
  for (size_t n = 0; n < b.size(); ++n) {
    auto f = File::from_bytes(std::span<const uint8_t>(b.data(), n));
    EXPECT_FALSE(f.ok()) << "prefix " << n << " accepted";
  }
}

TEST(GgufReject, NestedArraysTooDeep) {
  // 20 levels of array-of-array, innermost an empty u8 array.
  std::vector<uint8_t> payload;
  for (int i = 0; i < 19; ++i) {
    auto lvl = cat({u32le(9), u64le(1)});
    payload.insert(payload.end(), lvl.begin(), lvl.end());
  }
  auto inner = cat({u32le(0), u64le(0)});
  payload.insert(payload.end(), inner.begin(), inner.end());
  Writer w;
  w.add_raw_kv("test.deep", 9, payload);
  expect_reject(w.to_bytes(), ErrorCode::corrupt_metadata, "test.deep");
}

TEST(GgufReject, EmptyAndMissingFiles) {
  expect_reject({}, ErrorCode::truncated, "too small");
  auto r = File::open("/nonexistent/dir/model.gguf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::io_error);
  EXPECT_NE(r.error().message().find("/nonexistent/dir/model.gguf"), std::string::npos);
  auto d = File::open("/");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::io_error);
}

TEST(GgufReject, UncomputableTypesStillParse) {
  // Known types nibble cannot compute (yet) are valid GGUF; the model loader rejects them.
  for (TensorType t :
       {TensorType::IQ2_XXS, TensorType::IQ1_M, TensorType::IQ3_S, TensorType::Q8_K}) {
    Writer w;
    auto ti = tensor_type_info(t);
    std::vector<uint8_t> data(ti.type_size * 2, 0x11);
    ASSERT_TRUE(w.add_tensor("x.weight", t, {ti.block_size, 2}, data).ok());
    auto f = File::from_bytes(w.to_bytes());
    ASSERT_TRUE(f.ok()) << ti.name << ": " << f.error().to_string();
    EXPECT_EQ(f->tensors()[0].type, t);
  }
}

}  // namespace
}  // namespace nibble::gguf
