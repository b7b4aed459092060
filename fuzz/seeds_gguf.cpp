// Writes the seed corpus of fuzz_gguf: small writer-built files that reach every part of the
// parser (every value type, nested arrays, every tensor type, v2/v3, alignments), plus
// shrunken copies of the real files in SHARED_DIR (their metadata with arrays cut to a few
// elements and their tensor table with tiny tensors) and the first 4 KiB of each real file.
// Usage: fuzz_gguf_seeds OUTDIR [SHARED_DIR]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gguf/gguf.h"
#include "gguf/writer.h"

namespace fs = std::filesystem;
using namespace nibble;
using namespace nibble::gguf;

namespace {

int g_count = 0;

void save(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& b) {
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ++g_count;
}

std::vector<uint8_t> zeros(size_t n) { return std::vector<uint8_t>(n, 0x3c); }

void synthetic(const fs::path& dir) {
  Writer all;
  all.set_u8("u8", 1);
  all.set_i8("i8", -1);
  all.set_u16("u16", 2);
  all.set_i16("i16", -2);
  all.set_u32("u32", 3);
  all.set_i32("i32", -3);
  all.set_u64("u64", 4);
  all.set_i64("i64", -4);
  all.set_f32("f32", 0.5f);
  all.set_f64("f64", 0.25);
  all.set_bool("bool", true);
  all.set_string("general.architecture", "llama");
  all.set_string_array("tokenizer.ggml.tokens", {"a", "b", "<s>"});
  all.set_f32_array("tokenizer.ggml.scores", {0.f, -1.f, 2.f});
  all.set_i32_array("tokenizer.ggml.token_type", {1, 1, 3});
  std::vector<uint8_t> nested = {0x09, 0, 0, 0, 2, 0, 0, 0, 0,  0, 0, 0,     // array of 2 arrays
                                 0x00, 0, 0, 0, 1, 0, 0, 0, 0,  0, 0, 0, 7,  // [u8: 7]
                                 0x08, 0, 0, 0, 1, 0, 0, 0, 0,  0, 0, 0,     // [string: "z"]
                                 1,    0, 0, 0, 0, 0, 0, 0, 'z'};
  all.add_raw_kv("nested", 9, nested);
  save(dir, "all_value_types.gguf", all.to_bytes());

  for (uint32_t version : {2u, 3u}) {
    for (uint32_t align : {32u, 1u, 64u}) {
      Writer w;
      w.set_version(version);
      w.set_alignment(align);
      w.set_string("general.architecture", "test");
      for (uint32_t id = 0; id <= kMaxTensorTypeId; ++id) {
        auto ti = tensor_type_info(id);
        if (!ti.known) continue;
        std::vector<uint64_t> ne = {ti.block_size};
        if (id % 2) ne = {ti.block_size, 2};
        (void)w.add_tensor("t." + std::string(ti.name), static_cast<TensorType>(id), ne,
                           zeros(ti.type_size * (id % 2 ? 2 : 1)));
      }
      save(dir, "types_v" + std::to_string(version) + "_a" + std::to_string(align) + ".gguf",
           w.to_bytes());
    }
  }
  Writer empty;
  save(dir, "empty.gguf", empty.to_bytes());
}

void from_shared(const fs::path& dir, const fs::path& shared) {
  for (const char* sub : {"vocab", "fixtures"}) {
    std::error_code ec;
    for (auto& e : fs::directory_iterator(shared / sub, ec)) {
      if (e.path().extension() != ".gguf") continue;
      std::string stem = std::string(sub) + "_" + e.path().stem().string();
      // The first 4 KiB, as is (most are rejected as truncated, at different fields).
      std::ifstream in(e.path(), std::ios::binary);
      std::vector<uint8_t> head(4096);
      in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<size_t>(in.gcount()));
      save(dir, stem + "_head.gguf", head);
      auto f = File::open(e.path().string());
      if (!f.ok()) continue;
      Writer w;
      for (const auto& kv : f->metadata()) w.set_value(std::string(kv.key), kv.value.prefix(4));
      int kept = 0;
      for (const auto& t : f->tensors()) {
        if (kept++ >= 6) break;
        auto ti = tensor_type_info(t.type);
        (void)w.add_tensor(std::string(t.name), t.type, {ti.block_size}, {t.data, ti.type_size});
      }
      save(dir, stem + "_small.gguf", w.to_bytes());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUTDIR [SHARED_DIR]\n", argv[0]);
    return 2;
  }
  fs::path dir = argv[1];
  fs::create_directories(dir);
  synthetic(dir);
  if (argc > 2) from_shared(dir, argv[2]);
  std::fprintf(stderr, "fuzz_gguf_seeds: wrote %d seeds to %s\n", g_count, dir.c_str());
  return 0;
}
