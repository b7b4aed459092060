// nibble — tokenizer: reproduces a model's own tokenizer from the vocabulary stored in its
// GGUF file (tokenizer.ggml.* keys): SentencePiece-style ("llama") and byte-level BPE ("gpt2")
// with the pre-tokenizer named by tokenizer.ggml.pre.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nibble/export.h"
#include "nibble/result.h"

namespace nibble {

using Token = int32_t;

enum class TokenizerKind { spm, bpe };

struct EncodeOptions {
  // Add BOS / EOS as the vocabulary's flags say (tokenizer.ggml.add_bos_token / add_eos_token)
  // when true; never when false.
  bool add_special = true;
  // Recognise special/control tokens (e.g. "<|im_start|>") written in the text.
  bool parse_special = false;
};

class NIBBLE_API Tokenizer {
 public:
  // Load the vocabulary of any GGUF file (vocab-only files included).
  static Result<std::shared_ptr<const Tokenizer>> load(const std::string& gguf_path);

  virtual ~Tokenizer() = default;

  virtual TokenizerKind kind() const = 0;
  virtual std::string_view pre_tokenizer() const = 0;  // tokenizer.ggml.pre ("" for spm)
  virtual int32_t n_vocab() const = 0;

  virtual Result<std::vector<Token>> encode(std::string_view text,
                                            const EncodeOptions& options = {}) const = 0;
  // The bytes a token stands for (byte-fallback pieces give their byte; special tokens give
  // their text when `special` is true, nothing otherwise).
  virtual std::string token_to_piece(Token token, bool special = true) const = 0;
  // Decode a sequence (SentencePiece: the leading space of the first piece is removed when
  // the sequence starts with BOS or at the start, as the reference does).
  virtual std::string decode(std::span<const Token> tokens, bool skip_special = false) const = 0;

  virtual Token bos() const = 0;  // -1 when the vocabulary has none
  virtual Token eos() const = 0;
  virtual Token eot() const = 0;
  virtual Token pad() const = 0;
  virtual bool add_bos() const = 0;
  virtual bool add_eos() const = 0;
  // End of generation: EOS, EOT and the chat models' end tokens (<|eot_id|>, <|im_end|>,
  // <|end|>, <end_of_turn>, ...).
  virtual bool is_end_of_generation(Token token) const = 0;
  virtual bool is_special(Token token) const = 0;
  virtual Result<Token> token_id(std::string_view piece) const = 0;

  // tokenizer.chat_template from the file ("" when absent).
  virtual std::string_view chat_template() const = 0;
};

// Incremental decoder for streaming: feed tokens one at a time, get the text that became
// complete. Never emits half a UTF-8 character; byte-fallback pieces split over several tokens
// are joined; invalid sequences come out as U+FFFD once they cannot become valid.
class NIBBLE_API StreamDecoder {
 public:
  explicit StreamDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special = false);
  std::string push(Token token);
  std::string flush();  // whatever is pending (incomplete bytes as U+FFFD)
  void reset();

 private:
  std::shared_ptr<const Tokenizer> tok_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace nibble
