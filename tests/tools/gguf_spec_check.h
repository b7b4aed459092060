// An independent reading of a GGUF file, written from the format specification for the tools'
// tests: it shares no code with src/gguf, so a mistake made the same way in nibble's writer and
// reader cannot hide. Parses the header, skips every key-value by its type, reads the tensor
// infos and checks what every reader relies on: version 3, the data section at the first
// multiple of general.alignment after the infos, each tensor offset aligned, tensors in
// order without overlap and inside the file, and the file ending at the last tensor's padded
// end.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace nibble::test {

struct SpecTensor {
  std::string name;
  std::vector<uint64_t> dims;
  uint32_t type = 0;
  uint64_t offset = 0;  // relative to the data section
};

struct SpecFile {
  std::string error;  // empty when every check passed
  uint32_t version = 0, alignment = 32;
  uint64_t n_kv = 0, data_start = 0, size = 0;
  std::vector<SpecTensor> tensors;
};

// Bytes per block and elements per block for the types the tools write.
inline bool spec_type_size(uint32_t t, uint64_t* block, uint64_t* bytes) {
  struct E { uint32_t id; uint64_t block, bytes; };
  static const E table[] = {{0, 1, 4},     {1, 1, 2},     {30, 1, 2},     {2, 32, 18},
                            {3, 32, 20},   {6, 32, 22},   {7, 32, 24},    {8, 32, 34},
                            {10, 256, 84}, {11, 256, 110}, {12, 256, 144}, {13, 256, 176},
                            {14, 256, 210}, {20, 32, 18}, {34, 256, 54},  {35, 256, 66}};
  for (const E& e : table)
    if (e.id == t) return *block = e.block, *bytes = e.bytes, true;
  return false;
}

inline SpecFile spec_read(const std::string& path) {
  SpecFile f;
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), {});
  f.size = b.size();
  uint64_t o = 0;
  bool ok = true;
  auto need = [&](uint64_t n) { return ok = ok && o + n <= b.size(); };
  auto u32 = [&]() -> uint32_t {
    uint32_t v = 0;
    if (need(4)) std::memcpy(&v, &b[o], 4), o += 4;
    return v;
  };
  auto u64 = [&]() -> uint64_t {
    uint64_t v = 0;
    if (need(8)) std::memcpy(&v, &b[o], 8), o += 8;
    return v;
  };
  auto str = [&]() -> std::string {
    const uint64_t n = u64();
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(&b[o]), n);
    o += n;
    return s;
  };
  auto fail = [&](std::string m) {
    f.error = std::move(m);
    return f;
  };
  if (!need(4) || std::memcmp(&b[0], "GGUF", 4) != 0) return fail("no GGUF magic");
  o = 4;
  f.version = u32();
  const uint64_t n_tensors = u64();
  f.n_kv = u64();
  if (f.version != 3) return fail("version " + std::to_string(f.version));
  const uint64_t scalar[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  // Skips one value of type t (arrays of arrays included).
  auto skip = [&](auto&& self, uint32_t t) -> void {
    if (t == 8) {
      str();
    } else if (t == 9) {
      const uint32_t et = u32();
      const uint64_t n = u64();
      for (uint64_t i = 0; i < n && ok; ++i) self(self, et);
    } else if (t < 13 && scalar[t]) {
      need(scalar[t]);
      o += scalar[t];
    } else {
      ok = false;
    }
  };
  for (uint64_t i = 0; i < f.n_kv && ok; ++i) {
    const std::string key = str();
    const uint32_t t = u32();
    if (key == "general.alignment" && t == 4 && need(4)) std::memcpy(&f.alignment, &b[o], 4);
    skip(skip, t);
  }
  for (uint64_t i = 0; i < n_tensors && ok; ++i) {
    SpecTensor t;
    t.name = str();
    const uint32_t nd = u32();
    if (nd == 0 || nd > 4) return fail(t.name + ": " + std::to_string(nd) + " dims");
    for (uint32_t d = 0; d < nd; ++d) t.dims.push_back(u64());
    t.type = u32();
    t.offset = u64();
    f.tensors.push_back(t);
  }
  if (!ok) return fail("truncated header");
  const uint64_t a = f.alignment;
  f.data_start = (o + a - 1) / a * a;
  uint64_t end = 0;
  for (const SpecTensor& t : f.tensors) {
    uint64_t block, bytes, n = 1;
    if (!spec_type_size(t.type, &block, &bytes)) return fail(t.name + ": unknown type");
    for (uint64_t d : t.dims) n *= d;
    if (t.dims[0] % block) return fail(t.name + ": row not a block multiple");
    if (t.offset % a) return fail(t.name + ": offset not aligned");
    if (t.offset < end) return fail(t.name + ": overlaps the previous tensor");
    end = t.offset + n / block * bytes;
    if (f.data_start + end > f.size) return fail(t.name + ": data past the end of the file");
    end = (end + a - 1) / a * a;
  }
  if (!f.tensors.empty() && f.data_start + end != f.size)
    return fail("file size " + std::to_string(f.size) + ", expected " +
                std::to_string(f.data_start + end));
  return f;
}

}  // namespace nibble::test
