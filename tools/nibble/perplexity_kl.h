// The base-logits file of `nibble perplexity --save-logits` / `--kl-divergence`: the token
// ids a perplexity run evaluated and, for every scored position, the base model's
// log-probabilities over the vocabulary, so a quantized model can later be compared with its
// F16 original without loading both.
//
// Layout (little-endian; docs/tools.md has the same table):
//   offset size
//   0      8    magic "NBKLBASE"
//   8      4    u32 version (1)
//   12     4    u32 n_vocab
//   16     4    u32 n_ctx        window length in tokens
//   20     4    u32 first        first scored logits row of a window (rows first..n_ctx-2)
//   24     4    u32 n_chunks     windows
//   28     4    u32 stride       0: windows at multiples of n_ctx; else at multiples of stride
//   32     4    u32 n_tokens     token ids that follow = (n_chunks-1)*step + n_ctx
//   36     4    u32 flags        bit 0: each window's first token was replaced by BOS
//   40     4    i32 bos          the BOS id used (-1 when none)
//   44     4    u32 reserved (0)
//   48     8    u64 checksum     FNV-1a 64 of every byte from offset 56 to the end
//   56     4*n_tokens            i32 token ids
//   then n_chunks * (n_ctx - 1 - first) rows, each: f32 min, f32 step, u16 q[n_vocab]
//        log p(v) = min + step * q[v]  (absolute error <= step / 2, about 1e-4 in practice)
// A reader trusts nothing: every field is range-checked, the file size must match exactly
// and the checksum must agree before anything is used.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "nibble/result.h"
#include "nibble/tokenizer.h"

namespace nibble::cli::kl {

struct Header {
  uint32_t n_vocab = 0, n_ctx = 0, first = 0, n_chunks = 0, stride = 0;
  bool bos_replaced = false;
  Token bos = -1;
  uint32_t rows_per_chunk() const { return n_ctx - 1 - first; }
  uint32_t step() const { return stride ? stride : n_ctx; }
  uint64_t n_tokens() const { return uint64_t{n_chunks - 1} * step() + n_ctx; }
};

// Writes to PATH.tmp and renames to PATH on finish(); the destructor removes an unfinished
// temporary file.
class Writer {
 public:
  ~Writer();
  Status open(const std::string& path, const Header& h, std::span<const Token> tokens);
  // One scored position: the model's logits (n_vocab floats), stored as log-probabilities.
  Status write_row(std::span<const float> logits);
  Status finish();

 private:
  Status put(const void* p, size_t n);
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t hash_ = 0;
  uint64_t rows_left_ = 0;
  uint32_t n_vocab_ = 0;
  std::vector<uint8_t> row_;
};

class Reader {
 public:
  ~Reader();
  // Validates the header, the size and the checksum and reads the tokens.
  Status open(const std::string& path);
  const Header& header() const { return h_; }
  const std::vector<Token>& tokens() const { return tokens_; }
  // The next row as log-probabilities (n_vocab floats, renormalised so they sum to 1).
  Status read_row(std::vector<float>* logp);

 private:
  std::string path_;
  Header h_;
  std::vector<Token> tokens_;
  std::FILE* f_ = nullptr;
  std::vector<uint8_t> row_;
};

// log-softmax of `logits` into `out` (double accumulation).
void log_softmax(std::span<const float> logits, std::vector<float>* out);

}  // namespace nibble::cli::kl
