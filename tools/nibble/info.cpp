// `nibble info MODEL.gguf [--json]`: what a GGUF file holds — architecture and the key
// hyper-parameters, tokenizer kind and vocabulary size, every metadata key (arrays summarised),
// the tensor table and byte totals per tensor type. Works on any valid GGUF, including
// vocab-only files and unknown architectures: everything is looked up generically.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
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

using Json = nlohmann::ordered_json;

// Non-finite numbers are null; f32 values go through their shortest decimal form, so 1e-5
// is written as 1e-05 and not as the double 9.999999747378752e-06.
Json json_number(double d) { return std::isfinite(d) ? Json(d) : Json(); }
Json json_number(float f) {
  return std::isfinite(f) ? Json(std::stod(fmt::format("{}", f))) : Json();
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
      std::string_view s = *v.as_string();
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
      return *v.as_bool() ? "true" : "false";
    // f32 printed as a float, so 1e-5 reads as 1e-05 and not 9.999999747378752e-06.
    case ValueType::f32:
      return fmt::format("{}", static_cast<float>(*v.as_float()));
    case ValueType::f64:
      return fmt::format("{}", *v.as_float());
    default:
      if (v.is_integer()) {
        if (auto u = v.as_uint(); u.ok()) return fmt::format("{}", *u);
        return fmt::format("{}", *v.as_int());
      }
      return "?";
  }
}

// JSON rendering: scalars and strings as themselves, arrays of up to 64 scalars inline,
// larger arrays summarised as {"array_of": ..., "length": ...}.
Json json_value(const Value& v) {
  switch (v.type()) {
    case ValueType::string:
      return std::string(*v.as_string());
    case ValueType::array: {
      if (v.array_size() <= 64 && v.array_type() != ValueType::array) {
        Json a = Json::array();
        for (uint64_t i = 0; i < v.array_size(); ++i) a.push_back(json_value(v.at(i)));
        return a;
      }
      return {{"array_of", gguf::value_type_name(v.array_type())}, {"length", v.array_size()}};
    }
    case ValueType::boolean:
      return *v.as_bool();
    case ValueType::f32:
      return json_number(static_cast<float>(*v.as_float()));
    case ValueType::f64:
      return json_number(*v.as_float());
    default:
      if (auto u = v.as_uint(); u.ok()) return *u;
      if (auto i = v.as_int(); i.ok()) return *i;
      return nullptr;
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
  Json o = {{"file", f.path()},
            {"version", f.version()},
            {"alignment", f.alignment()},
            {"file_size", f.file_size()},
            {"data_offset", f.data_offset()},
            {"architecture", s.arch.empty() ? Json() : Json(s.arch)}};
  const Value* name = f.find("general.name");
  o["name"] = name ? json_value(*name) : Json();
  Json& hyper = o["hyper_parameters"] = Json::object();
  for (const auto& [key, value] : s.hyper) hyper[std::string(key)] = json_value(*value);
  o["tokenizer"] = {{"model", s.tok_model ? json_value(*s.tok_model) : Json()},
                    {"pre", s.tok_pre ? json_value(*s.tok_pre) : Json()},
                    {"vocab_size", s.has_vocab ? Json(s.vocab_size) : Json()}};
  Json& meta = o["metadata"] = Json::object();
  for (const auto& kv : f.metadata())
    meta[std::string(kv.key)] = {{"type", gguf::value_type_name(kv.value.type())},
                                 {"value", json_value(kv.value)}};
  Json& tensors = o["tensors"] = Json::array();
  for (const auto& t : f.tensors())
    tensors.push_back({{"name", t.name},
                       {"type", tensor_type_name(t.type)},
                       {"shape", std::vector<uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims)},
                       {"offset", t.offset},
                       {"bytes", t.n_bytes}});
  Json& totals = o["totals"] = Json::object();
  for (const auto& [tname, tt] : s.per_type)
    totals[std::string(tname)] = {
        {"tensors", tt.count}, {"elements", tt.elements}, {"bytes", tt.bytes}};
  o["total_tensors"] = f.tensors().size();
  o["total_bytes"] = s.total_bytes;
  // Keys and strings come from the file: bytes that are not UTF-8 become U+FFFD.
  return o.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

int run_info(const std::string& path, bool json) {
  auto f = gguf::File::open(path);
  if (!f.ok()) {
    fmt::print(stderr, "nibble info: {}\n", f.error().to_string());
    return 1;
  }
  std::string out = json ? print_json(*f) : print_text(*f);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

Runner setup_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  app.add_option("MODEL", *path, "the GGUF file")->required()->type_name("MODEL.gguf");
  app.add_flag("--json", *json, "the same as JSON");
  return [=] { return run_info(*path, *json); };
}

}  // namespace

NIBBLE_COMMAND(info, "print a GGUF file's metadata and tensor table", setup_info);

}  // namespace nibble::cli
