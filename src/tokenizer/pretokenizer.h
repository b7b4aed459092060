// Pre-tokenizers of byte-level BPE vocabularies: the regex splits named by tokenizer.ggml.pre,
// implemented as hand-written matchers over decoded code points (no regex engine).
//
// A pre-tokenizer is a sequence of split steps, as in Hugging Face's `Sequence` of `Split`
// (behaviour "Isolated"): each step scans every piece left by the previous step for
// leftmost-first, non-overlapping matches of its pattern; both the matches and the text
// between them become pieces for the next step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nibble/result.h"
#include "tokenizer/unicode.h"

namespace nibble::tok {

enum class SplitPattern : uint8_t {
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
  gpt2,
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,K}| ?[^\s\p{L}\p{N}]+[\r\n]*
  //   |\s*[\r\n]+|\s+(?!\S)|\s+            (K = max_digits: 3 for Llama 3, 1 for Qwen2)
  llama3,
  // [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...)?
  //   |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...)?
  //   |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+   (GPT-4o, Phi-4, Llama 4;
  //   Mistral's tekken: the same without contractions and with \p{N} one digit)
  gpt4o,
  punct_run,         // [\p{P}\$\+<=>\^~\|]+  (with_backtick adds `)
  number_run,        // \p{N}+
  number_one,        // \p{N}
  ascii_digits3,     // [0-9][0-9][0-9]
  newline_one,       // [\r\n]
  ws_letter_run,     // \s?\p{L}+
  ws_punct_run,      // \s?\p{P}+
  cjk_run,           // [一-龥ࠀ-一가-퟿]+
  ws_end,            // \s+$
  dsllm_letter_run,  // \s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+  (DeepSeek LLM's explicit letter list)
  dsllm_punct_run,   // \s?[!-/:-~！-／：-～‘-‟　-。]+
};

struct SplitStep {
  SplitPattern pattern;
  int max_digits = 3;          // llama3, gpt4o
  bool contractions = true;    // gpt4o: words take a following 's, 't, ... (tekken: no)
  bool with_backtick = false;  // punct_run
};

struct PreTokenizerSpec {
  std::string name;  // as in tokenizer.ggml.pre ("default" when absent)
  std::vector<SplitStep> steps;
  bool nfc = false;            // normalizer NFC before splitting (Qwen2)
  bool ignore_merges = false;  // a piece that is a whole token is taken as is (Llama 3)
};

// The spec for a tokenizer.ggml.pre value; unsupported_tokenizer naming it when unknown.
Result<PreTokenizerSpec> pre_tokenizer_for(std::string_view pre);

// A piece of the text: a byte range.
struct Piece {
  uint32_t offset;
  uint32_t length;
};

// Working memory of pre_tokenize, reused across calls to avoid reallocations (a fresh
// 12-bytes-per-character array per call costs more in page faults than the splitting itself).
// One per thread at a time; the tokenizer keeps a pool of them (no thread_local: MinGW's
// emulated TLS has destroyed such objects under a running thread's feet).
struct PreTokenizeScratch {
  std::vector<Piece> pieces;  // the result
  std::vector<Cpt> cps;
  std::vector<std::pair<size_t, size_t>> cur, next;  // pieces as code-point ranges
  void trim();  // releases buffers that grew past a few MiB
};

// Split `text` into pieces (byte ranges, in order, covering the text) in s->pieces.
void pre_tokenize(const PreTokenizerSpec& spec, std::string_view text, PreTokenizeScratch* s);

}  // namespace nibble::tok
