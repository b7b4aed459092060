// KernelTable: CPU features detected once, the best registered variant per weight format
// resolved once per ISA cap, row ops bound to their (scalar or SIMD) implementation.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "kernels/registry.h"
#include "kernels/row_ops.h"
#include "kernels/dispatch/cpu_features.h"

namespace nibble::kernels {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avxvnni: return "avxvnni";
    case Isa::avx512: return "avx512";
    case Isa::avx512vnni: return "avx512vnni";
    case Isa::amx: return "amx";
    case Isa::neon: return "neon";
    case Isa::dotprod: return "dotprod";
    case Isa::i8mm: return "i8mm";
  }
  return "unknown";
}

bool parse_isa(std::string_view name, Isa* out) {
  for (int i = 0; i <= static_cast<int>(Isa::i8mm); ++i) {
    if (isa_name(static_cast<Isa>(i)) == name) {
      *out = static_cast<Isa>(i);
      return true;
    }
  }
  return false;
}

bool isa_supported(Isa isa) {
  const auto& f = cpu_features();
  const bool avx512 = f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx2;
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return f.avx2;
    case Isa::avxvnni: return f.avx2 && f.avx_vnni;
    case Isa::avx512: return avx512;
    case Isa::avx512vnni: return avx512 && f.avx512vnni;
    case Isa::amx: return avx512 && f.avx512vnni && f.amx_tile && f.amx_int8 && amx_permitted();
    case Isa::neon: return f.neon;
    case Isa::dotprod: return f.neon && f.dotprod;
    case Isa::i8mm: return f.neon && f.dotprod && f.i8mm;
  }
  return false;
}

namespace {
bool decide_weight_prefetch() {
  if (const char* v = std::getenv("NIBBLE_PREFETCH"); v && (v[0] == '0' || v[0] == '1'))
    return v[0] == '1';
  // Off on AMD / Hygon before Zen 5 (family 26): on Zen 4 the requests only took miss
  // buffers (docs/kernels-x86.md "Software prefetch"); on Zen 5 they lift the 1-thread decode
  // (decision 55).
  const auto& f = cpu_features();
  return !f.amd || f.family >= 26;
}
}  // namespace

const bool weight_prefetch = decide_weight_prefetch();

Isa best_supported_isa() {
  for (int i = static_cast<int>(Isa::i8mm); i > 0; --i)
    if (isa_supported(static_cast<Isa>(i))) return static_cast<Isa>(i);
  return Isa::scalar;
}

namespace {

constexpr size_t kTypes = kMaxTensorTypeId + 1;

// The cap from NIBBLE_ISA, or i8mm (no cap) when unset or unparsable.
Isa env_cap() {
  const char* v = std::getenv("NIBBLE_ISA");
  Isa isa = Isa::i8mm;
  if (v && *v && !parse_isa(v, &isa)) isa = Isa::i8mm;
  return isa;
}

}  // namespace

struct KernelTable::Impl {
  std::array<const MatmulVariant*, kTypes> matmul{};        // best variant, any layout
  std::array<const MatmulVariant*, kTypes> matmul_plain{};  // best variant on GGUF layout
  const RowOps* ops = nullptr;  // row ops, conversions, attention, activation quantizers
};

KernelTable::KernelTable(Isa cap)
    : isa_(Isa::scalar), cap_(cap), impl_(std::make_unique<Impl>()) {
  for (const MatmulVariant& v : matmul_variants()) {
    if (static_cast<int>(v.isa) > static_cast<int>(cap) || !isa_supported(v.isa)) continue;
    const auto id = static_cast<size_t>(v.weight);
    const MatmulVariant*& slot = impl_->matmul[id];
    if (!slot || v.priority > slot->priority) slot = &v;
    const MatmulVariant*& plain = impl_->matmul_plain[id];
    if (!v.packed() && (!plain || v.priority > plain->priority)) plain = &v;
  }
  // Row ops: the highest-ISA table under the cap that the CPU runs (the scalar one is first).
  for (const RowOps* t : row_op_tables()) {
    if (static_cast<int>(t->isa) > static_cast<int>(cap) || !isa_supported(t->isa)) continue;
    if (!impl_->ops || static_cast<int>(t->isa) > static_cast<int>(impl_->ops->isa)) impl_->ops = t;
  }
  // Report the highest ISA among the kernels actually chosen.
  for (const MatmulVariant* v : impl_->matmul)
    if (v && static_cast<int>(v->isa) > static_cast<int>(isa_)) isa_ = v->isa;
}

KernelTable::~KernelTable() = default;

const KernelTable& KernelTable::get(Isa cap) {
  static std::array<std::unique_ptr<KernelTable>, static_cast<size_t>(Isa::i8mm) + 1> tables;
  static std::mutex mu;
  const Isa env = env_cap();
  if (static_cast<int>(env) < static_cast<int>(cap)) cap = env;
  std::lock_guard lock(mu);
  auto& t = tables[static_cast<size_t>(cap)];
  if (!t) t.reset(new KernelTable(cap));
  return *t;
}

Isa KernelTable::row_ops_isa() const { return impl_->ops->isa; }

bool KernelTable::supports(TensorType w) const { return ref::computable(w); }

TensorType KernelTable::activation_type(TensorType w) const { return ref::activation_type(w); }

size_t KernelTable::activation_row_bytes(TensorType w, int64_t k) const {
  const auto info = tensor_type_info(ref::activation_type(w));
  return static_cast<size_t>(k / info.block_size) * info.type_size;
}

void KernelTable::quantize_activation(TensorType w, const float* x, void* xq, int64_t k) const {
  switch (ref::activation_type(w)) {
    case TensorType::Q8_0:
      impl_->ops->quantize_q8_0(x, xq, k);
      return;
    case TensorType::Q8_1:
      impl_->ops->quantize_q8_1(x, xq, k);
      return;
    case TensorType::Q8_K:
      impl_->ops->quantize_q8_k(x, xq, k);
      return;
    default:
      ref::quantize_row(ref::activation_type(w), x, xq, k);
      return;  // F32: a copy
  }
}

namespace {

// v.pack over slices of whole row groups (about 4 MiB of source each): every layout is its row
// groups back to back (kernels/pack/interleave.h), so packing a slice of rows writes exactly
// that slice's groups. release(slice) after each.
void pack_in_slices(const MatmulVariant& v, const void* data, int64_t rows, int64_t cols,
                    size_t src_row_bytes, void* dst, const KernelTable::ReleaseFn& release) {
  const int64_t group = v.rows_per_call;
  const int64_t per_slice = std::max<int64_t>(
      1, static_cast<int64_t>((size_t{4} << 20) / std::max<size_t>(src_row_bytes, 1)) / group);
  const int64_t step = per_slice * group;
  const auto* src = static_cast<const uint8_t*>(data);
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t r = 0; r < rows; r += step) {
    const int64_t n = std::min(step, rows - r);
    const uint8_t* s = src + static_cast<size_t>(r) * src_row_bytes;
    out += v.pack(s, n, cols, out);
    if (release) release(s, static_cast<size_t>(n) * src_row_bytes);
  }
}

}  // namespace

PreparedWeights KernelTable::prepare(TensorType type, int64_t rows, int64_t cols,
                                     const void* data, bool allow_repack,
                                     const ReleaseFn& release, const AllocFn& alloc) const {
  PreparedWeights p;
  p.type = type;
  p.rows = rows;
  p.cols = cols;
  p.data = data;
  const auto info = tensor_type_info(type);
  p.row_bytes = info.block_size ? static_cast<size_t>(cols / info.block_size) * info.type_size : 0;
  p.bytes = p.row_bytes * static_cast<size_t>(rows);
  const auto id = static_cast<size_t>(type);
  const MatmulVariant* v = nullptr;
  if (id < kTypes) {
    v = allow_repack ? impl_->matmul[id] : impl_->matmul_plain[id];
    if (v && v->packed() && data && rows > 0 && cols > 0) {
      // Repack into an owned, 64-byte aligned copy in the variant's layout. On allocation
      // failure fall back to the best plain variant (the view of the GGUF data).
      const size_t n = v->pack(data, rows, cols, nullptr);
      // The caller's allocator, else aligned operator new (portable: std::aligned_alloc is
      // missing on Windows).
      std::shared_ptr<void> owned = alloc ? alloc(n) : nullptr;
      if (!owned) {
        void* q = ::operator new((n + 63) / 64 * 64, std::align_val_t(64), std::nothrow);
        if (q)
          owned = std::shared_ptr<void>(
              q, [](void* r) { ::operator delete(r, std::align_val_t(64)); });
      }
      if (void* mem = owned.get()) {
        pack_in_slices(*v, data, rows, cols, p.row_bytes, mem, release);
        p.owned = std::move(owned);
        p.data = mem;
        p.bytes = n;
        p.row_bytes = n / static_cast<size_t>(padded_rows(rows, v->rows_per_call));
      } else {
        v = impl_->matmul_plain[id];
      }
    } else if (v && v->packed()) {
      v = impl_->matmul_plain[id];
    }
  }
  if (v) {
    p.fn = v->fn;
    p.rows_per_call = v->rows_per_call;
    p.kernel = v->name;
  }
  return p;
}

void KernelTable::matmul(const PreparedWeights& w, const MatmulArgs& a) const {
  if (w.fn) w.fn(a);
}

void KernelTable::dequantize(TensorType type, const void* src, float* dst, int64_t n) const {
  ref::dequantize_row(type, src, dst, n);
}

void KernelTable::f16_to_f32(const uint16_t* s, float* d, int64_t n) const {
  impl_->ops->f16_to_f32(s, d, n);
}
void KernelTable::f32_to_f16(const float* s, uint16_t* d, int64_t n) const {
  impl_->ops->f32_to_f16(s, d, n);
}

void KernelTable::rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) const {
  impl_->ops->rmsnorm(x, w, y, n, eps);
}
void KernelTable::softmax(float* x, int64_t n, float scale, float cap) const {
  impl_->ops->softmax(x, n, scale, cap);
}
void KernelTable::swiglu(const float* g, const float* u, float* y, int64_t n) const {
  impl_->ops->swiglu(g, u, y, n);
}
void KernelTable::geglu(const float* g, const float* u, float* y, int64_t n) const {
  impl_->ops->geglu(g, u, y, n);
}
void KernelTable::add(const float* a, const float* b, float* y, int64_t n) const {
  impl_->ops->add(a, b, y, n);
}
void KernelTable::scale(const float* x, float s, float* y, int64_t n) const {
  impl_->ops->scale(x, s, y, n);
}
void KernelTable::softcap(float* x, int64_t n, float cap) const { impl_->ops->softcap(x, n, cap); }
void KernelTable::rope(float* x, int64_t hd, int64_t n_rot, int64_t pos, float base, float fs,
                       const float* ff, bool neox) const {
  impl_->ops->rope(x, hd, n_rot, pos, base, fs, ff, neox);
}
void KernelTable::attn_scores_f16(const float* q, const uint16_t* k, size_t ks, int64_t hd,
                                  int64_t n, float* sc) const {
  impl_->ops->attn_scores_f16(q, k, ks, hd, n, sc);
}
void KernelTable::attn_values_f16(const float* p, const uint16_t* v, size_t vs, int64_t hd,
                                  int64_t n, float* out) const {
  impl_->ops->attn_values_f16(p, v, vs, hd, n, out);
}

}  // namespace nibble::kernels
