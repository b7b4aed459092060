// Quantization mixes: which type each tensor of a model gets for a named target ("Q4_K_M",
// "Q8_0", ...), following the per-tensor rules of the widely used GGUF quantizer (output and
// embedding matrices, attn_v / ffn_down in some layers at higher precision, fallbacks for rows
// that do not fit a block). docs/tools.md lists the rules as implemented here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/formats/types.h"

namespace nibble::quant {

// A target the user names on the command line.
struct Mix {
  std::string name;      // as typed, upper-cased: "Q4_K_M", "Q8_0", "Q4_K"
  TensorType base;       // type of the tensors no rule singles out
  uint32_t file_type;    // value of general.file_type (llama_ftype numbering)
  bool pure = false;     // every matrix in `base` (no per-tensor rules; Q3_K/Q4_K/Q5_K names)
  std::string_view ftype_rules;  // which rule set applies ("Q4_K_M", ...; "" = base only)
};

// Parses a mix or type name (case-insensitive). nullopt for unknown names.
std::optional<Mix> parse_mix(std::string_view name);
// All accepted names, for help and error messages.
std::vector<std::string_view> mix_names();

// What the rules need to know about the model.
struct ModelShape {
  std::string arch;      // general.architecture
  int n_layer = 0;       // <arch>.block_count
  int n_head = 0, n_head_kv = 0;
  bool has_output = false;  // a separate output.weight exists (else tied embeddings)
  int n_attn_v = 0;      // tensors named *attn_v.weight or *attn_qkv.weight
};

// The decision for one tensor.
struct TypeChoice {
  TensorType type;
  bool quantize = true;    // false: copied unchanged (1-D tensors, norms, ...)
  std::string fallback;    // non-empty: the rule's type did not fit the row length; says why
};

// Chooses the type of tensor `name` with dims `ne` (ne[0] = row length) and current type
// `current`. `i_attn_v` counts the attn_v / attn_qkv tensors seen before this one (the rules
// for attn_v depend on it). Pure function of its inputs.
TypeChoice choose_type(const Mix& mix, const ModelShape& shape, std::string_view name,
                       const std::vector<uint64_t>& ne, TensorType current, int i_attn_v);

// Layer index of "blk.N.<...>" (-1 for other names).
int layer_of(std::string_view name);

// Whether nibble can write `t` (has a reference quantizer and a kernel reads it).
bool writable(TensorType t);

}  // namespace nibble::quant
