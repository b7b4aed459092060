// Config from GGUF keys. Keys follow llama.cpp's naming (`<arch>.embedding_length`, ...);
// optional keys fall back to the architecture's documented default.
#include "model/config.h"

#include <cmath>
#include <string>

namespace nibble::model {

std::string_view arch_name(Arch a) {
  switch (a) {
    case Arch::llama:
      return "llama";
    case Arch::qwen2:
      return "qwen2";
    case Arch::qwen3:
      return "qwen3";
    case Arch::gemma2:
      return "gemma2";
    case Arch::gemma3:
      return "gemma3";
    case Arch::phi3:
      return "phi3";
    case Arch::bitnet:
      return "bitnet";
  }
  return "?";
}

namespace {

// Upper bound on any dimension: far above real models, low enough that products of two of
// them cannot overflow int64 and allocation sizes stay sane.
constexpr int64_t kMaxDim = int64_t{1} << 24;

Result<int64_t> dim(const gguf::File& f, const std::string& key, int64_t fallback, bool required) {
  if (!f.find(key)) {
    if (required) return Error(ErrorCode::missing_key, "missing key " + key);
    return fallback;
  }
  auto v = f.get_uint(key);
  if (!v.ok()) return Error(ErrorCode::corrupt_metadata, key + ": " + v.error().message());
  if (*v == 0 || *v > static_cast<uint64_t>(kMaxDim))
    return Error(ErrorCode::corrupt_metadata,
                 key + " = " + std::to_string(*v) + " is out of range");
  return static_cast<int64_t>(*v);
}

Result<float> real(const gguf::File& f, const std::string& key, float fallback) {
  auto v = f.get_float_or(key, fallback);
  if (!v.ok()) return Error(ErrorCode::corrupt_metadata, key + ": " + v.error().message());
  if (!std::isfinite(*v)) return Error(ErrorCode::corrupt_metadata, key + " is not finite");
  return static_cast<float>(*v);
}

// RoPE scaling keys. Types: none, linear, yarn (factor, original context, betas, attention
// factor), longrope (needs the factor tensors; the loader checks them). Anything else, or a
// value out of range, is refused with the key's name rather than silently computed wrong.
Status read_rope_scaling(const gguf::File& f, const std::string& a, Config& c) {
  const std::string p = a + ".rope.scaling.";
  auto st = f.get_string_or(p + "type", "");
  if (!st.ok()) return Error(ErrorCode::corrupt_metadata, p + "type: " + st.error().message());
  const std::string type(*st);
  // Factor: the key, or the old `rope.scale_linear`; absent = 1.
  float factor = 1.0f;
  const bool has_factor = f.find(p + "factor") != nullptr;
  if (has_factor) {
    NIBBLE_ASSIGN_OR_RETURN(factor, real(f, p + "factor", 1.0f));
  } else if (f.find(a + ".rope.scale_linear")) {
    NIBBLE_ASSIGN_OR_RETURN(factor, real(f, a + ".rope.scale_linear", 1.0f));
  }
  if (!(factor > 0.0f) || factor > 1e6f)
    return Error(ErrorCode::corrupt_metadata,
                 p + "factor = " + std::to_string(factor) + " is out of range (0, 1e6]");
  NIBBLE_ASSIGN_OR_RETURN(c.rope_ctx_orig,
                          dim(f, p + "original_context_length", c.n_ctx_train, false));
  if (f.find(p + "attn_factor")) {
    NIBBLE_ASSIGN_OR_RETURN(c.rope_attn_factor, real(f, p + "attn_factor", 1.0f));
    if (!(c.rope_attn_factor > 0.0f) || c.rope_attn_factor > 100.0f)
      return Error(
          ErrorCode::corrupt_metadata,
          p + "attn_factor = " + std::to_string(c.rope_attn_factor) + " is out of range (0, 100]");
    c.rope_attn_factor_key = true;
  }
  if (type.empty() || type == "linear") {
    // llama.cpp's default type is linear: a factor key without a type scales linearly.
    c.rope_scaling = factor != 1.0f ? RopeScaling::linear : RopeScaling::none;
    c.rope_freq_scale = 1.0f / factor;
  } else if (type == "none") {
    c.rope_scaling = RopeScaling::none;  // "never scale", whatever the factor says
  } else if (type == "yarn") {
    if (!has_factor)
      return Error(ErrorCode::missing_key, "missing key " + p + "factor (needed by YaRN)");
    c.rope_scaling = RopeScaling::yarn;
    c.rope_freq_scale = 1.0f / factor;
    NIBBLE_ASSIGN_OR_RETURN(c.yarn_beta_fast, real(f, p + "yarn_beta_fast", 32.0f));
    NIBBLE_ASSIGN_OR_RETURN(c.yarn_beta_slow, real(f, p + "yarn_beta_slow", 1.0f));
    if (!(c.yarn_beta_fast > 0.0f) || !(c.yarn_beta_slow > 0.0f) ||
        c.yarn_beta_slow > c.yarn_beta_fast)
      return Error(ErrorCode::corrupt_metadata,
                   p + "yarn_beta_fast / yarn_beta_slow must be positive with beta_slow <= "
                       "beta_fast");
    if (f.find(p + "yarn_log_multiplier") || f.find(p + "yarn_ext_factor"))
      return Error(ErrorCode::unsupported_architecture,
                   "unsupported YaRN variant (" + p + "yarn_log_multiplier / yarn_ext_factor)");
    if (!c.rope_attn_factor_key)
      c.rope_attn_factor = factor > 1.0f ? 0.1f * std::log(factor) + 1.0f : 1.0f;
  } else if (type == "longrope") {
    if (has_factor && factor != 1.0f)
      return Error(ErrorCode::unsupported_architecture,
                   "unsupported rope scaling: longrope with " + p + "factor != 1");
    c.rope_scaling = RopeScaling::longrope;  // the loader requires the factor tensors
  } else {
    return Error(ErrorCode::unsupported_architecture,
                 "unsupported rope scaling type '" + type + "' (" + p +
                     "type; supported: none, linear, yarn, longrope)");
  }
  return ok_status();
}

}  // namespace

Result<Config> read_config(const gguf::File& f) {
  Config c;
  auto an = f.get_string("general.architecture");
  if (!an.ok()) return Error(ErrorCode::missing_key, "missing key general.architecture");
  c.arch_name = std::string(*an);
  const std::string& a = c.arch_name;
  if (a == "llama")
    c.arch = Arch::llama;
  else if (a == "qwen2")
    c.arch = Arch::qwen2;
  else if (a == "qwen3")
    c.arch = Arch::qwen3;
  else if (a == "gemma2")
    c.arch = Arch::gemma2;
  else if (a == "gemma3")
    c.arch = Arch::gemma3;
  else if (a == "phi3")
    c.arch = Arch::phi3;
  else if (a == "bitnet")
    c.arch = Arch::bitnet;
  else
    return Error(ErrorCode::unsupported_architecture, "unsupported architecture '" + a + "'");

  NIBBLE_ASSIGN_OR_RETURN(c.n_embd, dim(f, a + ".embedding_length", 0, true));
  NIBBLE_ASSIGN_OR_RETURN(c.n_layer, dim(f, a + ".block_count", 0, true));
  NIBBLE_ASSIGN_OR_RETURN(c.n_ff, dim(f, a + ".feed_forward_length", 0, true));
  NIBBLE_ASSIGN_OR_RETURN(c.n_head, dim(f, a + ".attention.head_count", 0, true));
  NIBBLE_ASSIGN_OR_RETURN(c.n_head_kv, dim(f, a + ".attention.head_count_kv", c.n_head, false));
  NIBBLE_ASSIGN_OR_RETURN(c.n_ctx_train, dim(f, a + ".context_length", 2048, false));
  if (c.n_layer > 4096) return Error(ErrorCode::corrupt_metadata, a + ".block_count too large");
  if (c.n_embd % c.n_head != 0 && !f.find(a + ".attention.key_length"))
    return Error(ErrorCode::corrupt_metadata,
                 a + ".embedding_length is not a multiple of " + a + ".attention.head_count");
  NIBBLE_ASSIGN_OR_RETURN(c.head_dim,
                          dim(f, a + ".attention.key_length", c.n_embd / c.n_head, false));
  NIBBLE_ASSIGN_OR_RETURN(int64_t vlen, dim(f, a + ".attention.value_length", c.head_dim, false));
  if (vlen != c.head_dim)
    return Error(ErrorCode::corrupt_metadata, a + ".attention.value_length != key_length");
  if (c.n_head % c.n_head_kv != 0)
    return Error(ErrorCode::corrupt_metadata,
                 a + ".attention.head_count is not a multiple of head_count_kv");
  NIBBLE_ASSIGN_OR_RETURN(c.n_rot, dim(f, a + ".rope.dimension_count", c.head_dim, false));
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    return Error(ErrorCode::corrupt_metadata, a + ".rope.dimension_count is invalid");
  NIBBLE_ASSIGN_OR_RETURN(c.rope_base, real(f, a + ".rope.freq_base", 10000.0f));
  float def_eps = (c.arch == Arch::gemma2 || c.arch == Arch::gemma3) ? 1e-6f : 1e-5f;
  NIBBLE_ASSIGN_OR_RETURN(c.norm_eps, real(f, a + ".attention.layer_norm_rms_epsilon", def_eps));
  if (c.rope_base <= 0 || c.norm_eps < 0)
    return Error(ErrorCode::corrupt_metadata, a + ": rope.freq_base or epsilon out of range");
  NIBBLE_TRY(read_rope_scaling(f, a, c));

  // Vocabulary size: the key when present, else the embedding matrix decides (loader).
  c.n_vocab = 0;
  if (f.find(a + ".vocab_size")) {
    NIBBLE_ASSIGN_OR_RETURN(c.n_vocab, dim(f, a + ".vocab_size", 0, true));
  }

  c.query_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  c.swa_layer.assign(static_cast<size_t>(c.n_layer), 0);
  switch (c.arch) {
    case Arch::llama:
    case Arch::bitnet:
      c.rope_neox = c.arch == Arch::bitnet;
      break;
    case Arch::qwen2:
    case Arch::qwen3:
      c.rope_neox = true;
      break;
    case Arch::phi3: {
      c.rope_neox = true;
      NIBBLE_ASSIGN_OR_RETURN(c.sliding_window, dim(f, a + ".attention.sliding_window", 0, false));
      if (c.sliding_window > 0) c.swa_layer.assign(static_cast<size_t>(c.n_layer), 1);
      break;
    }
    case Arch::gemma2: {
      c.rope_neox = true;
      c.gelu = true;
      c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
      NIBBLE_ASSIGN_OR_RETURN(c.attn_softcap, real(f, a + ".attn_logit_softcapping", 50.0f));
      NIBBLE_ASSIGN_OR_RETURN(c.final_softcap, real(f, a + ".final_logit_softcapping", 30.0f));
      NIBBLE_ASSIGN_OR_RETURN(c.sliding_window,
                              dim(f, a + ".attention.sliding_window", 4096, false));
      // Even layers attend locally (sliding window), odd layers globally.
      for (int64_t i = 0; i < c.n_layer; ++i) c.swa_layer[i] = (i % 2 == 0);
      // query_pre_attn_scalar: head_dim for the 2B/9B models, n_embd / n_head for the 27B
      // (46 layers), as the reference implementations choose by model size.
      if (c.n_layer == 46)
        c.query_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
      break;
    }
    case Arch::gemma3: {
      c.rope_neox = true;
      c.gelu = true;
      c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
      NIBBLE_ASSIGN_OR_RETURN(c.sliding_window,
                              dim(f, a + ".attention.sliding_window", 512, false));
      // Five local layers, then one global one; local layers use RoPE base 10000.
      for (int64_t i = 0; i < c.n_layer; ++i) c.swa_layer[i] = ((i + 1) % 6 != 0);
      c.rope_base_local = 10000.0f;
      // Same query_pre_attn_scalar rule as gemma2: n_embd / n_head for the 27B (62 layers).
      if (c.n_layer == 62)
        c.query_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
      break;
    }
  }
  if (c.arch != Arch::gemma3) {
    c.rope_base_local = c.rope_base;
    c.rope_freq_scale_local = c.rope_freq_scale;
  }
  return c;
}

}  // namespace nibble::model
