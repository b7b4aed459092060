// `nibble quantize IN.gguf OUT.gguf TYPE [--threads N] [--stats] [--pure]
//  [--allow-requantize] [--quiet]`: converts a model's matrices to a weight type or a named mix
// (per-tensor rules in src/quant/mix.cpp), copies every metadata key, sets
// general.file_type, and writes OUT through a temporary file renamed at the end.
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "gguf/gguf.h"
#include "kernels/ref/ref.h"
#include "quant/mix.h"
#include "quant/row.h"
#include "quant/writer.h"
#include "quantize_ui.h"

namespace nibble::cli {
namespace {

struct QuantizeOptions {
  std::string in_path, out_path, type;
  int threads = 0;
  bool want_stats = false, pure = false, allow_requant = false, quiet = false;
};

std::string names_list() {
  std::string s;
  for (auto n : quant::mix_names()) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

bool is_float(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16;
}

quant::ModelShape model_shape(const gguf::File& f) {
  quant::ModelShape s;
  s.arch = std::string(f.get_string_or("general.architecture", "").value_or(""));
  auto u = [&](const std::string& k) {
    return static_cast<int>(f.get_uint_or(s.arch + "." + k, 0).value_or(0));
  };
  s.n_layer = u("block_count");
  s.n_head = u("attention.head_count");
  s.n_head_kv = u("attention.head_count_kv");
  if (s.n_head_kv == 0) s.n_head_kv = s.n_head;
  for (const auto& t : f.tensors()) {
    if (t.name == "output.weight") s.has_output = true;
    if (t.name.find("attn_v.weight") != std::string_view::npos ||
        t.name.find("attn_qkv.weight") != std::string_view::npos)
      ++s.n_attn_v;
  }
  if (s.n_layer == 0)  // no block_count key: count the layers named in the tensors
    for (const auto& t : f.tensors()) s.n_layer = std::max(s.n_layer, quant::layer_of(t.name) + 1);
  return s;
}

int run_quantize(const QuantizeOptions& o, quant::Mix mix) {
  if (o.pure) {
    mix.pure = true;
    mix.ftype_rules = {};
  }
  const std::string &in_path = o.in_path, &out_path = o.out_path;
  const bool allow_requant = o.allow_requant, quiet = o.quiet, want_stats = o.want_stats;

  auto file = gguf::File::open(in_path);
  if (!file.ok()) {
    fmt::print(stderr, "nibble quantize: {}\n", file.error().to_string());
    return 1;
  }
  const gguf::File& f = *file;
  const quant::ModelShape shape = model_shape(f);

  // Plan every tensor first: all errors are reported before anything is written.
  std::vector<quant::PlannedTensor> plan;
  int i_attn_v = 0;
  bool warned_q8 = false;
  for (const gguf::TensorInfo& t : f.tensors()) {
    std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    const std::string name(t.name);
    quant::TypeChoice c = quant::choose_type(mix, shape, name, ne, t.type, i_attn_v);
    if (name.find("attn_v.weight") != std::string::npos) ++i_attn_v;
    quant::PlannedTensor p{name, ne, c.type, {}, {}, c.fallback};
    if (!c.quantize) {
      p.type = t.type;
      p.raw = std::span<const uint8_t>(t.data, t.n_bytes);
      p.note.clear();
      plan.push_back(std::move(p));
      continue;
    }
    if (!is_float(t.type) && !is_float(c.type)) {  // decoding to a float type is lossless
      if (t.type == TensorType::Q8_0 && !warned_q8) {
        fmt::print(stderr,
                   "nibble quantize: warning: re-quantizing Q8_0 tensors (from {}); the result "
                   "carries both roundings; quantize from F16/F32 when you have it\n",
                   name);
        warned_q8 = true;
      } else if (t.type != TensorType::Q8_0 && !allow_requant) {
        fmt::print(stderr,
                   "nibble quantize: tensor {} is {}; re-quantizing it compounds the errors of "
                   "both types (pass --allow-requantize to do it anyway)\n",
                   name, tensor_type_name(t.type));
        return 1;
      }
    }
    if (!quant::writable(c.type)) {
      fmt::print(stderr, "nibble quantize: no quantizer for {} (tensor {})\n",
                 tensor_type_name(c.type), name);
      return 1;
    }
    const uint64_t cols = t.ne[0];
    const uint64_t in_row = quant::row_bytes(t.type, cols);
    std::vector<float> probe(cols);
    if (in_row == 0 || !kernels::ref::dequantize_row(t.type, t.data, probe.data(),
                                                     static_cast<int64_t>(cols))) {
      fmt::print(stderr, "nibble quantize: cannot read tensor {} of type {}\n", name,
                 tensor_type_name(t.type));
      return 1;
    }
    const uint8_t* data = t.data;
    const TensorType in_type = t.type;
    p.rows = [data, in_type, in_row, cols](int64_t row, int64_t n, float* out) {
      kernels::ref::dequantize_row(in_type, data + static_cast<uint64_t>(row) * in_row, out,
                                   n * static_cast<int64_t>(cols));
    };
    plan.push_back(std::move(p));
  }

  gguf::Writer meta;
  for (const gguf::KeyValue& kv : f.metadata()) meta.set_value(std::string(kv.key), kv.value);
  meta.set_u32("general.quantization_version", 2);
  meta.set_u32("general.file_type", mix.file_type);

  if (!quiet)
    fmt::print(stderr, "nibble quantize: {} -> {} as {}{} ({} tensors, {} threads)\n", in_path,
               out_path, mix.name, mix.pure ? " (pure)" : "", plan.size(),
               o.threads > 0 ? static_cast<unsigned>(o.threads) : std::thread::hardware_concurrency());
  QuantProgress progress("nibble quantize", quiet);
  quant::WriteOptions wo;
  wo.n_threads = o.threads;
  wo.alignment = static_cast<uint32_t>(f.alignment());
  wo.stats = want_stats;
  wo.progress = [&](const quant::Progress& p) { progress(p); };
  std::vector<quant::TensorStats> stats;
  if (auto st = quant::write_model(meta, plan, out_path, wo, &stats); !st.ok()) {
    fmt::print(stderr, "\nnibble quantize: {}\n", st.error().to_string());
    return 1;
  }
  uint64_t bytes = 0;
  for (const auto& p : plan) bytes += quant::tensor_bytes(p.type, p.ne);
  progress.finish(bytes, plan.size());
  if (want_stats) print_quant_stats(stats);
  return 0;
}

Runner setup_quantize(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  app.add_option("IN", o->in_path, "model to convert")->required()->type_name("IN.gguf");
  app.add_option("OUT", o->out_path, "file to write (through a temporary file renamed at the end)")
      ->required()->type_name("OUT.gguf");
  app.add_option("TYPE", o->type, "weight type or mix: " + names_list())->required()->type_name("TYPE");
  app.add_option("-t,--threads", o->threads, "threads (0: all hardware threads)")
      ->check(in_range(0, 256))->capture_default_str();
  app.add_flag("--stats", o->want_stats, "per-tensor RMSE and max error on stdout");
  app.add_flag("--pure", o->pure, "every matrix in TYPE's base type, no per-tensor rules");
  app.add_flag("--allow-requantize", o->allow_requant,
               "convert matrices that are already quantized (besides Q8_0, which only warns)");
  app.add_flag("-q,--quiet", o->quiet, "no progress on stderr");
  app.footer("Input matrices F32, F16 or BF16 (Q8_0 with a warning; other quantized types only "
             "with --allow-requantize, or to a float TYPE).");
  return [o, &app] {
    auto mix = quant::parse_mix(o->type);
    if (!mix)
      return usage_error(app, fmt::format("unknown type '{}' (known: {})", o->type, names_list()));
    return run_quantize(*o, std::move(*mix));
  };
}

}  // namespace

NIBBLE_COMMAND(quantize, "convert a model's weights to a quantized type or mix (Q4_K_M, ...)",
               setup_quantize);

}  // namespace nibble::cli
