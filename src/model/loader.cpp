// load_model: validate the config, bind every tensor the architecture needs (naming the first
// missing or ill-shaped one), prepare matrices for the kernel table and release the mapped
// pages of matrices that were repacked (so weights are not held twice).
#include "model/loader.h"

#include <cmath>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "runtime/large_buffer.h"
#include "runtime/log.h"
#include "tokenizer/vocab.h"

namespace nibble::model {
namespace {

std::string shape_str(const gguf::TensorInfo& t) {
  std::string s = "[";
  for (uint32_t i = 0; i < t.n_dims; ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
  return s + "]";
}

// Repacked weights in a LargeBuffer: 2 MiB-aligned with MADV_HUGEPAGE, so a decode step's
// pass over ~0.6 GB of weights walks about 300 huge pages instead of 150k small ones (the
// last, partial 2 MiB of each matrix stays on small pages, so no memory is wasted). Null on
// failure: prepare() then falls back to operator new.
std::shared_ptr<void> repacked_alloc(size_t bytes) {
  try {
    auto b = std::make_shared<LargeBuffer>(bytes);
    return std::shared_ptr<void>(b, b->data());
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

class Binder {
 public:
  Binder(LoadedModel& m, const gguf::File& f, const LoadOptions& o) : m_(m), f_(f), opt_(o) {
    n_total_ = 0;
    for (const auto& t : f.tensors()) n_total_ += t.n_bytes;
  }

  // A 2-D matrix of `rows` x `cols` (GGUF ne = {cols, rows}).
  Status matrix(const std::string& name, int64_t rows, int64_t cols, Matrix* out,
                bool required = true, bool allow_repack = true) {
    const gguf::TensorInfo* t = f_.find_tensor(name);
    if (!t) {
      if (!required) return ok_status();
      return Error(ErrorCode::missing_tensor, "missing tensor " + name);
    }
    if (t->n_dims > 2 || static_cast<int64_t>(t->ne[0]) != cols ||
        static_cast<int64_t>(t->ne[1]) != rows)
      return Error(ErrorCode::shape_mismatch, "tensor " + name + " has shape " + shape_str(*t) +
                                                  ", expected [" + std::to_string(cols) + ", " +
                                                  std::to_string(rows) + "]");
    if (!m_.kernels->supports(t->type))
      return Error(ErrorCode::unsupported_tensor_type, "unsupported tensor type " +
                                                           std::string(tensor_type_name(t->type)) +
                                                           " of tensor " + name);
    // A repacked matrix's source pages are dropped slice by slice as they are consumed.
    out->w = m_.kernels->prepare(
        t->type, rows, cols, t->data, allow_repack,
        [this](const void* p, size_t n) { f_.release(p, n); }, repacked_alloc);
    if (out->w.data == nullptr)
      return Error(ErrorCode::unsupported_tensor_type, "unsupported tensor type " +
                                                           std::string(tensor_type_name(t->type)) +
                                                           " of tensor " + name);
    if (out->w.repacked()) {
      m_.weight_bytes += out->w.bytes;  // the owned copy (whole row groups, padding included)
    } else {
      m_.weight_bytes += t->n_bytes;
    }
    // Optional per-tensor scale (BitNet): "<name without .weight>.scale", one float.
    std::string base = name.substr(0, name.size() - 7);  // strip ".weight"
    if (const gguf::TensorInfo* s = f_.find_tensor(base + ".scale")) {
      if (s->n_elements != 1)
        return Error(ErrorCode::shape_mismatch, "tensor " + base + ".scale must hold one value");
      float v = 0;
      if (s->type == TensorType::F32)
        std::memcpy(&v, s->data, 4);
      else if (s->type == TensorType::F16 || s->type == TensorType::BF16) {
        Vec tmp;
        NIBBLE_TRY(vec(base + ".scale", 1, &tmp, true));
        v = tmp[0];
      } else {
        return Error(ErrorCode::unsupported_tensor_type,
                     "unsupported tensor type " + std::string(tensor_type_name(s->type)) +
                         " of tensor " + base + ".scale");
      }
      out->scale = v;
    }
    return report(t->n_bytes);
  }

  // A 1-D vector of n values (any float type), converted to f32.
  Status vec(const std::string& name, int64_t n, Vec* out, bool required = true) {
    const gguf::TensorInfo* t = f_.find_tensor(name);
    if (!t) {
      if (!required) return ok_status();
      return Error(ErrorCode::missing_tensor, "missing tensor " + name);
    }
    if (static_cast<int64_t>(t->n_elements) != n || t->ne[0] != t->n_elements)
      return Error(ErrorCode::shape_mismatch, "tensor " + name + " has shape " + shape_str(*t) +
                                                  ", expected [" + std::to_string(n) + "]");
    out->resize(static_cast<size_t>(n));
    switch (t->type) {
      case TensorType::F32:
        std::memcpy(out->data(), t->data, n * sizeof(float));
        break;
      case TensorType::F16:
        m_.kernels->f16_to_f32(reinterpret_cast<const uint16_t*>(t->data), out->data(), n);
        break;
      case TensorType::BF16:
        for (int64_t i = 0; i < n; ++i) {
          uint32_t bits = uint32_t{t->data[2 * i]} << 16 | uint32_t{t->data[2 * i + 1]} << 24;
          std::memcpy(&(*out)[i], &bits, 4);
        }
        break;
      default:
        return Error(ErrorCode::unsupported_tensor_type,
                     "unsupported tensor type " + std::string(tensor_type_name(t->type)) +
                         " of tensor " + name);
    }
    // Norm weights, biases and factors are few: a NaN or Inf among them would turn every
    // activation after it into NaN (and the output into nothing), so it is refused here.
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite((*out)[i]))
        return Error(ErrorCode::corrupt_metadata, "tensor " + name + " holds a non-finite value (" +
                                                      std::to_string((*out)[i]) + ") at index " +
                                                      std::to_string(i));
    m_.weight_bytes += t->n_bytes;
    return ok_status();
  }

 private:
  Status report(uint64_t bytes) {
    done_ += bytes;
    if (opt_.progress && n_total_ > 0) {
      float p = static_cast<float>(static_cast<double>(done_) / static_cast<double>(n_total_));
      if (!opt_.progress(p > 1 ? 1.0f : p))
        return Error(ErrorCode::cancelled, "model load cancelled");
    }
    return ok_status();
  }

  LoadedModel& m_;
  const gguf::File& f_;
  const LoadOptions& opt_;
  uint64_t n_total_ = 0, done_ = 0;
};

// The tensors of layer N that an architecture has (names after "blk.N."), with their shapes.
// Matrices are rows x cols; vectors have `rows` values.
enum class Dim : uint8_t { embd, q, kv, qkv, ff, ff2, head };
struct LayerTensor {
  const char* name;
  Dim rows, cols;
  Matrix Layer::*mat;  // one of mat / vec
  Vec Layer::*vec;
  Need need;
};

std::vector<LayerTensor> layer_tensors(const ArchDescriptor& d) {
  using L = Layer;
  constexpr Need req = Need::required;
  std::vector<LayerTensor> t = {
      {"attn_norm.weight", Dim::embd, Dim::embd, nullptr, &L::attn_norm, req}};
  if (d.fused_qkv) {
    t.push_back({"attn_qkv.weight", Dim::qkv, Dim::embd, &L::wqkv, nullptr, req});
  } else {
    t.push_back({"attn_q.weight", Dim::q, Dim::embd, &L::wq, nullptr, req});
    t.push_back({"attn_k.weight", Dim::kv, Dim::embd, &L::wk, nullptr, req});
    t.push_back({"attn_v.weight", Dim::kv, Dim::embd, &L::wv, nullptr, req});
  }
  const LayerTensor rest[] = {
      {"attn_output.weight", Dim::embd, Dim::q, &L::wo, nullptr, req},
      {"attn_q.bias", Dim::q, Dim::q, nullptr, &L::bq, d.qkv_bias},
      {"attn_k.bias", Dim::kv, Dim::kv, nullptr, &L::bk, d.qkv_bias},
      {"attn_v.bias", Dim::kv, Dim::kv, nullptr, &L::bv, d.qkv_bias},
      {"attn_output.bias", Dim::embd, Dim::embd, nullptr, &L::bo, d.out_bias},
      {"attn_q_norm.weight", Dim::head, Dim::head, nullptr, &L::q_norm, d.qk_norm},
      {"attn_k_norm.weight", Dim::head, Dim::head, nullptr, &L::k_norm, d.qk_norm},
      {"post_attention_norm.weight", Dim::embd, Dim::embd, nullptr, &L::post_attn_norm,
       d.post_norms},
      {"post_ffw_norm.weight", Dim::embd, Dim::embd, nullptr, &L::post_ffn_norm, d.post_norms},
      {"ffn_norm.weight", Dim::embd, Dim::embd, nullptr, &L::ffn_norm, req},
      {"attn_sub_norm.weight", Dim::q, Dim::q, nullptr, &L::attn_sub_norm, d.sub_norms},
      {"ffn_sub_norm.weight", Dim::ff, Dim::ff, nullptr, &L::ffn_sub_norm, d.sub_norms},
  };
  t.insert(t.end(), std::begin(rest), std::end(rest));
  if (d.fused_gate_up) {
    t.push_back({"ffn_up.weight", Dim::ff2, Dim::embd, &L::ffn_gate_up, nullptr, req});
  } else {
    t.push_back({"ffn_gate.weight", Dim::ff, Dim::embd, &L::ffn_gate, nullptr, req});
    t.push_back({"ffn_up.weight", Dim::ff, Dim::embd, &L::ffn_up, nullptr, req});
  }
  t.push_back({"ffn_down.weight", Dim::embd, Dim::ff, &L::ffn_down, nullptr, req});
  return t;
}

int64_t extent(const Config& c, Dim d) {
  const int64_t q = c.n_head * c.head_dim, kv = c.n_head_kv * c.head_dim;
  switch (d) {
    case Dim::embd:
      return c.n_embd;
    case Dim::q:
      return q;
    case Dim::kv:
      return kv;
    case Dim::qkv:
      return q + 2 * kv;
    case Dim::ff:
      return c.n_ff;
    case Dim::ff2:
      return 2 * c.n_ff;
    case Dim::head:
      return c.head_dim;
  }
  return 0;
}

// A tensor the architecture does not have would be silently ignored: refuse the file instead.
Status refuse_unused(const gguf::File& f, const Config& c, const std::string& name) {
  if (!f.find_tensor(name)) return ok_status();
  return Error(ErrorCode::unsupported_architecture,
               "tensor " + name + " is not part of architecture " + c.arch_name +
                   " (nibble would ignore it and compute wrong results)");
}

Status bind_layer(Binder& b, const gguf::File& f, const Config& c,
                  std::span<const LayerTensor> tensors, int il, Layer& L) {
  const std::string p = "blk." + std::to_string(il) + ".";
  for (const LayerTensor& t : tensors) {
    const std::string name = p + t.name;
    if (t.need == Need::absent) {
      NIBBLE_TRY(refuse_unused(f, c, name));
    } else if (t.mat) {
      NIBBLE_TRY(b.matrix(name, extent(c, t.rows), extent(c, t.cols), &(L.*t.mat),
                          t.need == Need::required));
    } else {
      NIBBLE_TRY(b.vec(name, extent(c, t.rows), &(L.*t.vec), t.need == Need::required));
    }
  }
  return ok_status();
}

// Frequency-factor tensors (Llama 3 rope_freqs, LongRoPE short/long) and the combinations of
// them with the rope.scaling keys that nibble computes; other combinations are refused.
Status bind_rope_factors(Binder& b, LoadedModel& m) {
  Config& c = m.config;
  const int64_t half = c.n_rot / 2;
  NIBBLE_TRY(b.vec("rope_freqs.weight", half, &m.rope_freqs, false));
  NIBBLE_TRY(b.vec("rope_factors_short.weight", half, &m.rope_factors_short, false));
  NIBBLE_TRY(b.vec("rope_factors_long.weight", half, &m.rope_factors_long, false));
  for (const auto& [name, v] : {std::pair{"rope_freqs.weight", &m.rope_freqs},
                                {"rope_factors_short.weight", &m.rope_factors_short},
                                {"rope_factors_long.weight", &m.rope_factors_long}})
    for (float x : *v)
      if (!std::isfinite(x) || !(x > 0.0f) || x > 1e6f)
        return Error(ErrorCode::corrupt_metadata, std::string("tensor ") + name +
                                                      " holds a frequency factor out of range "
                                                      "(0, 1e6]: " +
                                                      std::to_string(x));
  const bool has_short = !m.rope_factors_short.empty(), has_long = !m.rope_factors_long.empty();
  if (has_short != has_long || (c.rope_scaling == RopeScaling::longrope && !has_long))
    return Error(ErrorCode::missing_tensor,
                 std::string("missing tensor ") +
                     (has_long ? "rope_factors_short.weight" : "rope_factors_long.weight") +
                     " (LongRoPE needs both factor sets)");
  if (has_long) {
    if (c.rope_scaling == RopeScaling::linear || c.rope_scaling == RopeScaling::yarn)
      return Error(ErrorCode::unsupported_architecture,
                   "unsupported rope scaling: LongRoPE factor tensors with " + c.arch_name +
                       ".rope.scaling.type " +
                       (c.rope_scaling == RopeScaling::yarn ? "yarn" : "linear"));
    if (!m.rope_freqs.empty())
      return Error(ErrorCode::unsupported_architecture,
                   "unsupported rope scaling: rope_freqs.weight together with LongRoPE factors");
    if (c.rope_ctx_orig < 2)
      return Error(ErrorCode::corrupt_metadata,
                   c.arch_name + ".rope.scaling.original_context_length must be at least 2");
    c.rope_scaling = RopeScaling::longrope;
    // The attention factor's definition (Phi-3 LongRoPE) when the file does not state it.
    const double scale = static_cast<double>(c.n_ctx_train) / static_cast<double>(c.rope_ctx_orig);
    if (!c.rope_attn_factor_key)
      c.rope_attn_factor =
          scale > 1.0 ? static_cast<float>(std::sqrt(
                            1.0 + std::log(scale) / std::log(static_cast<double>(c.rope_ctx_orig))))
                      : 1.0f;
  }
  if (!m.rope_freqs.empty() && c.rope_scaling == RopeScaling::yarn)
    return Error(ErrorCode::unsupported_architecture,
                 "unsupported rope scaling: rope_freqs.weight together with YaRN");
  return ok_status();
}

// The embedding rows against the tokenizer's piece count (tokenizer.ggml.tokens), when the
// file has a tokenizer; checked even when the caller does not load it.
Status check_vocabulary(const gguf::File& f, int64_t n_vocab) {
  const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type() != gguf::ValueType::array) return ok_status();
  if (tokens->array_size() == static_cast<uint64_t>(n_vocab)) return ok_status();
  return Error(ErrorCode::shape_mismatch, "tensor token_embd.weight has " +
                                              std::to_string(n_vocab) +
                                              " rows but tokenizer.ggml.tokens holds " +
                                              std::to_string(tokens->array_size()) + " pieces");
}

}  // namespace

Result<std::shared_ptr<const LoadedModel>> load_model(const std::string& path,
                                                      const LoadOptions& options) {
  auto file_r = gguf::File::open(path);
  if (!file_r.ok()) return std::move(file_r).error();
  auto file = std::make_shared<const gguf::File>(std::move(file_r).value());
  NIBBLE_ASSIGN_OR_RETURN(Config config, read_config(*file));

  auto m = std::make_shared<LoadedModel>();
  m->file = file;
  m->kernels = &kernels::KernelTable::get(options.isa_cap);

  // Embeddings decide the vocabulary size unless the file states it; either way the rows must
  // match the tokenizer's pieces (else ids without text, or text without rows).
  const gguf::TensorInfo* te = file->find_tensor("token_embd.weight");
  if (!te) return Error(ErrorCode::missing_tensor, "missing tensor token_embd.weight");
  if (te->n_dims != 2 || static_cast<int64_t>(te->ne[0]) != config.n_embd ||
      (config.n_vocab && static_cast<int64_t>(te->ne[1]) != config.n_vocab))
    return Error(ErrorCode::shape_mismatch,
                 "tensor token_embd.weight has shape " + shape_str(*te) + ", expected [" +
                     std::to_string(config.n_embd) + ", " +
                     (config.n_vocab ? std::to_string(config.n_vocab) + "] (" + config.arch_name +
                                           ".vocab_size)"
                                     : std::string("n_vocab]")));
  config.n_vocab = static_cast<int64_t>(te->ne[1]);
  NIBBLE_TRY(check_vocabulary(*file, config.n_vocab));
  const auto ti = tensor_type_info(te->type);
  if (!m->kernels->supports(te->type) || ti.block_size == 0 || config.n_embd % ti.block_size != 0)
    return Error(
        ErrorCode::unsupported_tensor_type,
        "unsupported tensor type " + std::string(ti.name) + " of tensor token_embd.weight");
  m->tok_embd_type = te->type;
  m->tok_embd = te->data;
  m->tok_embd_row_bytes = static_cast<size_t>(config.n_embd / ti.block_size) * ti.type_size;
  m->weight_bytes += te->n_bytes;
  m->config = std::move(config);
  const Config& c = m->config;

  Binder b(*m, *file, options);
  NIBBLE_TRY(b.vec("output_norm.weight", c.n_embd, &m->output_norm));
  NIBBLE_TRY(refuse_unused(*file, c, "output_norm.bias"));  // RMSNorm has no bias
  NIBBLE_TRY(bind_rope_factors(b, *m));
  m->layers.resize(static_cast<size_t>(c.n_layer));
  const std::vector<LayerTensor> tensors = layer_tensors(*c.arch);
  for (int il = 0; il < c.n_layer; ++il)
    NIBBLE_TRY(bind_layer(b, *file, c, tensors, il, m->layers[il]));
  if (file->find_tensor("output.weight")) {
    NIBBLE_TRY(b.matrix("output.weight", c.n_vocab, c.n_embd, &m->output));
  } else {
    // Tied head: the embedding matrix doubles as the output matrix, repacked like any other
    // (its decode GEMV is a quarter of a 1B model's bytes; the plain kernels ran it at about
    // half the bandwidth). The token lookup still reads the GGUF rows through the mapping:
    // the pages released after packing fault back in from the file, one row per token.
    NIBBLE_TRY(b.matrix("token_embd.weight", c.n_vocab, c.n_embd, &m->output));
    m->weight_bytes -= te->n_bytes;  // counted once
  }

  if (options.load_tokenizer) {
    auto tok = tokenizer_from_gguf(*file);
    if (!tok.ok()) return std::move(tok).error();
    m->tokenizer = std::move(tok).value();
  }
  NIBBLE_LOG_INFO("loaded {} ({} layers, n_embd {}, n_vocab {}, kernels {})", c.arch_name,
                  c.n_layer, c.n_embd, c.n_vocab, kernels::isa_name(m->kernels->isa()));
  return std::shared_ptr<const LoadedModel>(std::move(m));
}

}  // namespace nibble::model
