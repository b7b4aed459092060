// Session state save / restore: a prompt cache on disk or in memory.
//
// Format (little-endian, version 1):
//   "NIBSTATE" | u32 version | u32 kv_type (0 f16, 1 q8_0) | u64 model fingerprint |
//   u32 n_ctx | u32 n_tokens | u32 n_logits (0 or n_vocab) | u32 reserved (0) |
//   i32 tokens[n_tokens] | f32 logits[n_logits] | u64 kv_bytes | kv bytes
// Everything is checked on load: the state is untrusted input.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "api/impl.h"
#include "gguf/gguf.h"

namespace nibble {
namespace {

constexpr char kMagic[8] = {'N', 'I', 'B', 'S', 'T', 'A', 'T', 'E'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 4 * 4;

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

// Bounds-checked reader over the untrusted bytes.
struct Reader {
  std::span<const uint8_t> b;
  size_t at = 0;
  bool take(void* dst, size_t n) {
    if (n > b.size() - at) return false;
    std::memcpy(dst, b.data() + at, n);
    at += n;
    return true;
  }
  template <typename T>
  bool get(T* v) {
    return take(v, sizeof(T));
  }
};

Error bad_state(const std::string& what) {
  return Error(ErrorCode::invalid_argument, "session state: " + what);
}

}  // namespace

uint64_t model_fingerprint(const Model::Impl& model) {
  const gguf::File& f = *model.model->file;
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  mix(f.base(), static_cast<size_t>(std::min<uint64_t>(f.data_offset(), f.file_size())));
  const uint64_t size = f.file_size();
  mix(reinterpret_cast<const uint8_t*>(&size), sizeof(size));
  return h;
}

Result<std::vector<uint8_t>> Session::save_state() const {
  if (!impl_) return moved_from_session();
  // Unverified speculative drafts are not part of the state: forgetting them changes nothing
  // a generation in progress will produce (its next token is then sampled without a draft).
  impl_->drop_drafts();
  const Impl& m = *impl_;
  const auto logits = this->logits();
  const int n = m.ctx->n_past();
  const size_t kv = m.ctx->kv_state_bytes(n);
  std::vector<uint8_t> out;
  try {
    out.reserve(kHeaderBytes + n * sizeof(Token) + logits.size() * sizeof(float) + 8 + kv);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::out_of_memory, "cannot allocate the session state");
  }
  out.resize(sizeof(kMagic));
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, m.ctx->kv_q8_0() ? 1 : 0);
  put<uint64_t>(out, model_fingerprint(*m.model));
  put<uint32_t>(out, static_cast<uint32_t>(m.ctx->n_ctx()));
  put<uint32_t>(out, static_cast<uint32_t>(n));
  put<uint32_t>(out, static_cast<uint32_t>(logits.size()));
  put<uint32_t>(out, 0);
  for (Token t : m.cached) put<int32_t>(out, t);
  for (float x : logits) put<float>(out, x);
  put<uint64_t>(out, kv);
  const size_t at = out.size();
  out.resize(at + kv);
  m.ctx->save_kv_state(out.data() + at);
  return out;
}

Status Session::load_state(std::span<const uint8_t> state) {
  if (!impl_) return moved_from_session();
  Impl& m = *impl_;
  Reader r{state};
  char magic[8];
  uint32_t version = 0, kv_type = 0, n_ctx = 0, n_tokens = 0, n_logits = 0, reserved = 0;
  uint64_t fingerprint = 0, kv_bytes = 0;
  if (!r.take(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
    return bad_state("not a nibble session state (bad magic)");
  if (!r.get(&version) || version != kVersion)
    return Error(ErrorCode::state_mismatch,
                 "session state: format version " + std::to_string(version) + ", this build reads " +
                     std::to_string(kVersion));
  if (!r.get(&kv_type) || !r.get(&fingerprint) || !r.get(&n_ctx) || !r.get(&n_tokens) ||
      !r.get(&n_logits) || !r.get(&reserved))
    return bad_state("truncated header");
  if (kv_type > 1 || reserved != 0) return bad_state("corrupt header");
  if (fingerprint != model_fingerprint(*m.model))
    return Error(ErrorCode::state_mismatch, "session state: saved from another model file");
  if (kv_type != (m.ctx->kv_q8_0() ? 1u : 0u))
    return Error(ErrorCode::state_mismatch,
                 std::string("session state: KV cache type ") + (kv_type ? "q8_0" : "f16") +
                     ", this session uses " + (m.ctx->kv_q8_0() ? "q8_0" : "f16"));
  if (n_ctx != static_cast<uint32_t>(m.ctx->n_ctx()))
    return Error(ErrorCode::state_mismatch,
                 "session state: saved with n_ctx " + std::to_string(n_ctx) +
                     ", this session has n_ctx " + std::to_string(m.ctx->n_ctx()));
  if (n_tokens > n_ctx) return bad_state("more tokens than the context holds");
  if (n_logits != 0 && n_logits != static_cast<uint32_t>(m.ctx->n_vocab()))
    return bad_state("logits of length " + std::to_string(n_logits) + ", n_vocab is " +
                     std::to_string(m.ctx->n_vocab()));
  std::vector<Token> tokens(n_tokens);
  std::vector<float> logits(n_logits);
  if (!r.take(tokens.data(), tokens.size() * sizeof(Token)) ||
      !r.take(logits.data(), logits.size() * sizeof(float)) || !r.get(&kv_bytes))
    return bad_state("truncated before the KV cache");
  for (Token t : tokens)
    if (t < 0 || t >= m.ctx->n_vocab()) return bad_state("token id " + std::to_string(t) + " outside the vocabulary");
  const size_t expect = m.ctx->kv_state_bytes(static_cast<int>(n_tokens));
  if (kv_bytes != expect)
    return bad_state("KV cache of " + std::to_string(kv_bytes) + " bytes, expected " +
                     std::to_string(expect));
  if (state.size() - r.at != expect)
    return bad_state(std::to_string(state.size() - r.at) + " bytes of KV data, expected " +
                     std::to_string(expect));
  m.active = false;
  m.draft.clear();
  m.next_draft = 0;
  m.row = -1;
  Status st = m.ctx->load_kv_state(static_cast<int>(n_tokens), state.subspan(r.at), logits);
  if (!st.ok()) {
    m.ctx->truncate(0);
    m.cached.clear();
    m.have_logits = false;
    return st;
  }
  m.cached = std::move(tokens);
  m.have_logits = n_logits != 0;
  return ok_status();
}

Status Session::save_state_file(const std::string& path) const {
  NIBBLE_ASSIGN_OR_RETURN(auto bytes, save_state());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error(ErrorCode::io_error, "cannot write " + tmp);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      return Error(ErrorCode::io_error, "writing " + tmp + " failed (disk full?)");
    }
  }
  // std::filesystem::rename replaces an existing file on Windows too (std::rename does not).
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return Error(ErrorCode::io_error, "cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
  return ok_status();
}

Status Session::load_state_file(const std::string& path) {
  if (!impl_) return moved_from_session();
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(ErrorCode::io_error, "cannot open " + path);
  std::vector<uint8_t> bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::out_of_memory, "cannot read " + path + " into memory");
  }
  if (f.bad()) return Error(ErrorCode::io_error, "reading " + path + " failed");
  Status st = load_state(bytes);
  if (!st.ok()) return Error(st.error().code(), path + ": " + st.error().message());
  return ok_status();
}

}  // namespace nibble
