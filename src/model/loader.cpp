// load_model: validate the config, bind every tensor the architecture needs (naming the first
// missing or ill-shaped one), prepare matrices for the kernel table and release the mapped
// pages of matrices that were repacked (so weights are not held twice).
#include "model/loader.h"

#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "runtime/log.h"
#include "tokenizer/vocab.h"

namespace nibble::model {
namespace {

std::string shape_str(const gguf::TensorInfo& t) {
  std::string s = "[";
  for (uint32_t i = 0; i < t.n_dims; ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
  return s + "]";
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
    out->w = m_.kernels->prepare(t->type, rows, cols, t->data, allow_repack);
    if (out->w.data == nullptr)
      return Error(ErrorCode::unsupported_tensor_type, "unsupported tensor type " +
                                                           std::string(tensor_type_name(t->type)) +
                                                           " of tensor " + name);
    if (out->w.repacked()) {
      f_.release(t->data, t->n_bytes);
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

Status bind_layer(Binder& b, const Config& c, int il, Layer& L) {
  const std::string p = "blk." + std::to_string(il) + ".";
  const int64_t E = c.n_embd, Q = c.n_head * c.head_dim, KV = c.n_head_kv * c.head_dim;
  const int64_t F = c.n_ff;
  NIBBLE_TRY(b.vec(p + "attn_norm.weight", E, &L.attn_norm));
  if (c.arch == Arch::phi3) {
    NIBBLE_TRY(b.matrix(p + "attn_qkv.weight", Q + 2 * KV, E, &L.wqkv));
  } else {
    NIBBLE_TRY(b.matrix(p + "attn_q.weight", Q, E, &L.wq));
    NIBBLE_TRY(b.matrix(p + "attn_k.weight", KV, E, &L.wk));
    NIBBLE_TRY(b.matrix(p + "attn_v.weight", KV, E, &L.wv));
  }
  NIBBLE_TRY(b.matrix(p + "attn_output.weight", E, Q, &L.wo));
  const bool need_bias = c.arch == Arch::qwen2;
  NIBBLE_TRY(b.vec(p + "attn_q.bias", Q, &L.bq, need_bias));
  NIBBLE_TRY(b.vec(p + "attn_k.bias", KV, &L.bk, need_bias));
  NIBBLE_TRY(b.vec(p + "attn_v.bias", KV, &L.bv, need_bias));
  NIBBLE_TRY(b.vec(p + "attn_output.bias", E, &L.bo, false));
  const bool qk_norm = c.arch == Arch::qwen3 || c.arch == Arch::gemma3;
  NIBBLE_TRY(b.vec(p + "attn_q_norm.weight", c.head_dim, &L.q_norm, qk_norm));
  NIBBLE_TRY(b.vec(p + "attn_k_norm.weight", c.head_dim, &L.k_norm, qk_norm));
  const bool gemma = c.arch == Arch::gemma2 || c.arch == Arch::gemma3;
  NIBBLE_TRY(b.vec(p + "post_attention_norm.weight", E, &L.post_attn_norm, gemma));
  NIBBLE_TRY(b.vec(p + "post_ffw_norm.weight", E, &L.post_ffn_norm, gemma));
  NIBBLE_TRY(b.vec(p + "ffn_norm.weight", E, &L.ffn_norm));
  if (c.arch == Arch::bitnet) {
    NIBBLE_TRY(b.vec(p + "attn_sub_norm.weight", Q, &L.attn_sub_norm));
    NIBBLE_TRY(b.vec(p + "ffn_sub_norm.weight", F, &L.ffn_sub_norm));
  }
  if (c.arch == Arch::phi3) {
    NIBBLE_TRY(b.matrix(p + "ffn_up.weight", 2 * F, E, &L.ffn_gate_up));
  } else {
    NIBBLE_TRY(b.matrix(p + "ffn_gate.weight", F, E, &L.ffn_gate));
    NIBBLE_TRY(b.matrix(p + "ffn_up.weight", F, E, &L.ffn_up));
  }
  NIBBLE_TRY(b.matrix(p + "ffn_down.weight", E, F, &L.ffn_down));
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

  // Embeddings decide the vocabulary size unless the file states it.
  const gguf::TensorInfo* te = file->find_tensor("token_embd.weight");
  if (!te) return Error(ErrorCode::missing_tensor, "missing tensor token_embd.weight");
  if (te->n_dims != 2 || static_cast<int64_t>(te->ne[0]) != config.n_embd ||
      (config.n_vocab && static_cast<int64_t>(te->ne[1]) != config.n_vocab))
    return Error(ErrorCode::shape_mismatch, "tensor token_embd.weight has shape " + shape_str(*te) +
                                                ", expected [" + std::to_string(config.n_embd) +
                                                ", n_vocab]");
  config.n_vocab = static_cast<int64_t>(te->ne[1]);
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
  NIBBLE_TRY(b.vec("output_norm.bias", c.n_embd, &m->output_norm_b, false));
  NIBBLE_TRY(bind_rope_factors(b, *m));
  m->layers.resize(static_cast<size_t>(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) NIBBLE_TRY(bind_layer(b, c, il, m->layers[il]));
  if (file->find_tensor("output.weight")) {
    NIBBLE_TRY(b.matrix("output.weight", c.n_vocab, c.n_embd, &m->output));
  } else {
    // Tied head: the embedding rows double as output rows. Not repacked (lookups read it).
    NIBBLE_TRY(b.matrix("token_embd.weight", c.n_vocab, c.n_embd, &m->output, true, false));
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
