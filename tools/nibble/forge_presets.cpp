// Preset table and random initialisation of `nibble forge`. Hyper-parameters are those of the
// models' published configs (config.json) as the converter maps them to GGUF keys; tensor
// names and shapes follow the converter's tensor map for each architecture.
#include "forge_presets.h"

#include <cmath>
#include <numbers>

namespace nibble::cli::forge {

const std::vector<Preset>& presets() {
  static const std::vector<Preset> kPresets = [] {
    std::vector<Preset> v;
    Preset p;
    // SmolLM2-135M / 360M: llama architecture, tied embeddings, rope base 1e5.
    p = {};
    p.name = "smollm2-135m", p.arch = "llama", p.model_name = "SmolLM2 135M", p.size_label = "135M";
    p.n_vocab = 49152, p.n_embd = 576, p.n_layer = 30, p.n_ff = 1536, p.n_head = 9, p.n_head_kv = 3;
    p.n_ctx = 8192, p.rope_base = 100000, p.norm_eps = 1e-5f, p.write_vocab_size = true;
    v.push_back(p);
    p.name = "smollm2-360m", p.model_name = "SmolLM2 360M", p.size_label = "360M";
    p.n_embd = 960, p.n_layer = 32, p.n_ff = 2560, p.n_head = 15, p.n_head_kv = 5;
    v.push_back(p);
    // Qwen2.5-0.5B / 1.5B: qwen2 architecture (q/k/v biases), tied embeddings, rope base 1e6.
    p = {};
    p.name = "qwen2.5-0.5b", p.arch = "qwen2", p.model_name = "Qwen2.5 0.5B", p.size_label = "0.5B";
    p.n_vocab = 151936, p.n_embd = 896, p.n_layer = 24, p.n_ff = 4864, p.n_head = 14, p.n_head_kv = 2;
    p.n_ctx = 32768, p.rope_base = 1000000, p.norm_eps = 1e-6f;
    v.push_back(p);
    p.name = "qwen2.5-1.5b", p.model_name = "Qwen2.5 1.5B", p.size_label = "1.5B";
    p.n_embd = 1536, p.n_layer = 28, p.n_ff = 8960, p.n_head = 12, p.n_head_kv = 2;
    v.push_back(p);
    // Llama-3.2-1B: tied embeddings, rope base 5e5 with Llama 3 scaling (rope_freqs.weight).
    p = {};
    p.name = "llama-3.2-1b", p.arch = "llama", p.model_name = "Llama 3.2 1B", p.size_label = "1B";
    p.n_vocab = 128256, p.n_embd = 2048, p.n_layer = 16, p.n_ff = 8192, p.n_head = 32, p.n_head_kv = 8;
    p.n_ctx = 131072, p.rope_base = 500000, p.norm_eps = 1e-5f;
    p.write_head_dims = true, p.write_vocab_size = true;
    p.rope3_factor = 32, p.rope3_low = 1, p.rope3_high = 4, p.rope3_orig_ctx = 8192;
    v.push_back(p);
    // Gemma-2-2B: head_dim 256 (query width 2048 < n_embd 2304), soft-capping, sliding window.
    p = {};
    p.name = "gemma-2-2b", p.arch = "gemma2", p.model_name = "Gemma 2 2B", p.size_label = "2B";
    p.n_vocab = 256000, p.n_embd = 2304, p.n_layer = 26, p.n_ff = 9216, p.n_head = 8, p.n_head_kv = 4;
    p.head_dim = 256, p.n_ctx = 8192, p.rope_base = 10000, p.norm_eps = 1e-6f;
    p.write_head_dims = true, p.sliding_window = 4096, p.attn_softcap = 50, p.final_softcap = 30;
    v.push_back(p);
    // Phi-3-mini-4k: fused qkv and gate/up, separate output matrix, sliding window 2047.
    p = {};
    p.name = "phi-3-mini", p.arch = "phi3", p.model_name = "Phi 3 Mini 4k Instruct", p.size_label = "3.8B";
    p.n_vocab = 32064, p.n_embd = 3072, p.n_layer = 32, p.n_ff = 8192, p.n_head = 32, p.n_head_kv = 32;
    p.n_ctx = 4096, p.rope_base = 10000, p.norm_eps = 1e-5f, p.tied = false;
    p.sliding_window = 2047;
    v.push_back(p);
    // BitNet b1.58 2B4T: ternary weights, attention / FFN sub-norms, tied embeddings.
    p = {};
    p.name = "bitnet-b1.58-2b", p.arch = "bitnet", p.model_name = "BitNet b1.58 2B4T", p.size_label = "2B";
    p.n_vocab = 128256, p.n_embd = 2560, p.n_layer = 30, p.n_ff = 6912, p.n_head = 20, p.n_head_kv = 5;
    p.n_ctx = 4096, p.rope_base = 500000, p.norm_eps = 1e-5f, p.ternary = true;
    v.push_back(p);
    return v;
  }();
  return kPresets;
}

const Preset* find_preset(std::string_view name) {
  for (const Preset& p : presets())
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<TensorSpec> tensor_specs(const Preset& p) {
  const uint64_t E = p.n_embd, F = p.n_ff, V = p.n_vocab;
  const uint64_t hd = p.head_dim ? p.head_dim : p.n_embd / p.n_head;
  const uint64_t Q = hd * p.n_head, KV = hd * p.n_head_kv;
  std::vector<TensorSpec> t;
  t.push_back({"token_embd.weight", {E, V}, Init::embedding});
  if (p.rope3_factor > 0) t.push_back({"rope_freqs.weight", {hd / 2}, Init::rope_freqs});
  for (int64_t il = 0; il < p.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    t.push_back({b + "attn_norm.weight", {E}, Init::norm});
    if (p.arch == "phi3") {
      t.push_back({b + "attn_qkv.weight", {E, Q + 2 * KV}, Init::matrix});
    } else {
      t.push_back({b + "attn_q.weight", {E, Q}, Init::matrix});
      t.push_back({b + "attn_k.weight", {E, KV}, Init::matrix});
      t.push_back({b + "attn_v.weight", {E, KV}, Init::matrix});
    }
    if (p.arch == "qwen2") {
      t.push_back({b + "attn_q.bias", {Q}, Init::bias});
      t.push_back({b + "attn_k.bias", {KV}, Init::bias});
      t.push_back({b + "attn_v.bias", {KV}, Init::bias});
    }
    if (p.arch == "bitnet") t.push_back({b + "attn_sub_norm.weight", {Q}, Init::norm});
    t.push_back({b + "attn_output.weight", {Q, E}, Init::matrix});
    if (p.arch == "gemma2") t.push_back({b + "post_attention_norm.weight", {E}, Init::norm});
    t.push_back({b + "ffn_norm.weight", {E}, Init::norm});
    if (p.arch == "phi3") {
      t.push_back({b + "ffn_up.weight", {E, 2 * F}, Init::matrix});
    } else {
      t.push_back({b + "ffn_gate.weight", {E, F}, Init::matrix});
      t.push_back({b + "ffn_up.weight", {E, F}, Init::matrix});
    }
    if (p.arch == "bitnet") t.push_back({b + "ffn_sub_norm.weight", {F}, Init::norm});
    t.push_back({b + "ffn_down.weight", {F, E}, Init::matrix});
    if (p.arch == "gemma2") t.push_back({b + "post_ffw_norm.weight", {E}, Init::norm});
  }
  t.push_back({"output_norm.weight", {E}, Init::norm});
  if (!p.tied) t.push_back({"output.weight", {E, V}, Init::embedding});
  return t;
}

namespace {

uint64_t mix64(uint64_t z) {  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t name_hash(const std::string& s) {  // FNV-1a
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Approximately standard normal from one 64-bit draw: the sum of four 16-bit uniforms
// (Irwin-Hall), centred and scaled to unit variance. Cheap enough for a billion weights.
float approx_normal(uint64_t r) {
  const uint32_t s = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48);
  return (static_cast<float>(s) - 131070.0f) * (1.7320508f / 65536.0f);
}

float rope3_factor(const Preset& p, uint64_t i, uint64_t hd) {
  const double freq = 1.0 / std::pow(double(p.rope_base), 2.0 * double(i) / double(hd));
  const double wavelen = 2 * std::numbers::pi / freq;
  const double low_wl = double(p.rope3_orig_ctx) / p.rope3_low;
  const double high_wl = double(p.rope3_orig_ctx) / p.rope3_high;
  if (wavelen < high_wl) return 1.0f;
  if (wavelen > low_wl) return p.rope3_factor;
  const double smooth =
      (double(p.rope3_orig_ctx) / wavelen - p.rope3_low) / (p.rope3_high - p.rope3_low);
  return static_cast<float>(1.0 / ((1 - smooth) / p.rope3_factor + smooth));
}

}  // namespace

void fill_rows(const Preset& p, const TensorSpec& t, uint64_t seed, bool ternary, int64_t row,
               int64_t n_rows, float* out) {
  const uint64_t cols = t.ne[0];
  const uint64_t base = mix64(seed ^ name_hash(t.name));
  float sd = 0;
  switch (t.init) {
    case Init::matrix: sd = 1.0f / std::sqrt(static_cast<float>(cols)); break;
    case Init::embedding: sd = 2.0f / std::sqrt(static_cast<float>(p.n_embd)); break;
    case Init::norm: sd = 0.05f; break;
    case Init::bias: sd = 0.02f; break;
    case Init::rope_freqs: break;
  }
  // Ternary: P(0) = 1/3, P(+-s) = 1/3 each, variance 2/3 s^2 = sd^2.
  const float ts = sd * 1.2247449f;
  for (int64_t r = 0; r < n_rows; ++r) {
    float* o = out + static_cast<uint64_t>(r) * cols;
    uint64_t state = mix64(base + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(row + r + 1));
    for (uint64_t c = 0; c < cols; ++c) {
      state += 0x9E3779B97F4A7C15ull;
      const uint64_t z = mix64(state);
      switch (t.init) {
        case Init::rope_freqs: o[c] = rope3_factor(p, c, 2 * cols); break;
        case Init::norm: o[c] = 1.0f + sd * approx_normal(z); break;
        case Init::matrix:
          if (ternary) {
            o[c] = ts * static_cast<float>(static_cast<int>((z >> 32) % 3) - 1);
            break;
          }
          [[fallthrough]];
        default: o[c] = sd * approx_normal(z);
      }
    }
  }
}

}  // namespace nibble::cli::forge
