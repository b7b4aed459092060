// Base-logits file for `nibble perplexity --save-logits` / `--kl-divergence` (perplexity_kl.h).
#include "perplexity_kl.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

namespace nibble::cli::kl {
namespace {

static_assert(std::endian::native == std::endian::little, "the file is written little-endian");

constexpr char kMagic[8] = {'N', 'B', 'K', 'L', 'B', 'A', 'S', 'E'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 56;
constexpr size_t kChecksumOffset = 48;
constexpr uint32_t kMaxVocab = 1u << 24;
constexpr uint32_t kMaxCtx = 1u << 20;

uint64_t fnv1a(uint64_t h, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;

uint32_t get_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

Error bad(const std::string& path, const std::string& what) {
  return Error(ErrorCode::corrupt_metadata,
               fmt::format("{}: not a valid base-logits file: {}", path, what));
}

}  // namespace

void log_softmax(std::span<const float> logits, std::vector<float>* out) {
  out->resize(logits.size());
  float mx = -std::numeric_limits<float>::infinity();
  for (float v : logits) mx = std::max(mx, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  const double lse = mx + std::log(sum);
  for (size_t i = 0; i < logits.size(); ++i)
    (*out)[i] = static_cast<float>(static_cast<double>(logits[i]) - lse);
}

// ---- Writer -------------------------------------------------------------------------------

Writer::~Writer() {
  if (f_) {
    std::fclose(f_);
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
}

Status Writer::put(const void* p, size_t n) {
  if (std::fwrite(p, 1, n, f_) != n)
    return Error(ErrorCode::io_error, fmt::format("{}: write failed", tmp_));
  hash_ = fnv1a(hash_, static_cast<const uint8_t*>(p), n);
  return {};
}

Status Writer::open(const std::string& path, const Header& h, std::span<const Token> tokens) {
  path_ = path;
  tmp_ = path + ".tmp";
  if (tokens.size() != h.n_tokens())
    return Error(ErrorCode::internal, "base-logits writer: token count does not match");
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) return Error(ErrorCode::io_error, fmt::format("{}: cannot create", tmp_));
  uint8_t hdr[kHeaderBytes] = {};
  std::memcpy(hdr, kMagic, 8);
  const uint32_t fields[8] = {kVersion,   h.n_vocab, h.n_ctx, h.first, h.n_chunks, h.stride,
                              static_cast<uint32_t>(h.n_tokens()), h.bos_replaced ? 1u : 0u};
  std::memcpy(hdr + 8, fields, sizeof fields);
  const int32_t bos = h.bos;
  std::memcpy(hdr + 40, &bos, 4);
  if (std::fwrite(hdr, 1, kHeaderBytes, f_) != kHeaderBytes)
    return Error(ErrorCode::io_error, fmt::format("{}: write failed", tmp_));
  hash_ = kFnvOffset;
  std::vector<int32_t> ids(tokens.begin(), tokens.end());
  if (auto st = put(ids.data(), ids.size() * 4); !st.ok()) return st;
  n_vocab_ = h.n_vocab;
  rows_left_ = uint64_t{h.n_chunks} * h.rows_per_chunk();
  row_.resize(8 + 2 * size_t{n_vocab_});
  return {};
}

Status Writer::write_row(std::span<const float> logits) {
  if (!f_ || rows_left_ == 0 || logits.size() != n_vocab_)
    return Error(ErrorCode::internal, "base-logits writer: unexpected row");
  std::vector<float> lp;
  log_softmax(logits, &lp);
  float mn = 0, mx = -std::numeric_limits<float>::infinity();
  for (float v : lp) mx = std::max(mx, v);
  mn = mx;
  for (float v : lp)
    if (std::isfinite(v)) mn = std::min(mn, v);
  const float step = mx > mn ? (mx - mn) / 65535.0f : 0.0f;
  std::memcpy(row_.data(), &mn, 4);
  std::memcpy(row_.data() + 4, &step, 4);
  for (uint32_t i = 0; i < n_vocab_; ++i) {
    const float q = step > 0 && std::isfinite(lp[i]) ? std::round((lp[i] - mn) / step) : 0.0f;
    const uint16_t u = static_cast<uint16_t>(std::clamp(q, 0.0f, 65535.0f));
    std::memcpy(row_.data() + 8 + 2 * size_t{i}, &u, 2);
  }
  --rows_left_;
  return put(row_.data(), row_.size());
}

Status Writer::finish() {
  if (!f_ || rows_left_ != 0)
    return Error(ErrorCode::internal, "base-logits writer: rows missing at finish");
  const bool ok = std::fseek(f_, kChecksumOffset, SEEK_SET) == 0 &&
                  std::fwrite(&hash_, 1, 8, f_) == 8 && std::fflush(f_) == 0;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  std::error_code ec;
  if (!ok || !closed) {
    std::filesystem::remove(tmp_, ec);
    return Error(ErrorCode::io_error, fmt::format("{}: write failed", tmp_));
  }
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) {
    std::filesystem::remove(tmp_, ec);
    return Error(ErrorCode::io_error, fmt::format("{}: cannot rename into place", path_));
  }
  return {};
}

// ---- Reader -------------------------------------------------------------------------------

Reader::~Reader() {
  if (f_) std::fclose(f_);
}

Status Reader::open(const std::string& path) {
  path_ = path;
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) return Error(ErrorCode::io_error, fmt::format("{}: cannot open", path));
  uint8_t hdr[kHeaderBytes];
  if (std::fread(hdr, 1, kHeaderBytes, f_) != kHeaderBytes)
    return bad(path, "shorter than its 56-byte header");
  if (std::memcmp(hdr, kMagic, 8) != 0) return bad(path, "wrong magic (expected NBKLBASE)");
  if (get_u32(hdr + 8) != kVersion)
    return bad(path, fmt::format("version {} (this nibble reads 1)", get_u32(hdr + 8)));
  h_.n_vocab = get_u32(hdr + 12);
  h_.n_ctx = get_u32(hdr + 16);
  h_.first = get_u32(hdr + 20);
  h_.n_chunks = get_u32(hdr + 24);
  h_.stride = get_u32(hdr + 28);
  const uint32_t n_tokens = get_u32(hdr + 32);
  const uint32_t flags = get_u32(hdr + 36);
  int32_t bos;
  std::memcpy(&bos, hdr + 40, 4);
  uint64_t checksum;
  std::memcpy(&checksum, hdr + kChecksumOffset, 8);
  if (h_.n_vocab < 2 || h_.n_vocab > kMaxVocab)
    return bad(path, fmt::format("n_vocab {} outside [2, {}]", h_.n_vocab, kMaxVocab));
  if (h_.n_ctx < 2 || h_.n_ctx > kMaxCtx)
    return bad(path, fmt::format("n_ctx {} outside [2, {}]", h_.n_ctx, kMaxCtx));
  if (h_.first > h_.n_ctx - 2)
    return bad(path, fmt::format("first scored row {} not below n_ctx - 1", h_.first));
  if (h_.n_chunks < 1 || h_.n_chunks > kMaxCtx)
    return bad(path, fmt::format("n_chunks {} outside [1, {}]", h_.n_chunks, kMaxCtx));
  if (h_.stride >= h_.n_ctx) return bad(path, "stride not below n_ctx");
  if ((flags & ~1u) != 0 || get_u32(hdr + 44) != 0) return bad(path, "unknown flags");
  h_.bos_replaced = flags & 1u;
  if (bos < -1 || (bos >= 0 && static_cast<uint32_t>(bos) >= h_.n_vocab) ||
      (h_.bos_replaced && bos < 0))
    return bad(path, fmt::format("BOS id {} outside the vocabulary", bos));
  h_.bos = bos;
  if (h_.n_tokens() != n_tokens)
    return bad(path, fmt::format("{} token ids where {} windows of {} need {}", n_tokens,
                                 h_.n_chunks, h_.n_ctx, h_.n_tokens()));
  // Everything below is < 2^24 * 2^20 * ... : compute the size in u64 with care.
  const uint64_t row_bytes = 8 + 2 * uint64_t{h_.n_vocab};
  const uint64_t rows = uint64_t{h_.n_chunks} * h_.rows_per_chunk();
  if (rows > std::numeric_limits<uint64_t>::max() / row_bytes) return bad(path, "size overflows");
  const uint64_t expect = kHeaderBytes + 4 * uint64_t{n_tokens} + rows * row_bytes;
  std::error_code ec;
  const uint64_t actual = std::filesystem::file_size(path, ec);
  if (ec) return Error(ErrorCode::io_error, fmt::format("{}: cannot stat", path));
  if (actual != expect)
    return bad(path, fmt::format("{} bytes where the header implies {}", actual, expect));
  // Checksum over the payload before anything in it is used.
  std::vector<uint8_t> buf(1 << 20);
  uint64_t h = kFnvOffset;
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), f_)) > 0;) h = fnv1a(h, buf.data(), n);
  if (std::ferror(f_)) return Error(ErrorCode::io_error, fmt::format("{}: read failed", path));
  if (h != checksum) return bad(path, "checksum mismatch (the file is damaged)");
  if (std::fseek(f_, kHeaderBytes, SEEK_SET) != 0)
    return Error(ErrorCode::io_error, fmt::format("{}: seek failed", path));
  std::vector<int32_t> ids(n_tokens);
  if (std::fread(ids.data(), 4, n_tokens, f_) != n_tokens)
    return Error(ErrorCode::io_error, fmt::format("{}: read failed", path));
  tokens_.assign(ids.begin(), ids.end());
  for (size_t i = 0; i < tokens_.size(); ++i)
    if (tokens_[i] < 0 || static_cast<uint32_t>(tokens_[i]) >= h_.n_vocab)
      return bad(path, fmt::format("token {} at index {} outside the vocabulary", tokens_[i], i));
  row_.resize(row_bytes);
  return {};
}

Status Reader::read_row(std::vector<float>* logp) {
  if (!f_ || std::fread(row_.data(), 1, row_.size(), f_) != row_.size())
    return Error(ErrorCode::io_error, fmt::format("{}: read failed", path_));
  float mn, step;
  std::memcpy(&mn, row_.data(), 4);
  std::memcpy(&step, row_.data() + 4, 4);
  if (!std::isfinite(mn) || !std::isfinite(step) || step < 0 || mn > 0.01f)
    return bad(path_, "a row's scale is not a valid log-probability range");
  logp->resize(h_.n_vocab);
  double sum = 0;
  float top = -std::numeric_limits<float>::infinity();
  for (uint32_t i = 0; i < h_.n_vocab; ++i) {
    uint16_t q;
    std::memcpy(&q, row_.data() + 8 + 2 * size_t{i}, 2);
    (*logp)[i] = mn + step * q;
    top = std::max(top, (*logp)[i]);
    sum += std::exp(static_cast<double>((*logp)[i]));
  }
  // The most likely token has log p in [-log(n_vocab), 0]; anything else is not a
  // distribution.
  if (!(sum > 0) || top > 0.01f || top < -std::log(static_cast<float>(h_.n_vocab)) - 0.01f)
    return bad(path_, "a row is not a probability distribution");
  const float norm = static_cast<float>(std::log(sum));  // undo the rounding's drift from 1
  for (auto& v : *logp) v -= norm;
  return {};
}

}  // namespace nibble::cli::kl
