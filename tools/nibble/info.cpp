// `nibble info MODEL.gguf [--json]`: what a GGUF file holds — architecture and the key
// hyper-parameters, tokenizer kind and vocabulary size, every metadata key (arrays summarised),
// the tensor table and byte totals per tensor type. Works on any valid GGUF, including
// vocab-only files and unknown architectures: everything is looked up generically.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "command.h"
#include "json.h"
#include "gguf/gguf.h"

namespace nibble::cli {
namespace {

using gguf::Value;
using gguf::ValueType;

// Per-architecture keys worth showing, as suffixes of "<arch>.".
constexpr std::string_view kHyperKeys[] = {
    "context_length",
    "embedding_length",
    "block_count",
    "feed_forward_length",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.key_length",
    "attention.value_length",
    "attention.layer_norm_rms_epsilon",
    "attention.layer_norm_epsilon",
    "attention.sliding_window",
    "attn_logit_softcapping",
    "final_logit_softcapping",
    "rope.dimension_count",
    "rope.freq_base",
    "rope.scaling.type",
    "rope.scaling.factor",
    "vocab_size",
    "expert_count",
    "expert_used_count",
};

template <typename F>
std::string json_number(F d) {
  if (!std::isfinite(d)) return "null";
  return fmt::format("{}", d);
}

// Text form of file-provided text: control characters escaped, so a hostile string cannot
// drive the terminal.
std::string printable(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if (ch == '\n')
      out += "\\n";
    else if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out += ch;
  }
  return out;
}

// Text rendering of a value; long strings and arrays are abbreviated.
std::string text_value(const Value& v) {
  switch (v.type()) {
    case ValueType::string: {
      std::string_view s = v.str_;
      std::string shown = printable(s.substr(0, 80));
      return s.size() > 80 ? fmt::format("\"{}\"... ({} bytes)", shown, s.size())
                           : fmt::format("\"{}\"", shown);
    }
    case ValueType::array:
      if (v.array_type() == ValueType::array) return fmt::format("[array x {}]", v.array_size());
      if (v.array_size() <= 8 && v.array_type() != ValueType::string) {
        std::string s = "[";
        for (uint64_t i = 0; i < v.array_size(); ++i) s += (i ? ", " : "") + text_value(v.at(i));
        return s + "]";
      }
      return fmt::format("[{} x {}]", gguf::value_type_name(v.array_type()), v.array_size());
    case ValueType::boolean:
      return v.scalar_.u ? "true" : "false";
    // f32 printed as a float, so 1e-5 reads as 1e-05 and not 9.999999747378752e-06.
    case ValueType::f32:
      return fmt::format("{}", static_cast<float>(v.scalar_.f));
    case ValueType::f64:
      return fmt::format("{}", v.scalar_.f);
    default:
      if (v.is_integer()) {
        if (auto u = v.as_uint(); u.ok()) return fmt::format("{}", *u);
        return fmt::format("{}", *v.as_int());
      }
      return "?";
  }
}

// JSON rendering: scalars and strings as themselves, arrays of up to 64 scalars inline,
// larger arrays summarised as {"type": ..., "length": ...}.
std::string json_value(const Value& v) {
  switch (v.type()) {
    case ValueType::string:
      return json_string(v.str_);
    case ValueType::array:
      if (v.array_size() <= 64 && v.array_type() != ValueType::array) {
        std::string s = "[";
        for (uint64_t i = 0; i < v.array_size(); ++i) s += (i ? ", " : "") + json_value(v.at(i));
        return s + "]";
      }
      return fmt::format("{{\"array_of\": {}, \"length\": {}}}",
                         json_string(gguf::value_type_name(v.array_type())), v.array_size());
    case ValueType::boolean:
      return v.scalar_.u ? "true" : "false";
    case ValueType::f32:
      return json_number(static_cast<float>(v.scalar_.f));
    case ValueType::f64:
      return json_number(v.scalar_.f);
    default:
      if (auto u = v.as_uint(); u.ok()) return fmt::format("{}", *u);
      if (auto i = v.as_int(); i.ok()) return fmt::format("{}", *i);
      return "null";
  }
}

std::string shape_text(const gguf::TensorInfo& t) {
  std::string s;
  for (uint32_t d = 0; d < t.n_dims; ++d) s += fmt::format("{}{}", d ? " x " : "", t.ne[d]);
  return s;
}

struct Summary {
  std::string arch;  // empty when general.architecture is absent or not a string
  std::vector<std::pair<std::string, const Value*>> hyper;
  const Value* tok_model = nullptr;
  const Value* tok_pre = nullptr;
  uint64_t vocab_size = 0;
  bool has_vocab = false;
  struct TypeTotal {
    uint64_t count = 0, bytes = 0, elements = 0;
  };
  std::map<std::string, TypeTotal> per_type;
  uint64_t total_bytes = 0, total_elements = 0;
};

Summary summarize(const gguf::File& f) {
  Summary s;
  if (auto a = f.get_string("general.architecture"); a.ok()) s.arch = std::string(*a);
  if (!s.arch.empty())
    for (std::string_view k : kHyperKeys)
      if (const Value* v = f.find(s.arch + "." + std::string(k))) s.hyper.emplace_back(k, v);
  s.tok_model = f.find("tokenizer.ggml.model");
  s.tok_pre = f.find("tokenizer.ggml.pre");
  if (const Value* t = f.find("tokenizer.ggml.tokens"); t && t->type() == ValueType::array) {
    s.vocab_size = t->array_size();
    s.has_vocab = true;
  }
  for (const auto& t : f.tensors()) {
    auto& tt = s.per_type[std::string(tensor_type_name(t.type))];
    ++tt.count;
    tt.bytes += t.n_bytes;
    tt.elements += t.n_elements;
    s.total_bytes += t.n_bytes;
    s.total_elements += t.n_elements;
  }
  return s;
}

std::string print_text(const gguf::File& f) {
  Summary s = summarize(f);
  std::string o;
  auto line = [&o](std::string_view k, const std::string& v) {
    o += fmt::format("{:<34} {}\n", k, v);
  };
  line("file", printable(f.path()));
  line("format", fmt::format("GGUF v{}, alignment {}, {} bytes, tensor data at {}", f.version(),
                             f.alignment(), f.file_size(), f.data_offset()));
  line("architecture", s.arch.empty() ? "(none)" : printable(s.arch));
  if (const Value* n = f.find("general.name")) line("name", text_value(*n));
  for (auto& [k, v] : s.hyper) line(fmt::format("  {}", k), text_value(*v));
  line("tokenizer", s.tok_model ? text_value(*s.tok_model) : "(none)");
  if (s.tok_pre) line("  pre", text_value(*s.tok_pre));
  if (s.has_vocab) line("  vocab size", fmt::format("{}", s.vocab_size));
  o += fmt::format("\nmetadata ({} keys)\n", f.metadata().size());
  for (const auto& kv : f.metadata())
    o += fmt::format("  {:<44} {:<7} {}\n", printable(kv.key),
                     gguf::value_type_name(kv.value.type()), text_value(kv.value));
  o += fmt::format("\ntensors ({}, {} elements, {} bytes)\n", f.tensors().size(), s.total_elements,
                   s.total_bytes);
  if (!f.tensors().empty())
    o += fmt::format("  {:<40} {:<8} {:<24} {:>12}\n", "name", "type", "shape", "bytes");
  for (const auto& t : f.tensors())
    o += fmt::format("  {:<40} {:<8} {:<24} {:>12}\n", printable(t.name), tensor_type_name(t.type),
                     shape_text(t), t.n_bytes);
  if (!s.per_type.empty()) {
    o += "\ntotals per type\n";
    for (auto& [name, tt] : s.per_type)
      o += fmt::format("  {:<8} {:>5} tensors {:>14} elements {:>12} bytes\n", name, tt.count,
                       tt.elements, tt.bytes);
  }
  return o;
}

std::string print_json(const gguf::File& f) {
  Summary s = summarize(f);
  std::string o = "{\n";
  o += fmt::format("  \"file\": {},\n", json_string(f.path()));
  o += fmt::format("  \"version\": {},\n  \"alignment\": {},\n  \"file_size\": {},\n", f.version(),
                   f.alignment(), f.file_size());
  o += fmt::format("  \"data_offset\": {},\n", f.data_offset());
  o += fmt::format("  \"architecture\": {},\n", s.arch.empty() ? "null" : json_string(s.arch));
  const Value* name = f.find("general.name");
  o += fmt::format("  \"name\": {},\n", name ? json_value(*name) : "null");
  o += "  \"hyper_parameters\": {";
  for (size_t i = 0; i < s.hyper.size(); ++i)
    o += fmt::format("{}\n    {}: {}", i ? "," : "", json_string(s.hyper[i].first),
                     json_value(*s.hyper[i].second));
  o += s.hyper.empty() ? "},\n" : "\n  },\n";
  o += fmt::format("  \"tokenizer\": {{\"model\": {}, \"pre\": {}, \"vocab_size\": {}}},\n",
                   s.tok_model ? json_value(*s.tok_model) : "null",
                   s.tok_pre ? json_value(*s.tok_pre) : "null",
                   s.has_vocab ? fmt::format("{}", s.vocab_size) : "null");
  o += "  \"metadata\": {";
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    const auto& kv = f.metadata()[i];
    o += fmt::format("{}\n    {}: {{\"type\": {}, \"value\": {}}}", i ? "," : "",
                     json_string(kv.key), json_string(gguf::value_type_name(kv.value.type())),
                     json_value(kv.value));
  }
  o += f.metadata().empty() ? "},\n" : "\n  },\n";
  o += "  \"tensors\": [";
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& t = f.tensors()[i];
    std::string shape;
    for (uint32_t d = 0; d < t.n_dims; ++d) shape += fmt::format("{}{}", d ? ", " : "", t.ne[d]);
    o += fmt::format(
        "{}\n    {{\"name\": {}, \"type\": {}, \"shape\": [{}], \"offset\": {}, \"bytes\": {}}}",
        i ? "," : "", json_string(t.name), json_string(tensor_type_name(t.type)), shape, t.offset,
        t.n_bytes);
  }
  o += f.tensors().empty() ? "],\n" : "\n  ],\n";
  o += "  \"totals\": {";
  size_t i = 0;
  for (auto& [tname, tt] : s.per_type)
    o += fmt::format("{}\n    {}: {{\"tensors\": {}, \"elements\": {}, \"bytes\": {}}}",
                     i++ ? "," : "", json_string(tname), tt.count, tt.elements, tt.bytes);
  o += s.per_type.empty() ? "},\n" : "\n  },\n";
  o += fmt::format("  \"total_tensors\": {},\n  \"total_bytes\": {}\n}}\n", f.tensors().size(),
                   s.total_bytes);
  return o;
}

int run_info(Args& args) {
  if (args.flag({"--help", "-h"})) {
    fmt::print(stdout,
               "usage: nibble info MODEL.gguf [--json]\n"
               "Prints a GGUF file's architecture, hyper-parameters, tokenizer, metadata and "
               "tensor table.\n  --json   the same as JSON\n");
    return 0;
  }
  bool json = args.flag({"--json"});
  auto pos = args.positionals();
  if (!args.finish()) return 2;
  if (pos.size() != 1) {
    fmt::print(stderr, "usage: nibble info MODEL.gguf [--json]\n");
    return 2;
  }
  auto f = gguf::File::open(pos[0]);
  if (!f.ok()) {
    fmt::print(stderr, "nibble info: {}\n", f.error().to_string());
    return 1;
  }
  std::string out = json ? print_json(*f) : print_text(*f);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

NIBBLE_COMMAND(info, "print a GGUF file's metadata and tensor table", run_info);

}  // namespace nibble::cli
