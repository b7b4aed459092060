// Per-tensor type rules. They reproduce the choices of the widely used GGUF quantizer for the
// targets nibble writes (k-quant mixes, 32-block types, ternary), so that a file nibble
// quantizes has the same tensor types as the same target made by that tool (tested against
// the shared fixtures, which that tool wrote).
#include "quant/mix.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace nibble::quant {
namespace {

using T = TensorType;

struct MixDef {
  std::string_view name;
  T base;
  uint32_t file_type;
  bool pure;
};

// llama_ftype numbering for general.file_type.
constexpr MixDef kMixes[] = {
    {"F32", T::F32, 0, false},        {"F16", T::F16, 1, false},
    {"BF16", T::BF16, 32, false},     {"Q4_0", T::Q4_0, 2, false},
    {"Q4_1", T::Q4_1, 3, false},      {"Q8_0", T::Q8_0, 7, false},
    {"Q5_0", T::Q5_0, 8, false},      {"Q5_1", T::Q5_1, 9, false},
    {"Q2_K", T::Q2_K, 10, false},     {"Q3_K_S", T::Q3_K, 11, false},
    {"Q3_K_M", T::Q3_K, 12, false},   {"Q3_K_L", T::Q3_K, 13, false},
    {"Q4_K_S", T::Q4_K, 14, false},   {"Q4_K_M", T::Q4_K, 15, false},
    {"Q5_K_S", T::Q5_K, 16, false},   {"Q5_K_M", T::Q5_K, 17, false},
    {"Q6_K", T::Q6_K, 18, false},     {"IQ4_NL", T::IQ4_NL, 25, false},
    {"TQ1_0", T::TQ1_0, 36, false},   {"TQ2_0", T::TQ2_0, 37, false},
    // Bare k-quant type names: every matrix in that type (file type of the "mostly" mix).
    {"Q3_K", T::Q3_K, 11, true},      {"Q4_K", T::Q4_K, 14, true},
    {"Q5_K", T::Q5_K, 16, true},
};

bool is_float(T t) { return t == T::F32 || t == T::F16 || t == T::BF16; }

bool fits(T t, uint64_t row) {
  const uint32_t bs = tensor_type_info(t).block_size;
  return bs != 0 && row % bs == 0;
}

// More bits for the first and last eighth of the layers and every third layer in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// The type a rule gives when `t` does not fit the row length: the closest type with 32-blocks.
T fallback_for(T t) {
  switch (t) {
    case T::TQ1_0:
    case T::TQ2_0:
      return T::Q4_0;
    case T::Q2_K:
    case T::Q3_K:
      return T::IQ4_NL;
    case T::Q4_K:
      return T::Q5_0;
    case T::Q5_K:
      return T::Q5_1;
    case T::Q6_K:
      return T::Q8_0;
    default:
      return T::F16;
  }
}

// The rules proper: type for a quantized matrix before the row-length check.
T rule_type(const Mix& mix, const ModelShape& s, std::string_view name, uint64_t row,
            int i_attn_v) {
  const std::string_view r = mix.ftype_rules;
  T t = mix.base;
  const int gqa = s.n_head_kv > 0 ? s.n_head / s.n_head_kv : 1;
  const bool is_output =
      name == "output.weight" || (!s.has_output && name == "token_embd.weight");
  if (is_output) {
    if (!fits(t, row)) return T::Q8_0;
    return t == T::Q8_0 ? T::Q8_0 : T::Q6_K;
  }
  if (name == "token_embd.weight") {
    if (r == "TQ1_0" || r == "TQ2_0") return T::Q4_K;
    return t;
  }
  if (contains(name, "attn_v.weight")) {
    const int n = s.n_attn_v;
    if (r == "Q2_K") return gqa >= 4 ? T::Q4_K : T::Q3_K;
    if (r == "Q3_K_M") return i_attn_v < 2 ? T::Q5_K : T::Q4_K;
    if (r == "Q3_K_L") return T::Q5_K;
    if (r == "IQ4_NL" && gqa >= 4) return T::Q5_K;
    if ((r == "Q4_K_M" || r == "Q5_K_M") && use_more_bits(i_attn_v, n)) return T::Q6_K;
    if (r == "Q4_K_S" && i_attn_v < 4) return T::Q5_K;
    return t;
  }
  if (contains(name, "ffn_down")) {
    const int i = std::max(0, layer_of(name)), n = s.n_layer;
    const bool falcon = s.arch == "falcon";
    if (r == "Q2_K") return T::Q3_K;
    if (r == "Q3_K_M") {
      if (i < n / 16) return T::Q5_K;
      return !falcon || use_more_bits(i, n) ? T::Q4_K : T::Q3_K;
    }
    if (r == "Q3_K_L") return falcon ? T::Q4_K : T::Q5_K;
    if (r == "Q4_K_M") {
      if (falcon) return i < n / 16 ? T::Q6_K : use_more_bits(i, n) ? T::Q5_K : T::Q4_K;
      return use_more_bits(i, n) ? T::Q6_K : t;
    }
    if (r == "IQ4_NL" && i < n / 8) return T::Q5_K;
    if (r == "Q5_K_M" && use_more_bits(i, n)) return T::Q6_K;
    if (r == "Q4_K_S" && !falcon && i < n / 8) return T::Q5_K;
    return t;
  }
  if (contains(name, "attn_output.weight")) {
    if (s.arch == "falcon") return r == "Q3_K_L" ? T::Q4_K : t;
    if (r == "Q2_K") return T::Q3_K;
    if (r == "Q3_K_M") return T::Q4_K;
    if (r == "Q3_K_L") return T::Q5_K;
    return t;
  }
  if (contains(name, "attn_qkv.weight")) {
    if (r == "Q3_K_M" || r == "Q3_K_L") return T::Q4_K;
    if (r == "Q4_K_M") return T::Q5_K;
    if (r == "Q5_K_M") return T::Q6_K;
    return t;
  }
  return t;
}

// Tensors that stay as they are: vectors, norms, and a few small lookup tables.
bool quantizable(std::string_view name, const std::vector<uint64_t>& ne) {
  if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
  if (ne.size() < 2) return false;
  for (std::string_view skip : {"_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d.weight",
                                "attn_rel_b.weight", "time_mix_"})
    if (contains(name, skip)) return false;
  return name != "position_embd.weight" && name != "token_types.weight";
}

}  // namespace

std::optional<Mix> parse_mix(std::string_view name) {
  std::string up(name);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const MixDef& d : kMixes) {
    if (d.name != up) continue;
    Mix m;
    m.name = up;
    m.base = d.base;
    m.file_type = d.file_type;
    m.pure = d.pure;
    m.ftype_rules = d.pure || is_float(d.base) ? std::string_view{} : d.name;
    return m;
  }
  return std::nullopt;
}

std::vector<std::string_view> mix_names() {
  std::vector<std::string_view> v;
  for (const MixDef& d : kMixes) v.push_back(d.name);
  return v;
}

int layer_of(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int v = -1;
  auto [p, ec] = std::from_chars(name.data() + 4, name.data() + name.size(), v);
  if (ec != std::errc() || p == name.data() + name.size() || *p != '.') return -1;
  return v;
}

bool writable(TensorType t) {
  switch (t) {
    case T::F32: case T::F16: case T::BF16: case T::Q4_0: case T::Q4_1: case T::Q5_0:
    case T::Q5_1: case T::Q8_0: case T::Q2_K: case T::Q3_K: case T::Q4_K: case T::Q5_K:
    case T::Q6_K: case T::IQ4_NL: case T::TQ1_0: case T::TQ2_0:
      return true;
    default:
      return false;
  }
}

TypeChoice choose_type(const Mix& mix, const ModelShape& shape, std::string_view name,
                       const std::vector<uint64_t>& ne, TensorType current, int i_attn_v) {
  TypeChoice c{current, false, {}};
  if (!quantizable(name, ne)) return c;
  const uint64_t row = ne[0];
  T t = mix.ftype_rules.empty() ? mix.base : rule_type(mix, shape, name, row, i_attn_v);
  if (!fits(t, row)) {
    T f = fallback_for(t);
    if (!fits(f, row)) f = T::F16;
    c.fallback = std::string(tensor_type_name(t)) + " needs rows in multiples of " +
                 std::to_string(tensor_type_info(t).block_size) + ", row length is " +
                 std::to_string(row) + ": using " + std::string(tensor_type_name(f));
    t = f;
  }
  c.type = t;
  c.quantize = t != current;
  return c;
}

}  // namespace nibble::quant
