// Presets of `nibble forge`: the hyper-parameters, tensor names and shapes and metadata keys
// that the standard HF -> GGUF conversion writes for real small models, so that a forged file
// has the layout of the real one (only the weights are random).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nibble::cli::forge {

struct Preset {
  std::string name;        // "llama-3.2-1b"
  std::string arch;        // general.architecture
  std::string model_name;  // general.name of the real model
  std::string size_label;  // general.size_label ("1B")
  int64_t n_vocab = 0;     // the real model's vocabulary (embedding rows)
  int64_t n_embd = 0, n_layer = 0, n_ff = 0, n_head = 0, n_head_kv = 0;
  int64_t head_dim = 0;    // 0: n_embd / n_head
  int64_t n_ctx = 0;       // <arch>.context_length
  float rope_base = 10000, norm_eps = 1e-5f;
  bool tied = true;        // no output.weight: token_embd doubles as the output matrix
  bool write_head_dims = false;  // <arch>.attention.key_length / value_length keys
  bool write_vocab_size = false; // <arch>.vocab_size key
  int64_t sliding_window = 0;    // <arch>.attention.sliding_window (0: no key)
  float attn_softcap = 0, final_softcap = 0;  // gemma2
  // Llama 3 rope scaling baked into rope_freqs.weight: factor, low / high frequency factors,
  // original context (factor 0: none).
  float rope3_factor = 0, rope3_low = 1, rope3_high = 4;
  int64_t rope3_orig_ctx = 8192;
  bool ternary = false;  // BitNet b1.58: weights in {-s, 0, s}
};

const std::vector<Preset>& presets();
const Preset* find_preset(std::string_view name);

// One tensor of a forged model and how its values are drawn.
enum class Init {
  matrix,    // N(0, 1/fan_in) (ternary with the same variance when `ternary`)
  embedding, // N(0, (2/sqrt(n_embd))^2): logits of std ~2 through a tied head
  norm,      // 1 + small noise
  bias,      // N(0, 0.02^2)
  rope_freqs // Llama 3 frequency factors (deterministic)
};

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> ne;  // ne[0] = row length
  Init init;
};

// The tensors of `p` in the order the converter writes them.
std::vector<TensorSpec> tensor_specs(const Preset& p);

// Fills n_rows rows of `t` starting at `row` (deterministic in seed, tensor name and row; the
// same values whichever thread asks). `ternary` draws {-s, 0, s} instead of normals.
void fill_rows(const Preset& p, const TensorSpec& t, uint64_t seed, bool ternary, int64_t row,
               int64_t n_rows, float* out);

}  // namespace nibble::cli::forge
