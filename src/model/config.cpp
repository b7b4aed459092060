// Config from GGUF keys. Keys follow llama.cpp's naming (`<arch>.embedding_length`, ...);
// optional keys fall back to the architecture's documented default (model/arch.h). Every
// refusal names the key and the value it holds.
#include "model/config.h"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace nibble::model {
namespace {

// Upper bound on any dimension: far above real models, low enough that products of two of
// them cannot overflow int64 and allocation sizes stay sane.
constexpr int64_t kMaxDim = int64_t{1} << 24;
constexpr int64_t kMaxLayers = 4096;

Error wrong_type(std::string_view key, const gguf::Value& v, std::string_view wanted) {
  std::string got(gguf::value_type_name(v.type()));
  if (v.type() == gguf::ValueType::array)
    got = "array of " + std::string(gguf::value_type_name(v.array_type()));
  return Error(ErrorCode::type_mismatch,
               fmt::format("{} has type {}, expected {}", key, got, wanted));
}

// A positive integer key in [1, max]; `fallback` when absent and not required.
Result<int64_t> dim(const gguf::File& f, const std::string& key, int64_t fallback, bool required,
                    int64_t max = kMaxDim) {
  const gguf::Value* v = f.find(key);
  if (!v) {
    if (required) return Error(ErrorCode::missing_key, "missing key " + key);
    return fallback;
  }
  if (!v->is_integer()) return wrong_type(key, *v, "an integer");
  auto u = v->as_uint(key);
  if (!u.ok() || *u == 0 || *u > static_cast<uint64_t>(max)) {
    const std::string shown = u.ok() ? std::to_string(*u) : std::to_string(*v->as_int(key));
    return Error(ErrorCode::corrupt_metadata,
                 fmt::format("{} = {} is out of range [1, {}]", key, shown, max));
  }
  return static_cast<int64_t>(*u);
}

// A float key (f32 or f64) inside [lo, hi] or (lo, hi]; `fallback` when absent.
Result<float> real(const gguf::File& f, const std::string& key, float fallback, float lo, float hi,
                   bool lo_open) {
  const gguf::Value* v = f.find(key);
  if (!v) return fallback;
  auto d = v->as_float(key);
  if (!d.ok()) return wrong_type(key, *v, "f32 or f64");
  const double x = *d;
  if (!std::isfinite(x) || (lo_open ? !(x > lo) : !(x >= lo)) || x > hi)
    return Error(ErrorCode::corrupt_metadata, fmt::format("{} = {:g} is out of range {}{:g}, {:g}]",
                                                          key, x, lo_open ? "(" : "[", lo, hi));
  return static_cast<float>(x);
}

Status read_real(const gguf::File& f, const std::string& a, const RealKey& k, Config& c) {
  NIBBLE_ASSIGN_OR_RETURN(
      c.*k.field, real(f, a + "." + std::string(k.suffix), k.fallback, k.lo, k.hi, k.lo_open));
  return ok_status();
}

// RoPE scaling keys. Types: none, linear, yarn (factor, original context, betas, attention
// factor), longrope (needs the factor tensors; the loader checks them). Anything else, or a
// value out of range, is refused with the key's name rather than silently computed wrong.
Status read_rope_scaling(const gguf::File& f, const std::string& a, Config& c) {
  const std::string p = a + ".rope.scaling.";
  std::string type;
  if (const gguf::Value* tv = f.find(p + "type")) {
    auto s = tv->as_string(p + "type");
    if (!s.ok()) return wrong_type(p + "type", *tv, "string");
    type = std::string(*s);
  }
  // Factor: the key, or the old `rope.scale_linear`; absent = 1.
  const bool has_factor = f.find(p + "factor") != nullptr;
  const std::string factor_key = has_factor ? p + "factor" : a + ".rope.scale_linear";
  NIBBLE_ASSIGN_OR_RETURN(float factor, real(f, factor_key, 1.0f, 0.0f, 1e6f, true));
  NIBBLE_ASSIGN_OR_RETURN(c.rope_ctx_orig,
                          dim(f, p + "original_context_length", c.n_ctx_train, false));
  if (f.find(p + "attn_factor")) {
    NIBBLE_ASSIGN_OR_RETURN(c.rope_attn_factor,
                            real(f, p + "attn_factor", 1.0f, 0.0f, 100.0f, true));
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
    NIBBLE_ASSIGN_OR_RETURN(c.yarn_beta_fast,
                            real(f, p + "yarn_beta_fast", 32.0f, 0.0f, 1e6f, true));
    NIBBLE_ASSIGN_OR_RETURN(c.yarn_beta_slow,
                            real(f, p + "yarn_beta_slow", 1.0f, 0.0f, 1e6f, true));
    if (c.yarn_beta_slow > c.yarn_beta_fast)
      return Error(ErrorCode::corrupt_metadata,
                   fmt::format("{}yarn_beta_slow = {:g} is above {}yarn_beta_fast = {:g}", p,
                               c.yarn_beta_slow, p, c.yarn_beta_fast));
    if (f.find(p + "yarn_log_multiplier") || f.find(p + "yarn_ext_factor"))
      return Error(ErrorCode::unsupported_architecture,
                   "unsupported YaRN variant (" + p + "yarn_log_multiplier / yarn_ext_factor)");
    if (!c.rope_attn_factor_key)
      c.rope_attn_factor = factor > 1.0f ? 0.1f * std::log(factor) + 1.0f : 1.0f;
  } else if (type == "longrope") {
    if (has_factor && factor != 1.0f)
      return Error(ErrorCode::unsupported_architecture,
                   fmt::format("unsupported rope scaling: longrope with {}factor = {:g} (only 1)",
                               p, factor));
    c.rope_scaling = RopeScaling::longrope;  // the loader requires the factor tensors
  } else {
    return Error(ErrorCode::unsupported_architecture,
                 "unsupported rope scaling type '" + type + "' (" + p +
                     "type; supported: none, linear, yarn, longrope)");
  }
  return ok_status();
}

Result<const ArchDescriptor*> read_architecture(const gguf::File& f) {
  const std::string key = "general.architecture";
  const gguf::Value* v = f.find(key);
  if (!v) return Error(ErrorCode::missing_key, "missing key " + key);
  auto name = v->as_string(key);
  if (!name.ok()) return wrong_type(key, *v, "string");
  if (const ArchDescriptor* d = find_architecture(*name)) return d;
  std::string known;
  for (const ArchDescriptor* d : architectures())
    known += (known.empty() ? "" : ", ") + std::string(d->name);
  return Error(ErrorCode::unsupported_architecture,
               fmt::format("unsupported architecture '{}' ({}; supported: {})", *name, key, known));
}

// Head and RoPE dimensions, checked against each other.
Status read_heads(const gguf::File& f, const std::string& a, Config& c) {
  NIBBLE_ASSIGN_OR_RETURN(c.n_head, dim(f, a + ".attention.head_count", 0, true));
  NIBBLE_ASSIGN_OR_RETURN(c.n_head_kv, dim(f, a + ".attention.head_count_kv", c.n_head, false));
  if (c.n_embd % c.n_head != 0 && !f.find(a + ".attention.key_length"))
    return Error(ErrorCode::corrupt_metadata,
                 fmt::format("{}.embedding_length = {} is not a multiple of "
                             "{}.attention.head_count = {} (and no attention.key_length)",
                             a, c.n_embd, a, c.n_head));
  NIBBLE_ASSIGN_OR_RETURN(c.head_dim,
                          dim(f, a + ".attention.key_length", c.n_embd / c.n_head, false));
  NIBBLE_ASSIGN_OR_RETURN(int64_t vlen, dim(f, a + ".attention.value_length", c.head_dim, false));
  if (vlen != c.head_dim)
    return Error(ErrorCode::corrupt_metadata,
                 fmt::format("{}.attention.value_length = {} differs from the key length {}", a,
                             vlen, c.head_dim));
  if (c.n_head % c.n_head_kv != 0)
    return Error(ErrorCode::corrupt_metadata,
                 fmt::format("{}.attention.head_count = {} is not a multiple of "
                             "{}.attention.head_count_kv = {}",
                             a, c.n_head, a, c.n_head_kv));
  NIBBLE_ASSIGN_OR_RETURN(c.n_rot, dim(f, a + ".rope.dimension_count", c.head_dim, false));
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    return Error(ErrorCode::corrupt_metadata,
                 fmt::format("{}.rope.dimension_count = {} is invalid: it must be even and at "
                             "most the head size {}",
                             a, c.n_rot, c.head_dim));
  return ok_status();
}

// The descriptor's attention options: scale, sliding window and which layers use it.
Status apply_attention_options(const gguf::File& f, const std::string& a, Config& c) {
  const ArchDescriptor& d = *c.arch;
  c.query_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  if (d.query_scale_embd_layers != 0 && c.n_layer == d.query_scale_embd_layers)
    c.query_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
  c.swa_layer.assign(static_cast<size_t>(c.n_layer), 0);
  if (d.swa == SwaPattern::none) return ok_status();
  NIBBLE_ASSIGN_OR_RETURN(c.sliding_window,
                          dim(f, a + ".attention.sliding_window", d.sliding_window, false));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    switch (d.swa) {
      case SwaPattern::none:
        break;
      case SwaPattern::all_layers:
        c.swa_layer[i] = c.sliding_window > 0;
        break;
      case SwaPattern::even_layers:
        c.swa_layer[i] = i % 2 == 0;
        break;
      case SwaPattern::five_local_one_global:
        c.swa_layer[i] = (i + 1) % 6 != 0;
        break;
    }
  }
  return ok_status();
}

}  // namespace

Result<Config> read_config(const gguf::File& f) {
  Config c;
  NIBBLE_ASSIGN_OR_RETURN(c.arch, read_architecture(f));
  const ArchDescriptor& d = *c.arch;
  c.arch_name = std::string(d.name);
  const std::string& a = c.arch_name;

  NIBBLE_ASSIGN_OR_RETURN(c.n_embd, dim(f, a + ".embedding_length", 0, true));
  NIBBLE_ASSIGN_OR_RETURN(c.n_layer, dim(f, a + ".block_count", 0, true, kMaxLayers));
  NIBBLE_ASSIGN_OR_RETURN(c.n_ff, dim(f, a + ".feed_forward_length", 0, true));
  NIBBLE_ASSIGN_OR_RETURN(c.n_ctx_train, dim(f, a + ".context_length", 2048, false));
  NIBBLE_TRY(read_heads(f, a, c));
  // Float keys every architecture has, with their ranges; then the architecture's own.
  const RealKey common[] = {
      {"rope.freq_base", 10000.0f, 0.0f, 1e12f, true, &Config::rope_base},
      {"attention.layer_norm_rms_epsilon", d.norm_eps, 0.0f, 1.0f, false, &Config::norm_eps},
  };
  for (const RealKey& k : common) NIBBLE_TRY(read_real(f, a, k, c));
  for (const RealKey& k : d.reals) NIBBLE_TRY(read_real(f, a, k, c));
  NIBBLE_TRY(read_rope_scaling(f, a, c));

  // Vocabulary size: the key when present, else the embedding matrix decides (loader).
  c.n_vocab = 0;
  if (f.find(a + ".vocab_size")) {
    NIBBLE_ASSIGN_OR_RETURN(c.n_vocab, dim(f, a + ".vocab_size", 0, true));
  }
  c.rope_neox = d.rope_neox;
  c.gelu = d.gelu;
  if (d.embd_scale) c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
  NIBBLE_TRY(apply_attention_options(f, a, c));
  c.rope_base_local = c.rope_base;
  c.rope_freq_scale_local = c.rope_freq_scale;
  if (d.local_rope_plain) {
    c.rope_base_local = 10000.0f;
    c.rope_freq_scale_local = 1.0f;
  }
  return c;
}

}  // namespace nibble::model
