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

struct ForgeOptions {
  std::string preset, vocab_path, type, out_path, n_vocab;
  uint64_t seed = 1;
  ShapeOverrides shape;
  int threads = 0;
  bool pure = false, search = false, quiet = false, list = false;
};

int run_forge(const ForgeOptions& o, const Preset* base, quant::Mix* mix) {
  const std::string& vocab_path = o.vocab_path;
  const std::string& out_path = o.out_path;
  const uint64_t seed = o.seed;
  const bool quiet = o.quiet;
  Preset p = *base;
  const std::string bad = apply_shape(o.shape, &p);
  if (!bad.empty()) {
    fmt::print(stderr, "nibble forge: {}\n", bad);
    return 2;
  }
  const int64_t hd = p.head_dim ? p.head_dim : p.n_embd / p.n_head;
  if (o.pure) mix->pure = true, mix->ftype_rules = {};

  auto vocab = gguf::File::open(vocab_path);
  if (!vocab.ok()) {
    fmt::print(stderr, "nibble forge: {}\n", vocab.error().to_string());
    return 1;
  }
  const gguf::Value* tok = vocab->find("tokenizer.ggml.tokens");
  if (!tok || tok->type() != gguf::ValueType::array || tok->array_size() == 0) {
    fmt::print(stderr, "nibble forge: {}: no tokenizer.ggml.tokens array (not a vocab GGUF)\n",
               vocab_path);
    return 1;
  }
  const int64_t n_tokens = static_cast<int64_t>(tok->array_size());
  const int64_t n_vocab =
      o.n_vocab.empty() ? n_tokens : parse_n_vocab(o.n_vocab, base->n_vocab, n_tokens);
  if (n_vocab < 0) {
    fmt::print(stderr,
               "nibble forge: --n-vocab {}: must be a number >= the vocabulary's {} "
               "tokens (or 'preset')\n",
               o.n_vocab, n_tokens);
    return 2;
  }
  p.n_vocab = n_vocab;

  gguf::Writer meta;
  set_model_keys(p, hd, *mix, seed, n_vocab, &meta);
  if (!copy_tokenizer(*vocab, n_vocab, n_tokens, &meta)) {
    fmt::print(stderr, "nibble forge: {}: malformed tokenizer arrays\n", vocab_path);
    return 1;
  }

  p.head_dim = hd;
  const std::vector<quant::PlannedTensor> plan = plan_tensors(p, *mix, seed);

  const int n_threads =
      o.threads ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (!quiet)
    fmt::print(stderr,
               "nibble forge: {} as {}{}: n_embd {}, {} layers, n_ff {}, {} heads ({} KV, dim "
               "{}), n_vocab {}, seed {} -> {} ({} threads)\n",
               p.name, mix->name, mix->pure ? " (pure)" : "", p.n_embd, p.n_layer, p.n_ff, p.n_head,
               p.n_head_kv, hd, n_vocab, seed, out_path, n_threads);
  QuantProgress progress("nibble forge", quiet);
  quant::WriteOptions wo;
  wo.n_threads = n_threads;
  wo.reference_quantizers = !o.search;
  wo.progress = [&](const quant::Progress& pr) { progress(pr); };
  if (auto st = quant::write_model(meta, plan, out_path, wo); !st.ok()) {
    fmt::print(stderr, "\nnibble forge: {}\n", st.error().to_string());
    return 1;
  }
  uint64_t bytes = 0;
  for (const auto& t : plan) bytes += quant::tensor_bytes(t.type, t.ne);
  progress.finish(bytes, plan.size());
  return 0;
}

Runner setup_forge(CLI::App& app) {
  auto o = std::make_shared<ForgeOptions>();
  std::string types;
  for (auto n : quant::mix_names()) types += (types.empty() ? "" : ", ") + std::string(n);
  app.add_flag("--list", o->list, "print the presets' shapes and exit");
  app.add_option("--preset", o->preset, "real model layout: " + preset_list())->type_name("NAME");
  app.add_option("--vocab", o->vocab_path, "GGUF whose tokenizer (and embedding rows) to use")
      ->type_name("VOCAB.gguf");
  app.add_option("--type", o->type, "weight type or mix: " + types)->type_name("TYPE");
  app.add_option("-o,--output", o->out_path, "file to write")->type_name("OUT.gguf");
  app.add_option("--seed", o->seed, "random seed of the weights")->capture_default_str();
  auto shape = [&](const char* name, std::optional<long long>& v, long long max, const char* help) {
    app.add_option(name, v, help)->check(in_range(1, max))->group("Shape (default: the preset's)");
  };
  shape("--layers", o->shape.layers, 1024, "layers");
  shape("--embd", o->shape.embd, 65536, "embedding width");
  shape("--ff", o->shape.ff, 262144, "feed-forward width");
  shape("--heads", o->shape.heads, 1024, "attention heads");
  shape("--kv-heads", o->shape.kv_heads, 1024, "KV heads");
  shape("--head-dim", o->shape.head_dim, 1024, "head dimension");
  shape("--ctx", o->shape.ctx, 1 << 24, "trained context length");
  app.add_option("--n-vocab", o->n_vocab,
                 "pad the vocabulary with unused control tokens up to N rows ('preset': the real "
                 "model's size)")->type_name("N|preset");
  app.add_option("-t,--threads", o->threads, "threads (0: all hardware threads)")
      ->check(in_range(0, 256));
  app.add_flag("--pure", o->pure, "every matrix in TYPE's base type, no per-tensor rules");
  app.add_flag("--search", o->search,
               "k-quants with the error-minimising quantizer of nibble quantize (default: the "
               "fast reference one)");
  app.add_flag("-q,--quiet", o->quiet, "no progress on stderr");
  return [o, &app] {
    if (o->list) {
      list_presets();
      return 0;
    }
    for (auto [given, what] : {std::pair{!o->preset.empty(), "--preset NAME (" + preset_list() + ")"},
                               {!o->vocab_path.empty(), std::string("--vocab VOCAB.gguf")},
                               {!o->type.empty(), std::string("--type TYPE")},
                               {!o->out_path.empty(), std::string("-o OUT.gguf")}})
      if (!given) return usage_error(app, "missing " + what);
    const Preset* base = forge::find_preset(o->preset);
    if (!base)
      return usage_error(app, fmt::format("unknown preset '{}' (known: {})", o->preset, preset_list()));
    auto mix = quant::parse_mix(o->type);
    if (!mix) {
      std::string names;
      for (auto n : quant::mix_names()) names += (names.empty() ? "" : ", ") + std::string(n);
      return usage_error(app, fmt::format("unknown type '{}' (known: {})", o->type, names));
    }
    return run_forge(*o, base, &*mix);
  };
}

}  // namespace

NIBBLE_COMMAND(forge, "write a random-weight model in a real model's layout (presets)", setup_forge);

}  // namespace nibble::cli
