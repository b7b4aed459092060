// Seed corpus for fuzz_tokenizer: small synthetic vocabularies as GGUF files, prefixed with
// the 0xF0 mode byte (the fuzzer's "load this vocabulary" mode). Usage: OUTDIR [SHARED_DIR]
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gguf/writer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUTDIR [SHARED_DIR]\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  auto write = [&](const std::string& name, const nibble::gguf::Writer& w) {
    auto bytes = w.to_bytes();
    std::ofstream f(out + "/" + name, std::ios::binary);
    f.put(static_cast<char>(0xF0));
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  };
  {
    nibble::gguf::Writer w;
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "qwen2");
    w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab", "Ġ", "<|im_start|>"});
    w.set_i32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 3});
    w.set_string_array("tokenizer.ggml.merges", {"a b"});
    w.set_u32("tokenizer.ggml.bos_token_id", 4);
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    write("bpe.gguf", w);
  }
  {
    nibble::gguf::Writer w;
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x41>", "▁", "▁a"});
    w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, 0, -1, -2});
    w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 1});
    w.set_bool("tokenizer.ggml.add_space_prefix", false);
    write("spm.gguf", w);
  }
  return 0;
}
