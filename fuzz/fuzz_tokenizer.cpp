// libFuzzer target for the tokenizers.
//
// Input: the first byte picks what to do, the rest is the payload.
//   first byte < 0xF0: the payload is text for one of the tokenizers (byte % number of
//     tokenizers), encoded with parse_special = bit 4 and add_special = bit 5, then decoded
//     and streamed. Checks: ids inside the vocabulary, exact round trip for the synthetic
//     byte-level vocabularies (all 256 bytes present, no normalization), StreamDecoder output
//     always valid UTF-8, token_to_piece on arbitrary ids.
//   first byte >= 0xF0: the payload is a GGUF file; its vocabulary is loaded (hostile
//     tokenizer.ggml.* metadata) and, when it loads, used on a fixed text.
// Tokenizers: synthetic SPM and BPE vocabularies written with gguf::Writer and read back
// through tokenizer_from_gguf, plus the file named by NIBBLE_FUZZ_VOCAB when set.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "nibble/log.h"
#include "nibble/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace {

using nibble::Token;
using nibble::Tokenizer;

std::string mapped(uint8_t b) {
  std::string s;
  nibble::tok::utf8_append(&s, nibble::tok::byte_to_cp(b));
  return s;
}

std::shared_ptr<const Tokenizer> from_writer(const nibble::gguf::Writer& w) {
  auto bytes = w.to_bytes();
  auto file = nibble::gguf::File::from_bytes(bytes);
  if (!file.ok()) return nullptr;
  auto t = nibble::tokenizer_from_gguf(*file);
  return t.ok() ? std::shared_ptr<const Tokenizer>(*t) : nullptr;
}

std::shared_ptr<const Tokenizer> synthetic_bpe(const std::string& pre) {
  nibble::gguf::Writer w;
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(mapped(static_cast<uint8_t>(b)));
  std::vector<std::string> merges = {"Ġ t", "h e", "i n",   "Ġt he", "e r",  "a n", "Ġ a", "o n",
                                     "r e", "Ġ Ġ", "ĠĠ ĠĠ", "1 2",   "12 3", "ä ¸", "Ã ©"};
  for (auto& m : merges) {
    std::string t = m;
    t.erase(t.find(' '), 1);
    tokens.push_back(t);
  }
  std::vector<int32_t> types(tokens.size(), 1);
  for (const char* s : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}) {
    tokens.push_back(s);
    types.push_back(3);
  }
  tokens.push_back("<tool>");
  types.push_back(4);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", pre);
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", merges);
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tokens.size() - 4));
  return from_writer(w);
}

std::shared_ptr<const Tokenizer> synthetic_spm() {
  nibble::gguf::Writer w;
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
    types.push_back(6);
  }
  for (const char* p : {"▁", "▁t", "h", "e", "▁th", "▁the", "a", "n", "an", "▁an", "d", "▁and", "é",
                        "你", "好", "你好"}) {
    tokens.push_back(p);
    types.push_back(1);
  }
  std::vector<float> scores(tokens.size(), 0.0f);
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_f32_array("tokenizer.ggml.scores", scores);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  return from_writer(w);
}

struct Fixture {
  std::vector<std::shared_ptr<const Tokenizer>> toks;
  std::vector<bool> exact;  // round trip must be exact
  Fixture() {
    nibble::set_log_level(nibble::LogLevel::off);
    for (const char* pre : {"gpt-2", "llama-bpe", "deepseek-llm", "default", "gpt-4o", "falcon",
                            "deepseek-coder", "starcoder"}) {
      toks.push_back(synthetic_bpe(pre));
      exact.push_back(true);
    }
    toks.push_back(synthetic_spm());
    exact.push_back(false);  // "▁" in the input decodes as a space
    if (const char* path = std::getenv("NIBBLE_FUZZ_VOCAB"); path && *path) {
      auto t = Tokenizer::load(path);
      if (!t.ok()) {
        std::fprintf(stderr, "NIBBLE_FUZZ_VOCAB: %s\n", t.error().to_string().c_str());
        std::abort();
      }
      toks.push_back(*t);
      exact.push_back(false);
    }
    for (auto& t : toks)
      if (!t) {
        std::fprintf(stderr, "synthetic vocabulary failed to load\n");
        std::abort();
      }
  }
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer: %s\n", what);
    std::abort();
  }
}

void exercise(const Tokenizer& t, std::string_view text, bool parse_special, bool add_special,
              bool exact) {
  auto ids = t.encode(text, {.add_special = add_special, .parse_special = parse_special});
  check(ids.ok(), "encode failed");
  for (Token id : *ids) check(id >= 0 && id < t.n_vocab(), "id outside the vocabulary");
  std::string back = t.decode(*ids, add_special);
  if (exact && !parse_special) check(back == text, "round trip differs");
  std::shared_ptr<const Tokenizer> alias(std::shared_ptr<const Tokenizer>{}, &t);
  nibble::StreamDecoder sd(alias, add_special);
  std::string streamed;
  for (Token id : *ids) streamed += sd.push(id);
  streamed += sd.flush();
  check(nibble::tok::utf8_valid(streamed), "stream decoder emitted invalid UTF-8");
  if (nibble::tok::utf8_valid(back)) check(streamed == back, "stream differs from decode");
  // Arbitrary ids from the input bytes.
  for (size_t i = 0; i + 4 <= text.size() && i < 64; i += 4) {
    int32_t id;
    std::memcpy(&id, text.data() + i, 4);
    (void)t.token_to_piece(id, true);
    (void)t.is_special(id);
    (void)t.is_end_of_generation(id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode >= 0xF0) {
    auto file = nibble::gguf::File::from_bytes(std::span<const uint8_t>(data + 1, size - 1));
    if (!file.ok()) return 0;
    auto t = nibble::tokenizer_from_gguf(*file);
    if (!t.ok()) return 0;
    exercise(**t, "Hello world! 'll 123 \xE4\xBD\xA0 <|im_start|>\n\n", true, true, false);
    return 0;
  }
  size_t which = (mode & 0x0F) % fx.toks.size();
  exercise(*fx.toks[which], payload, mode & 0x10, mode & 0x20, fx.exact[which]);
  return 0;
}
