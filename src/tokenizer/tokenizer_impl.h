// The one Tokenizer implementation: a vocabulary plus either the SentencePiece-style ("llama")
// or the byte-level BPE ("gpt2") algorithm. Internal to src/tokenizer.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nibble/tokenizer.h"
#include "tokenizer/flat_map.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/vocab.h"

namespace nibble::tok {

class VocabTokenizer final : public Tokenizer {
 public:
  static Result<std::shared_ptr<Tokenizer>> create(VocabData data);

  TokenizerKind kind() const override { return kind_; }
  std::string_view pre_tokenizer() const override { return pre_.name; }
  int32_t n_vocab() const override { return static_cast<int32_t>(types_.size()); }

  Result<std::vector<Token>> encode(std::string_view text,
                                    const EncodeOptions& options) const override;
  std::string token_to_piece(Token token, bool special) const override;
  std::string decode(std::span<const Token> tokens, bool skip_special) const override;

  Token bos() const override { return bos_; }
  Token eos() const override { return eos_; }
  Token eot() const override { return eot_; }
  Token pad() const override { return pad_; }
  bool add_bos() const override { return add_bos_; }
  bool add_eos() const override { return add_eos_; }
  bool is_end_of_generation(Token token) const override;
  bool is_special(Token token) const override;
  Result<Token> token_id(std::string_view piece) const override;
  std::string_view chat_template() const override { return chat_template_; }

  // The token's text as stored in the vocabulary (byte-level / "▁" form).
  std::string_view text(Token t) const {
    return std::string_view(text_).substr(text_off_[t], text_off_[t + 1] - text_off_[t]);
  }
  // Whether the first piece of a decoded sequence loses its leading space (SPM prefix rule).
  bool strips_leading_space() const { return kind_ == TokenizerKind::spm && add_space_prefix_; }

 private:
  VocabTokenizer() = default;
  // The steps of create(), in order (each documented at its definition).
  void load_texts(const VocabData& d);
  Status load_types(const VocabData& d);
  void set_special_ids(VocabData& d);
  void classify_tokens();
  void build_special_trie(const VocabData& d);
  void detect_spm_word_split();
  void find_spm_byte_tokens();
  Status load_bpe(const VocabData& d);
  void build_pieces();
  Token find(std::string_view s) const { return to_id_.get(s, TextOf{this}); }
  // find() restricted to tokens that ordinary text may turn into (not control, unknown or
  // byte tokens): SentencePiece never produces those from text, and merges must not either.
  Token find_text(std::string_view s) const {
    Token id = find(s);
    return id >= 0 && matchable_[id] ? id : -1;
  }
  // Split text on special / user-defined tokens (leftmost-longest); raw runs get token -1.
  struct Fragment {
    Token token;
    size_t offset, length;
  };
  void partition(std::string_view text, bool parse_special, std::vector<Fragment>* out) const;
  void encode_spm(std::string_view text, bool prefix_space, std::vector<Token>* out) const;
  void spm_merge(std::string_view escaped, std::vector<Token>* out) const;
  void encode_bpe(std::string_view text, std::vector<Token>* out) const;
  void bpe_word(std::string_view word, std::vector<Token>* out) const;
  void push_byte(uint8_t b, std::vector<Token>* out) const;

  TokenizerKind kind_ = TokenizerKind::spm;
  PreTokenizerSpec pre_;
  std::string text_;                // all token texts, concatenated
  std::vector<uint32_t> text_off_;  // n + 1 offsets into text_
  std::string piece_;               // decoded pieces (what token_to_piece returns)
  std::vector<uint32_t> piece_off_;
  std::vector<float> scores_;
  std::vector<uint8_t> types_;   // TokenType
  std::vector<uint8_t> hidden_;  // 1: special, piece shown only when asked for
  std::vector<uint8_t> eog_;
  std::vector<uint8_t> matchable_;
  struct TextOf {
    const VocabTokenizer* t;
    std::string_view operator()(int32_t id) const { return t->text(id); }
  };
  TextIndex<TextOf> to_id_;
  // BPE merges: (left id << 32 | right id) -> (rank, merged id).
  PairIndex merges_;
  std::array<Token, 256> byte_tok_{};  // token of each byte (SPM <0xNN>, BPE mapped char)
  // Tokens matched in raw text (leftmost-longest). `always` marks
  // user-defined tokens (matched even when parse_special is off).
  struct SpecialEntry {
    Token id;
    bool always;
    bool lstrip = false;  // whitespace before / after the token in the text is dropped
    bool rstrip = false;  // (Hugging Face added-token attributes; Phi-3's specials rstrip)
  };
  // A byte trie of those tokens: node 0 is the root; root edges in an array (the common
  // "no special token starts here" costs one load per byte), deeper edges hashed.
  struct TrieNode {
    SpecialEntry entry{-1, false};  // entry.id < 0: no token ends here
  };
  std::vector<TrieNode> trie_{TrieNode{}};
  std::array<uint32_t, 256> trie_root_{};              // 0: no edge
  std::unordered_map<uint64_t, uint32_t> trie_edges_;  // (node << 8 | byte) -> node
  const SpecialEntry* match_special(std::string_view text, size_t pos, bool parse_special) const;
  bool have_always_specials_ = false;
  bool have_specials_ = false;
  // SPM: every token with "▁" after its first character is all "▁" (true of the Llama,
  // Phi-3 and Baichuan vocabularies), so text can be merged word by word.
  bool spm_word_split_ = false;

  Token bos_ = -1, eos_ = -1, eot_ = -1, eom_ = -1, pad_ = -1, unk_ = -1;
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false;
  std::string chat_template_;
};

}  // namespace nibble::tok
