// Vocabulary loading and validation, special-token partitioning, decoding.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "runtime/log.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace nibble::tok {
namespace {

Error corrupt(std::string msg) { return Error(ErrorCode::corrupt_metadata, std::move(msg)); }

// End-of-generation texts of chat models (besides the file's EOS/EOT ids).
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>",    "<|end|>",         "<|return|>",
    "<|call|>",   "<end_of_turn>", "<|endoftext|>",   "<|eom_id|>",
    "<EOT>",      "_<EOT>",        "<|end_of_text|>", "<｜end▁of▁sentence｜>"};
// Candidates for EOT when the file names none, in order of preference.
constexpr std::string_view kEotTexts[] = {"<|eot_id|>",    "<|im_end|>",           "<|end|>",
                                          "<end_of_turn>", "<|endoftext|>",        "<EOT>",
                                          "_<EOT>",        "<｜end▁of▁sentence｜>"};

}  // namespace

Result<std::shared_ptr<Tokenizer>> VocabTokenizer::create(VocabData d) {
  std::shared_ptr<VocabTokenizer> t(new VocabTokenizer());
  if (d.model == "llama") {
    t->kind_ = TokenizerKind::spm;
  } else if (d.model == "gpt2") {
    t->kind_ = TokenizerKind::bpe;
  } else {
    return Error(
        ErrorCode::unsupported_tokenizer,
        "unsupported tokenizer model '" + d.model.substr(0, 64) + "' (tokenizer.ggml.model)");
  }
  const size_t n = d.tokens.size();
  if (n == 0) return corrupt("tokenizer.ggml.tokens is empty");
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2))
    return corrupt("tokenizer.ggml.tokens has too many entries");
  if (!d.scores.empty() && d.scores.size() != n)
    return corrupt("tokenizer.ggml.scores has " + std::to_string(d.scores.size()) +
                   " entries for " + std::to_string(n) + " tokens");
  if (!d.types.empty() && d.types.size() != n)
    return corrupt("tokenizer.ggml.token_type has " + std::to_string(d.types.size()) +
                   " entries for " + std::to_string(n) + " tokens");
  size_t total = 0;
  for (auto& s : d.tokens) total += s.size();
  if (total > std::numeric_limits<uint32_t>::max() / 2)
    return corrupt("tokenizer.ggml.tokens: texts too large");

  t->load_texts(d);
  NIBBLE_TRY(t->load_types(d));
  t->set_special_ids(d);
  t->classify_tokens();
  t->build_special_trie(d);
  const bool spm = t->kind_ == TokenizerKind::spm;
  if (spm) {
    t->detect_spm_word_split();
    t->find_spm_byte_tokens();
  } else {
    NIBBLE_TRY(t->load_bpe(d));
  }
  // Llama 3 style vocabularies add BOS unless the file says otherwise; SPM always did.
  t->add_bos_ = d.add_bos.value_or(spm || t->pre_.ignore_merges);

  t->build_pieces();
  return std::shared_ptr<Tokenizer>(std::move(t));
}

// Token texts, concatenated, and the text -> id index.
void VocabTokenizer::load_texts(const VocabData& d) {
  const size_t n = d.tokens.size();
  size_t total = 0;
  for (auto& s : d.tokens) total += s.size();
  text_.reserve(total);
  text_off_.reserve(n + 1);
  for (auto& s : d.tokens) {
    text_off_.push_back(static_cast<uint32_t>(text_.size()));
    text_ += s;
  }
  text_off_.push_back(static_cast<uint32_t>(text_.size()));
  to_id_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (text(static_cast<Token>(i)).empty()) continue;  // unreachable by text
    to_id_.put(text(static_cast<Token>(i)), static_cast<Token>(i), TextOf{this});
  }
}

// Scores (NaN = never chosen) and token types (0..6).
Status VocabTokenizer::load_types(const VocabData& d) {
  const size_t n = d.tokens.size();
  scores_.assign(n, 0.0f);
  for (size_t i = 0; i < d.scores.size(); ++i)
    scores_[i] = std::isnan(d.scores[i]) ? -std::numeric_limits<float>::infinity() : d.scores[i];
  types_.assign(n, static_cast<uint8_t>(TokenType::normal));
  for (size_t i = 0; i < d.types.size(); ++i) {
    if (d.types[i] < 0 || d.types[i] > 6)
      return corrupt("tokenizer.ggml.token_type[" + std::to_string(i) +
                     "] = " + std::to_string(d.types[i]) + " is not a token type (0..6)");
    types_[i] = static_cast<uint8_t>(d.types[i]);
  }

  return ok_status();
}

// Special ids from the file (out-of-range ids are ignored with a warning, as they cannot be
// emitted), the SentencePiece defaults, EOT/EOM found by text, and the add_* flags.
void VocabTokenizer::set_special_ids(VocabData& d) {
  const size_t n = d.tokens.size();
  auto check_id = [&](const std::optional<Token>& id, const char* key) -> Token {
    if (!id) return -1;
    if (*id < 0 || static_cast<size_t>(*id) >= n) {
      NIBBLE_LOG_WARN("tokenizer: {} = {} is outside the vocabulary (n = {}); ignored", key, *id,
                      n);
      return -1;
    }
    return *id;
  };
  const bool spm = kind_ == TokenizerKind::spm;
  // SentencePiece files written before these keys existed use the Llama ids.
  auto spm_default = [&](Token id) -> std::optional<Token> {
    return spm && static_cast<size_t>(id) < n ? std::optional<Token>(id) : std::nullopt;
  };
  bos_ = check_id(d.bos ? d.bos : spm_default(1), "tokenizer.ggml.bos_token_id");
  eos_ = check_id(d.eos ? d.eos : spm_default(2), "tokenizer.ggml.eos_token_id");
  unk_ = check_id(d.unk ? d.unk : spm_default(0), "tokenizer.ggml.unknown_token_id");
  eot_ = check_id(d.eot, "tokenizer.ggml.eot_token_id");
  eom_ = check_id(d.eom, "tokenizer.ggml.eom_token_id");
  pad_ = check_id(d.pad, "tokenizer.ggml.padding_token_id");
  if (eot_ < 0) {
    for (auto s : kEotTexts) {
      if (Token id = find(s); id >= 0) {
        eot_ = id;
        break;
      }
    }
  }
  if (eom_ < 0) eom_ = find("<|eom_id|>");
  add_eos_ = d.add_eos.value_or(false);
  add_space_prefix_ = spm && d.add_space_prefix.value_or(true);
  chat_template_ = std::move(d.chat_template);
}

// Which tokens are "special": control and unknown types, plus the ids the file names (some
// vocabularies, e.g. GPT-2's, mark <|endoftext|> as a normal token); which ordinary text may
// produce; which end generation.
void VocabTokenizer::classify_tokens() {
  const size_t n = types_.size();
  hidden_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    auto ty = static_cast<TokenType>(types_[i]);
    hidden_[i] = ty == TokenType::control || ty == TokenType::unknown;
  }
  for (Token id : {bos_, eos_, eot_, eom_, pad_, unk_})
    if (id >= 0) hidden_[id] = 1;
  matchable_.assign(n, 1);
  for (size_t i = 0; i < n; ++i) {
    auto ty = static_cast<TokenType>(types_[i]);
    matchable_[i] =
        !(ty == TokenType::control || ty == TokenType::unknown || ty == TokenType::byte);
  }
  eog_.assign(n, 0);
  for (Token id : {eos_, eot_, eom_})
    if (id >= 0) eog_[id] = 1;
  for (auto s : kEogTexts)
    if (Token id = find(s); id >= 0) eog_[id] = 1;
}

// Tokens matched in raw text: user-defined always, the special ones with parse_special.
void VocabTokenizer::build_special_trie(const VocabData& d) {
  const size_t n = types_.size();
  const bool spm = kind_ == TokenizerKind::spm;
  std::vector<Token> order;
  for (size_t i = 0; i < n; ++i) {
    auto ty = static_cast<TokenType>(types_[i]);
    bool user = ty == TokenType::user_defined;
    if ((user || hidden_[i]) && !text(static_cast<Token>(i)).empty())
      order.push_back(static_cast<Token>(i));
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](Token a, Token b) { return text(a).size() > text(b).size(); });
  // Phi-3's added tokens strip the whitespace that follows them (rstrip in its
  // tokenizer.json), except <unk>, <s> and <|endoftext|>; llama.cpp recognizes the model by name.
  std::string lname = d.name;
  for (char& c : lname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool phi3 = spm && (d.architecture == "phi3" || lname.find("phi-3") != std::string::npos ||
                            lname.find("phi3") != std::string::npos);
  for (Token id : order) {
    bool always = static_cast<TokenType>(types_[id]) == TokenType::user_defined;
    std::string_view s = text(id);
    bool rstrip = phi3 && s != "<unk>" && s != "<s>" && s != "<|endoftext|>";
    uint32_t node = 0;
    for (size_t k = 0; k < s.size(); ++k) {
      auto b = static_cast<uint8_t>(s[k]);
      uint32_t* slot = nullptr;
      if (node == 0) {
        slot = &trie_root_[b];
      } else {
        auto [it, fresh] = trie_edges_.try_emplace((uint64_t{node} << 8) | b, 0);
        slot = &it->second;
      }
      if (*slot == 0) {
        *slot = static_cast<uint32_t>(trie_.size());
        trie_.push_back({});
      }
      node = *slot;
    }
    if (trie_[node].entry.id < 0) trie_[node].entry = {id, always, false, rstrip};
    have_specials_ = true;
    have_always_specials_ |= always;
  }
}

// Whether every matchable piece holding an inner "▁" consists only of "▁"s (then SentencePiece
// input may be split into words first).
void VocabTokenizer::detect_spm_word_split() {
  const size_t n = types_.size();
  spm_word_split_ = true;
  const std::string_view space = "\xE2\x96\x81";
  for (size_t i = 0; i < n && spm_word_split_; ++i) {
    std::string_view s = text(static_cast<Token>(i));
    if (!matchable_[i] || s.find(space, 1) == std::string_view::npos) continue;
    for (size_t k = 0; k < s.size(); k += 3)
      if (s.compare(k, 3, space) != 0) spm_word_split_ = false;
  }
}

// SentencePiece byte tokens: <0xNN>, else the single-byte piece.
void VocabTokenizer::find_spm_byte_tokens() {
  byte_tok_.fill(-1);
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    char buf[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
    Token id = find(buf);
    if (id < 0) id = find(std::string_view(reinterpret_cast<const char*>(&b), 1));
    byte_tok_[b] = id;
  }
}

// Byte-level BPE: the pre-tokenizer, the token of each mapped byte and the merge ranks.
Status VocabTokenizer::load_bpe(const VocabData& d) {
  byte_tok_.fill(-1);
  auto pre = pre_tokenizer_for(d.pre.empty() ? "default" : d.pre);
  if (!pre.ok()) return std::move(pre).error();
  if (d.pre.empty())
    NIBBLE_LOG_WARN("tokenizer: no tokenizer.ggml.pre in the file; using 'default'");
  pre_ = std::move(pre).value();
  for (int b = 0; b < 256; ++b) {
    std::string s;
    utf8_append(&s, byte_to_cp(static_cast<uint8_t>(b)));
    // Only an ordinary token stands for a byte: DeepSeek Coder's vocabulary adds the mapped
    // characters of bytes it lacks (õ, ÷, ...) as user-defined tokens, which decode as the
    // text they show, not as the byte.
    Token id = find(s);
    auto ty = id >= 0 ? static_cast<TokenType>(types_[id]) : TokenType::undefined;
    bool ordinary =
        ty == TokenType::normal || ty == TokenType::undefined || ty == TokenType::unused;
    byte_tok_[b] = ordinary ? id : -1;
  }
  if (d.merges.empty()) return corrupt("tokenizer.ggml.merges is missing or empty (BPE)");
  merges_.reserve(d.merges.size());
  size_t skipped = 0;
  std::string joined;
  for (size_t r = 0; r < d.merges.size(); ++r) {
    const std::string& m = d.merges[r];
    size_t sp = m.find(' ', 1);
    if (sp == std::string::npos || sp + 1 >= m.size()) {
      return corrupt("tokenizer.ggml.merges[" + std::to_string(r) + "] = '" + m.substr(0, 64) +
                     "' is not 'left right'");
    }
    std::string_view l(m.data(), sp), rr(m.data() + sp + 1, m.size() - sp - 1);
    joined.assign(l);
    joined += rr;
    Token a = find(l), b = find(rr), c = find(joined);
    if (a < 0 || b < 0 || c < 0) {
      ++skipped;  // a merge whose parts or result are not tokens can never be emitted
      continue;
    }
    merges_.put_first((uint64_t(uint32_t(a)) << 32) | uint32_t(b), {static_cast<int32_t>(r), c});
  }
  if (skipped)
    NIBBLE_LOG_DEBUG("tokenizer: {} merges name pieces that are not tokens; ignored", skipped);
  return ok_status();
}

// Decoded pieces (what token_to_piece returns).
void VocabTokenizer::build_pieces() {
  const size_t n = types_.size();
  const bool spm = kind_ == TokenizerKind::spm;
  piece_off_.reserve(n + 1);
  piece_.reserve(text_.size());
  for (size_t i = 0; i < n; ++i) {
    piece_off_.push_back(static_cast<uint32_t>(piece_.size()));
    std::string_view s = text(static_cast<Token>(i));
    auto ty = static_cast<TokenType>(types_[i]);
    if (ty == TokenType::control || ty == TokenType::unknown || ty == TokenType::user_defined) {
      piece_ += s;
    } else if (spm) {
      unsigned v = 0;
      if (ty == TokenType::byte && s.size() == 6 && s.substr(0, 3) == "<0x" && s[5] == '>' &&
          std::isxdigit(static_cast<unsigned char>(s[3])) &&
          std::isxdigit(static_cast<unsigned char>(s[4]))) {
        v = static_cast<unsigned>(std::stoul(std::string(s.substr(3, 2)), nullptr, 16));
        piece_.push_back(static_cast<char>(v));
      } else {
        // "▁" (U+2581) stands for a space.
        for (size_t k = 0; k < s.size();) {
          if (s.compare(k, 3, "\xE2\x96\x81") == 0) {
            piece_.push_back(' ');
            k += 3;
          } else {
            piece_.push_back(s[k++]);
          }
        }
      }
    } else {
      // Byte-level: every code point stands for one byte; anything else is kept as UTF-8.
      for (size_t k = 0; k < s.size();) {
        uint32_t cp;
        size_t len = utf8_next(s, k, &cp);
        int b = cp == kInvalidCp ? -1 : cp_to_byte(cp);
        if (b >= 0)
          piece_.push_back(static_cast<char>(b));
        else
          piece_.append(s.substr(k, len));
        k += len;
      }
    }
  }
  piece_off_.push_back(static_cast<uint32_t>(piece_.size()));
}

void VocabTokenizer::partition(std::string_view text, bool parse_special,
                               std::vector<Fragment>* out) const {
  out->clear();
  if (!(parse_special ? have_specials_ : have_always_specials_)) {
    if (!text.empty()) out->push_back({-1, 0, text.size()});
    return;
  }
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  };
  size_t raw = 0;
  for (size_t pos = 0; pos < text.size();) {
    const SpecialEntry* hit = match_special(text, pos, parse_special);
    if (!hit) {
      ++pos;
      continue;
    }
    size_t raw_end = pos;
    if (hit->lstrip)
      while (raw_end > raw && is_space(text[raw_end - 1])) --raw_end;
    if (raw < raw_end) out->push_back({-1, raw, raw_end - raw});
    out->push_back({hit->id, pos, this->text(hit->id).size()});
    pos += this->text(hit->id).size();
    if (hit->rstrip)
      while (pos < text.size() && is_space(text[pos])) ++pos;
    raw = pos;
  }
  if (raw < text.size()) out->push_back({-1, raw, text.size() - raw});
}

const VocabTokenizer::SpecialEntry* VocabTokenizer::match_special(std::string_view text, size_t pos,
                                                                  bool parse_special) const {
  uint32_t node = trie_root_[static_cast<uint8_t>(text[pos])];
  const SpecialEntry* best = nullptr;  // the longest eligible token starting at pos
  for (size_t k = pos + 1; node != 0; ++k) {
    const SpecialEntry& e = trie_[node].entry;
    if (e.id >= 0 && (e.always || parse_special)) best = &e;
    if (k >= text.size()) break;
    auto it = trie_edges_.find((uint64_t{node} << 8) | static_cast<uint8_t>(text[k]));
    node = it == trie_edges_.end() ? 0 : it->second;
  }
  return best;
}

Result<std::vector<Token>> VocabTokenizer::encode(std::string_view text,
                                                  const EncodeOptions& options) const {
  if (text.size() > (size_t{1} << 31))
    return Error(ErrorCode::invalid_argument,
                 "text to tokenize is " + std::to_string(text.size()) + " bytes (limit 2 GiB)");
  std::vector<Token> out;
  out.reserve(text.size() / 3 + 4);
  if (options.add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
  std::vector<Fragment> frags;
  partition(text, options.parse_special, &frags);
  bool prev_special = true;  // SPM: the first fragment and those after a special get "▁"
  for (const Fragment& f : frags) {
    if (f.token >= 0) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    std::string_view raw = text.substr(f.offset, f.length);
    if (kind_ == TokenizerKind::spm) {
      encode_spm(raw, add_space_prefix_ && prev_special, &out);
    } else {
      encode_bpe(raw, &out);
    }
    prev_special = false;
  }
  if (options.add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
  return out;
}

void VocabTokenizer::push_byte(uint8_t b, std::vector<Token>* out) const {
  if (byte_tok_[b] >= 0)
    out->push_back(byte_tok_[b]);
  else if (unk_ >= 0)
    out->push_back(unk_);
}

std::string VocabTokenizer::token_to_piece(Token token, bool special) const {
  if (token < 0 || token >= n_vocab()) return {};
  if (hidden_[token] && !special) return {};
  return piece_.substr(piece_off_[token], piece_off_[token + 1] - piece_off_[token]);
}

std::string VocabTokenizer::decode(std::span<const Token> tokens, bool skip_special) const {
  std::string out;
  bool strip = strips_leading_space();
  for (size_t i = 0; i < tokens.size(); ++i) {
    Token t = tokens[i];
    if (strip && t == bos_ && bos_ >= 0) {
      if (!skip_special) out += token_to_piece(t, true);
      continue;  // the prefix space rule applies to the piece after leading BOS tokens
    }
    std::string p = token_to_piece(t, !skip_special);
    if (strip && !p.empty() && p[0] == ' ') p.erase(0, 1);
    strip = false;
    out += p;
  }
  return out;
}

bool VocabTokenizer::is_end_of_generation(Token token) const {
  return token >= 0 && token < n_vocab() && eog_[token];
}

bool VocabTokenizer::is_special(Token token) const {
  return token >= 0 && token < n_vocab() && hidden_[token];
}

Result<Token> VocabTokenizer::token_id(std::string_view piece) const {
  Token id = find(piece);
  if (id < 0)
    return Error(ErrorCode::invalid_argument,
                 "no token '" + std::string(piece.substr(0, 64)) + "' in the vocabulary");
  return id;
}

}  // namespace nibble::tok

namespace nibble {
Result<std::shared_ptr<Tokenizer>> tokenizer_from_vocab(VocabData data) {
  return tok::VocabTokenizer::create(std::move(data));
}
}  // namespace nibble
