// Internal entry points of the tokenizer layer.
//
//   tokenizer_from_gguf(file)  — what Tokenizer::load and the model loader use: reads the
//                                tokenizer.ggml.* keys of an already-open GGUF file.
//   tokenizer_from_vocab(data) — builds a tokenizer from plain data (tests, fuzzing, synthetic
//                                vocabularies); tokenizer_from_gguf fills a VocabData and calls
//                                it, so both paths validate the same way.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "nibble/result.h"
#include "nibble/tokenizer.h"

namespace nibble {

// GGUF token types (tokenizer.ggml.token_type).
enum class TokenType : uint8_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

struct VocabData {
  std::string model;                // tokenizer.ggml.model: "llama" (SPM) or "gpt2" (BPE)
  std::string pre;                  // tokenizer.ggml.pre ("" when absent)
  std::vector<std::string> tokens;  // tokenizer.ggml.tokens
  std::vector<float> scores;        // tokenizer.ggml.scores (may be empty)
  std::vector<int32_t> types;       // tokenizer.ggml.token_type (may be empty: all normal)
  std::vector<std::string> merges;  // tokenizer.ggml.merges ("left right", BPE only)
  std::optional<Token> bos, eos, eot, eom, pad, unk;
  std::optional<bool> add_bos, add_eos, add_space_prefix;
  std::string chat_template;
  std::string architecture;  // general.architecture, general.name: per-model token attributes
  std::string name;
};

Result<std::shared_ptr<Tokenizer>> tokenizer_from_vocab(VocabData data);
Result<std::shared_ptr<Tokenizer>> tokenizer_from_gguf(const gguf::File& file);

}  // namespace nibble
