// StreamDecoder: emits only complete UTF-8 characters. Bytes that can still become a valid
// character wait in `pending_`; a byte that cannot (stray continuation, invalid lead, a broken
// sequence) comes out as U+FFFD right away, one U+FFFD per maximal invalid subpart.
#include "nibble/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"

namespace nibble {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length a lead byte announces and the allowed range of the second byte; 0 when invalid.
int lead_info(uint8_t b, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) {
    if (b == 0xE0) *lo = 0xA0;
    if (b == 0xED) *hi = 0x9F;
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (b == 0xF0) *lo = 0x90;
    if (b == 0xF4) *hi = 0x8F;
    return 4;
  }
  return 0;
}

// Move the complete part of `pending` to the output; keep an incomplete valid tail unless
// `final`, in which case it becomes U+FFFD.
std::string drain(std::string* pending, bool final) {
  std::string out;
  const auto* p = reinterpret_cast<const uint8_t*>(pending->data());
  const size_t n = pending->size();
  size_t i = 0;
  while (i < n) {
    uint8_t lo, hi;
    int len = lead_info(p[i], &lo, &hi);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (len == 1) {
      out.push_back(static_cast<char>(p[i++]));
      continue;
    }
    int k = 1;
    while (k < len && i + k < n) {
      uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (p[i + k] < l || p[i + k] > h) break;
      ++k;
    }
    if (k == len) {
      out.append(pending->data() + i, len);
      i += len;
    } else if (i + k == n && !final) {
      break;  // a valid prefix: wait for more bytes
    } else {
      out += kReplacement;  // the maximal valid prefix, then resume at the offending byte
      i += k;
    }
  }
  pending->erase(0, i);
  return out;
}

}  // namespace

StreamDecoder::StreamDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special)
    : tok_(std::move(tokenizer)), skip_special_(skip_special) {}

std::string StreamDecoder::push(Token token) {
  if (!tok_) return {};
  std::string piece = tok_->token_to_piece(token, !skip_special_);
  if (first_) {
    // The SPM prefix-space rule, as decode() applies it: a leading BOS does not count.
    bool leading_bos = token == tok_->bos() && token >= 0;
    if (!leading_bos) {
      first_ = false;
      const auto* impl = dynamic_cast<const tok::VocabTokenizer*>(tok_.get());
      if (impl && impl->strips_leading_space() && !piece.empty() && piece[0] == ' ')
        piece.erase(0, 1);
    }
  }
  pending_ += piece;
  return drain(&pending_, false);
}

std::string StreamDecoder::flush() {
  std::string out = drain(&pending_, true);
  pending_.clear();
  return out;
}

void StreamDecoder::reset() {
  pending_.clear();
  first_ = true;
}

}  // namespace nibble
