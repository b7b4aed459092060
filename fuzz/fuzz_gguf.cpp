// libFuzzer target for the GGUF reader: File::from_bytes on arbitrary bytes, then every
// accessor on everything it accepted (all getters on every key, every array element, every
// tensor's first and last byte). Oracle beyond "no crash": a file the reader accepts,
// rewritten by the Writer, must be accepted again with the same keys and tensors.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "gguf/gguf.h"
#include "gguf/writer.h"

namespace {

using nibble::gguf::File;
using nibble::gguf::Value;
using nibble::gguf::ValueType;

volatile uint64_t g_sink;

template <typename R>
void consume(const R& r) {
  if (r.ok())
    g_sink = g_sink + 1;
  else
    g_sink = g_sink + r.error().message().size();
}

void walk(const Value& v, int depth) {
  consume(v.as_uint("k"));
  consume(v.as_int("k"));
  consume(v.as_float("k"));
  consume(v.as_bool("k"));
  consume(v.as_string("k"));
  g_sink = g_sink + v.is_integer();
  if (v.type() != ValueType::array) return;
  consume(v.as_string_array("k"));
  consume(v.as_f32_array("k"));
  consume(v.as_i32_array("k"));
  consume(v.as_u8_array("k"));
  // Elements, including one past the end (must return an empty value, not read out of bounds).
  uint64_t n = v.array_size() < 64 ? v.array_size() : 64;
  for (uint64_t i = 0; i <= n; ++i) walk(v.at(i), depth + 1);
  if (v.array_size() > 64) walk(v.at(v.array_size() - 1), depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = File::from_bytes(std::span<const uint8_t>(data, size));
  if (!r.ok()) {
    g_sink = g_sink + r.error().message().size();
    return 0;
  }
  const File& f = *r;
  for (const auto& kv : f.metadata()) {
    walk(kv.value, 0);
    if (f.find(kv.key) != &kv.value) std::abort();
    consume(f.get_uint(kv.key));
    consume(f.get_int(kv.key));
    consume(f.get_float(kv.key));
    consume(f.get_bool(kv.key));
    consume(f.get_string(kv.key));
    consume(f.get_string_array(kv.key));
    consume(f.get_f32_array(kv.key));
    consume(f.get_i32_array(kv.key));
    consume(f.get_uint_or(kv.key, 1));
    consume(f.get_float_or(kv.key, 1.0));
    consume(f.get_bool_or(kv.key, false));
    consume(f.get_string_or(kv.key, "x"));
  }
  uint64_t sum = 0;
  nibble::gguf::Writer w;
  for (const auto& kv : f.metadata()) w.set_value(std::string(kv.key), kv.value);
  for (const auto& t : f.tensors()) {
    if (f.find_tensor(t.name) != &t) std::abort();
    if (t.data < f.base() || t.data + t.n_bytes > f.base() + f.file_size()) std::abort();
    sum += t.data[0] + t.data[t.n_bytes - 1] + t.rows();
    std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    if (t.n_bytes <= (1u << 20) &&
        !w.add_tensor(std::string(t.name), t.type, ne, {t.data, t.n_bytes}).ok())
      std::abort();
  }
  g_sink = g_sink + sum;
  // Round trip (skipped when a tensor was too big to copy cheaply).
  bool small = true;
  for (const auto& t : f.tensors()) small = small && t.n_bytes <= (1u << 20);
  if (small) {
    auto bytes = w.to_bytes();
    auto again = File::from_bytes(bytes);
    if (!again.ok() || again->metadata().size() != f.metadata().size() ||
        again->tensors().size() != f.tensors().size())
      std::abort();
    // Writing is idempotent: the re-read file rewritten gives the same bytes.
    nibble::gguf::Writer w2;
    for (const auto& kv : again->metadata()) w2.set_value(std::string(kv.key), kv.value);
    for (const auto& t : again->tensors()) {
      std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
      if (!w2.add_tensor(std::string(t.name), t.type, ne, {t.data, t.n_bytes}).ok()) std::abort();
    }
    if (w2.to_bytes() != bytes) std::abort();
  }
  return 0;
}
