// `nibble forge --preset NAME --vocab VOCAB.gguf --type TYPE -o OUT.gguf [--seed N]
//  [--layers N] [--embd N] [--ff N] [--heads N] [--kv-heads N] [--head-dim N] [--ctx N]
//  [--n-vocab N|preset] [--threads N] [--pure] [--quiet]`
// Writes a model with random weights in the tensor layout and metadata of a real converted
// model (forge_presets.cpp), the tokenizer copied from a vocab GGUF, any weight type or mix.
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "forge_presets.h"
#include "gguf/gguf.h"
#include "quant/mix.h"
#include "quant/writer.h"
#include "quantize_ui.h"

namespace nibble::cli {
namespace {

using forge::Preset;

std::string preset_list() {
  std::string s;
  for (const Preset& p : forge::presets()) s += (s.empty() ? "" : ", ") + p.name;
  return s;
}

void usage() {
  std::string types;
  for (auto n : quant::mix_names()) types += (types.empty() ? "" : ", ") + std::string(n);
  fmt::print(
      "usage: nibble forge --preset NAME --vocab VOCAB.gguf --type TYPE -o OUT.gguf [--seed N]\n"
      "       [--layers N] [--embd N] [--ff N] [--heads N] [--kv-heads N] [--head-dim N]\n"
      "       [--ctx N] [--n-vocab N|preset] [--threads N] [--pure] [--search] [--quiet]\n"
      "  presets: {}\n  types: {}\n"
      "  The vocabulary (and the embedding rows) come from VOCAB.gguf; --n-vocab pads it with\n"
      "  unused control tokens up to N rows ('preset': the real model's size).\n"
      "  k-quants use the fast reference quantizer unless --search (the error-minimising one\n"
      "  of nibble quantize). --list prints the presets' shapes.\n",
      preset_list(), types);
}

void list_presets() {
  fmt::print("{:<16} {:<7} {:>6} {:>6} {:>6} {:>6} {:>5} {:>5} {:>8} {:>5} {:>14}\n", "preset",
             "arch", "n_embd", "layers", "n_ff", "heads", "kv", "hdim", "n_vocab", "tied",
             "params");
  for (const Preset& p : forge::presets()) {
    uint64_t params = 0;
    for (const auto& t : forge::tensor_specs(p)) {
      uint64_t n = 1;
      for (uint64_t d : t.ne) n *= d;
      params += n;
    }
    fmt::print("{:<16} {:<7} {:>6} {:>6} {:>6} {:>6} {:>5} {:>5} {:>8} {:>5} {:>14}\n", p.name,
               p.arch, p.n_embd, p.n_layer, p.n_ff, p.n_head, p.n_head_kv,
               p.head_dim ? p.head_dim : p.n_embd / p.n_head, p.n_vocab, p.tied ? "yes" : "no",
               params);
  }
}

// Copies the tokenizer keys of `vocab` into `w`, padded to n_vocab tokens. Returns false (with
// a message) when the vocabulary cannot be used.
bool copy_tokenizer(const gguf::File& vocab, int64_t n_vocab, int64_t n_tokens, gguf::Writer* w) {
  for (const gguf::KeyValue& kv : vocab.metadata()) {
    if (kv.key.substr(0, 10) != "tokenizer.") continue;
    if (n_vocab > n_tokens &&
        (kv.key == "tokenizer.ggml.tokens" || kv.key == "tokenizer.ggml.scores" ||
         kv.key == "tokenizer.ggml.token_type"))
      continue;  // written padded below
    w->set_value(std::string(kv.key), kv.value);
  }
  if (n_vocab <= n_tokens) return true;
  auto tokens = vocab.get_string_array("tokenizer.ggml.tokens");
  if (!tokens.ok()) return false;
  std::vector<std::string> t(tokens->begin(), tokens->end());
  for (int64_t i = n_tokens; i < n_vocab; ++i) t.push_back(fmt::format("[PAD{}]", i));
  w->set_string_array("tokenizer.ggml.tokens", std::move(t));
  if (vocab.find("tokenizer.ggml.scores")) {
    auto s = vocab.get_f32_array("tokenizer.ggml.scores");
    if (!s.ok()) return false;
    s->resize(static_cast<size_t>(n_vocab), -1e9f);
    w->set_f32_array("tokenizer.ggml.scores", std::move(*s));
  }
  if (vocab.find("tokenizer.ggml.token_type")) {
    auto tt = vocab.get_i32_array("tokenizer.ggml.token_type");
    if (!tt.ok()) return false;
    tt->resize(static_cast<size_t>(n_vocab), 3);  // CONTROL: never produced from text
    w->set_i32_array("tokenizer.ggml.token_type", std::move(*tt));
  }
  return true;
}

void set_model_keys(const Preset& p, int64_t head_dim, const quant::Mix& mix, uint64_t seed,
                    int64_t n_vocab, gguf::Writer* w) {
  const std::string a = p.arch + ".";
  w->set_string("general.architecture", p.arch);
  w->set_string("general.type", "model");
  w->set_string("general.name", p.model_name + " (forged)");
  w->set_string("general.description",
                fmt::format("random weights in the layout of {} written by nibble forge "
                            "(preset {}, seed {}); not a trained model",
                            p.model_name, p.name, seed));
  w->set_string("general.size_label", p.size_label);
  w->set_u32(a + "block_count", static_cast<uint32_t>(p.n_layer));
  w->set_u32(a + "context_length", static_cast<uint32_t>(p.n_ctx));
  w->set_u32(a + "embedding_length", static_cast<uint32_t>(p.n_embd));
  w->set_u32(a + "feed_forward_length", static_cast<uint32_t>(p.n_ff));
  w->set_u32(a + "attention.head_count", static_cast<uint32_t>(p.n_head));
  w->set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(p.n_head_kv));
  w->set_f32(a + "rope.freq_base", p.rope_base);
  w->set_f32(a + "attention.layer_norm_rms_epsilon", p.norm_eps);
  if (p.write_head_dims || head_dim * p.n_head != p.n_embd) {
    w->set_u32(a + "attention.key_length", static_cast<uint32_t>(head_dim));
    w->set_u32(a + "attention.value_length", static_cast<uint32_t>(head_dim));
  }
  if (p.arch == "llama" || p.arch == "phi3" || p.arch == "bitnet")
    w->set_u32(a + "rope.dimension_count", static_cast<uint32_t>(head_dim));
  if (p.write_vocab_size) w->set_u32(a + "vocab_size", static_cast<uint32_t>(n_vocab));
  if (p.sliding_window)
    w->set_u32(a + "attention.sliding_window", static_cast<uint32_t>(p.sliding_window));
  if (p.attn_softcap > 0) w->set_f32(a + "attn_logit_softcapping", p.attn_softcap);
  if (p.final_softcap > 0) w->set_f32(a + "final_logit_softcapping", p.final_softcap);
  w->set_u32("general.quantization_version", 2);
  w->set_u32("general.file_type", mix.file_type);
}

// Shape options of `nibble forge` that override the preset's.
struct ShapeOverrides {
  std::optional<long long> layers, embd, ff, heads, kv_heads, head_dim, ctx;
};

// Applies the overrides to *p (head_dim 0 = n_embd / n_head); the error text when the result
// is not a valid shape, empty when it is.
std::string apply_shape(const ShapeOverrides& o, Preset* p) {
  const bool shape_changed = o.embd || o.heads;
  if (o.layers) p->n_layer = *o.layers;
  if (o.embd) p->n_embd = *o.embd;
  if (o.ff) p->n_ff = *o.ff;
  if (o.heads) p->n_head = *o.heads;
  if (o.kv_heads) p->n_head_kv = *o.kv_heads;
  if (o.ctx) p->n_ctx = *o.ctx;
  if (o.head_dim)
    p->head_dim = *o.head_dim;
  else if (shape_changed)
    p->head_dim = 0;  // follows n_embd / n_head
  if (!o.heads && o.kv_heads && p->n_head % p->n_head_kv != 0) p->n_head = p->n_head_kv;
  if (o.heads && !o.kv_heads && p->n_head % p->n_head_kv != 0) p->n_head_kv = p->n_head;
  const int64_t hd = p->head_dim ? p->head_dim : p->n_embd / p->n_head;
  if (p->n_head % p->n_head_kv != 0) return "--heads must be a multiple of --kv-heads";
  if (!p->head_dim && p->n_embd % p->n_head != 0)
    return "--embd must be a multiple of --heads (or give --head-dim)";
  if (hd % 2 != 0 || hd < 2) return "the head dimension must be even";
  return {};
}

// The tensors of a forged model, each with the type the mix chooses and a row generator;
// the generators refer to `p`, which must outlive the plan.
std::vector<quant::PlannedTensor> plan_tensors(const Preset& p, const quant::Mix& mix,
                                               uint64_t seed) {
  const std::vector<forge::TensorSpec> specs = forge::tensor_specs(p);
  quant::ModelShape shape;
  shape.arch = p.arch;
  shape.n_layer = static_cast<int>(p.n_layer);
  shape.n_head = static_cast<int>(p.n_head);
  shape.n_head_kv = static_cast<int>(p.n_head_kv);
  shape.has_output = !p.tied;
  shape.n_attn_v = static_cast<int>(p.n_layer);
  std::vector<quant::PlannedTensor> plan;
  int i_attn_v = 0;
  for (const forge::TensorSpec& s : specs) {
    quant::TypeChoice c = quant::choose_type(mix, shape, s.name, s.ne, TensorType::F32, i_attn_v);
    if (s.name.find("attn_v.weight") != std::string::npos) ++i_attn_v;
    const bool ternary = p.ternary || c.type == TensorType::TQ1_0 || c.type == TensorType::TQ2_0;
    quant::PlannedTensor t{s.name, s.ne, c.type, {}, {}, c.fallback};
    t.rows = [&p, spec = s, seed, ternary](int64_t row, int64_t n, float* out) {
      forge::fill_rows(p, spec, seed, ternary, row, n, out);
    };
    plan.push_back(std::move(t));
  }
  return plan;
}

// --n-vocab: a number of rows at least the vocabulary's token count (at most 2^24), or
// "preset" for the preset's own; -1 when invalid.
int64_t parse_n_vocab(const std::string& text, int64_t preset_vocab, int64_t n_tokens) {
  long long v = 0;
  if (text == "preset") {
    v = preset_vocab;
  } else if (auto r = std::from_chars(text.data(), text.data() + text.size(), v);
             r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    return -1;
  }
  return v < n_tokens || v > (1 << 24) ? -1 : v;
}

int run_forge(Args& args) {
  if (args.flag({"--help", "-h"})) {
    usage();
    return 0;
  }
  if (args.flag({"--list"})) {
    list_presets();
    return 0;
  }
  auto preset_name = args.value({"--preset"});
  auto vocab_path = args.value({"--vocab"});
  auto type_name = args.value({"--type"});
  auto out_path = args.value({"-o", "--output"});
  const uint64_t seed = static_cast<uint64_t>(args.integer({"--seed"}).value_or(1));
  auto layers = args.integer({"--layers"});
  auto embd = args.integer({"--embd"});
  auto ff = args.integer({"--ff"});
  auto heads = args.integer({"--heads"});
  auto kv_heads = args.integer({"--kv-heads"});
  auto head_dim_o = args.integer({"--head-dim"});
  auto ctx = args.integer({"--ctx"});
  auto n_vocab_o = args.value({"--n-vocab"});
  auto threads = args.integer({"--threads", "-t"});
  const bool pure = args.flag({"--pure"});
  const bool search = args.flag({"--search"});
  const bool quiet = args.flag({"--quiet", "-q"});
  if (!preset_name) args.error("missing --preset NAME (" + preset_list() + ")");
  if (!vocab_path) args.error("missing --vocab VOCAB.gguf");
  if (!type_name) args.error("missing --type TYPE");
  if (!out_path) args.error("missing -o OUT.gguf");
  const Preset* base = preset_name ? forge::find_preset(*preset_name) : nullptr;
  if (preset_name && !base)
    args.error(fmt::format("unknown preset '{}' (known: {})", *preset_name, preset_list()));
  std::optional<quant::Mix> mix;
  if (type_name && !(mix = quant::parse_mix(*type_name))) {
    std::string names;
    for (auto n : quant::mix_names()) names += (names.empty() ? "" : ", ") + std::string(n);
    args.error(fmt::format("unknown type '{}' (known: {})", *type_name, names));
  }
  auto check = [&](const std::optional<long long>& v, const char* name, long long max) {
    if (v && (*v < 1 || *v > max)) args.error(fmt::format("{} must be in [1, {}]", name, max));
  };
  check(layers, "--layers", 1024);
  check(embd, "--embd", 65536);
  check(ff, "--ff", 262144);
  check(heads, "--heads", 1024);
  check(kv_heads, "--kv-heads", 1024);
  check(head_dim_o, "--head-dim", 1024);
  check(ctx, "--ctx", 1 << 24);
  check(threads, "--threads", 256);
  if (!args.finish()) return 2;

  Preset p = *base;
  const std::string bad = apply_shape({layers, embd, ff, heads, kv_heads, head_dim_o, ctx}, &p);
  if (!bad.empty()) {
    fmt::print(stderr, "nibble forge: {}\n", bad);
    return 2;
  }
  const int64_t hd = p.head_dim ? p.head_dim : p.n_embd / p.n_head;
  if (pure) mix->pure = true, mix->ftype_rules = {};

  auto vocab = gguf::File::open(*vocab_path);
  if (!vocab.ok()) {
    fmt::print(stderr, "nibble forge: {}\n", vocab.error().to_string());
    return 1;
  }
  const gguf::Value* tok = vocab->find("tokenizer.ggml.tokens");
  if (!tok || tok->type() != gguf::ValueType::array || tok->array_size() == 0) {
    fmt::print(stderr, "nibble forge: {}: no tokenizer.ggml.tokens array (not a vocab GGUF)\n",
               *vocab_path);
    return 1;
  }
  const int64_t n_tokens = static_cast<int64_t>(tok->array_size());
  const int64_t n_vocab = n_vocab_o ? parse_n_vocab(*n_vocab_o, base->n_vocab, n_tokens) : n_tokens;
  if (n_vocab < 0) {
    fmt::print(stderr,
               "nibble forge: --n-vocab {}: must be a number >= the vocabulary's {} "
               "tokens (or 'preset')\n",
               *n_vocab_o, n_tokens);
    return 2;
  }
  p.n_vocab = n_vocab;

  gguf::Writer meta;
  set_model_keys(p, hd, *mix, seed, n_vocab, &meta);
  if (!copy_tokenizer(*vocab, n_vocab, n_tokens, &meta)) {
    fmt::print(stderr, "nibble forge: {}: malformed tokenizer arrays\n", *vocab_path);
    return 1;
  }

  p.head_dim = hd;
  const std::vector<quant::PlannedTensor> plan = plan_tensors(p, *mix, seed);

  const int n_threads =
      threads ? static_cast<int>(*threads) : static_cast<int>(std::thread::hardware_concurrency());
  if (!quiet)
    fmt::print(stderr,
               "nibble forge: {} as {}{}: n_embd {}, {} layers, n_ff {}, {} heads ({} KV, dim "
               "{}), n_vocab {}, seed {} -> {} ({} threads)\n",
               p.name, mix->name, mix->pure ? " (pure)" : "", p.n_embd, p.n_layer, p.n_ff, p.n_head,
               p.n_head_kv, hd, n_vocab, seed, *out_path, n_threads);
  QuantProgress progress("nibble forge", quiet);
  quant::WriteOptions wo;
  wo.n_threads = n_threads;
  wo.reference_quantizers = !search;
  wo.progress = [&](const quant::Progress& pr) { progress(pr); };
  if (auto st = quant::write_model(meta, plan, *out_path, wo); !st.ok()) {
    fmt::print(stderr, "\nnibble forge: {}\n", st.error().to_string());
    return 1;
  }
  uint64_t bytes = 0;
  for (const auto& t : plan) bytes += quant::tensor_bytes(t.type, t.ne);
  progress.finish(bytes, plan.size());
  return 0;
}

}  // namespace

NIBBLE_COMMAND(forge, "write a random-weight model in a real model's layout (presets)", run_forge);

}  // namespace nibble::cli
