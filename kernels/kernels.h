// nibble kernels — the interface the graph executor uses. Everything here is resolved once
// into a KernelTable (best variant per op and format for this CPU, capped by an ISA limit);
// callers hold a `const KernelTable&` and call through it, never re-checking CPU features.
//
// Threading is the caller's: every op that can be split takes a row range, so the executor
// hands each thread [row_begin, row_end) and no kernel spawns threads or allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kernels/formats/types.h"

namespace nibble::kernels {

// Instruction-set levels, ordered within an architecture (a cap of `avx2` allows scalar and
// avx2 variants; `avxvnni` = AVX2 + AVX-VNNI; `avx512` = F/BW/DQ/VL; `avx512vnni` adds VNNI;
// `amx` adds AMX-TILE + AMX-INT8 with the OS's permission to use the tile state: only the
// prefill GEMM has `amx` variants, decode stays on avx512vnni code; decision 30).
enum class Isa : uint8_t {
  scalar = 0,
  avx2,
  avxvnni,
  avx512,
  avx512vnni,
  amx,
  neon,
  dotprod,
  i8mm,
};
std::string_view isa_name(Isa isa);
// Parses "scalar", "avx2", "avxvnni", "avx512", "avx512vnni", "amx", "neon", "dotprod", "i8mm".
bool parse_isa(std::string_view name, Isa* out);
// Best ISA this CPU (and OS) supports.
Isa best_supported_isa();
// true if this CPU can run code of that ISA.
bool isa_supported(Isa isa);

// Whether the x86 matmul kernels issue software prefetches for the weight rows ahead of the
// ones they read (docs/kernels-x86.md, "Software prefetch"). Decided once, before main, from
// the CPU: on, except on AMD / Hygon below family 26 (Sapphire Rapids: +20-70% GEMV out of cache;
// on Zen 4 the same prefetches cost 5-50%, the requests only take miss buffers; on Zen 5 they
// help again, decision 55). NIBBLE_PREFETCH=0 / 1 overrides. A hint: results are the same.
extern const bool weight_prefetch;

// Arguments of one matrix-multiply call: Y[t][r] = sum_i W[r][i] * X[t][i] for rows r in
// [row_begin, row_end) and tokens t in [0, n_tokens).
struct MatmulArgs {
  const void* w;          // weights, `rows` x `k`, in the variant's layout (see PackedWeights)
  size_t w_row_bytes;     // bytes per weight row in GGUF layout (packed layouts: per row group / rows per group)
  const void* x;          // activations in the partner format, n_tokens rows
  size_t x_stride;        // bytes between token rows of x
  float* y;               // output
  size_t y_stride;        // floats between token rows of y (y[t * y_stride + r])
  int64_t k;              // inner dimension in elements (multiple of the format's block size)
  int64_t row_begin;      // first row to compute
  int64_t row_end;        // one past the last row
  int n_tokens;           // >= 1
};
using MatmulFn = void (*)(const MatmulArgs&);

// A weight matrix prepared for the resolved kernels: either a view of the GGUF data (no copy)
// or an owned repacked copy (then the source mapping may be released by the caller).
struct PreparedWeights {
  TensorType type = TensorType::F32;
  int64_t rows = 0, cols = 0;
  const void* data = nullptr;        // what MatmulArgs::w gets
  size_t row_bytes = 0;              // MatmulArgs::w_row_bytes
  std::shared_ptr<void> owned;       // non-null when repacked
  MatmulFn fn = nullptr;             // the chosen variant (every n_tokens >= 1)
  int rows_per_call = 1;             // row ranges must start at multiples of this
  size_t bytes = 0;                  // bytes `data` spans (the owned copy's size when repacked)
  const char* kernel = nullptr;      // registry name of the chosen variant (diagnostics)
  bool repacked() const { return owned != nullptr; }
};

// Resolved kernels. One instance per ISA cap; shared, immutable, thread-safe.
class KernelTable {
 public:
  // Best variants for this CPU, capped at `cap` (clamped to what the CPU supports) and by the
  // NIBBLE_ISA environment variable when set.
  static const KernelTable& get(Isa cap = Isa::i8mm);
  // The highest instruction set among the chosen matmul kernels.
  Isa isa() const { return isa_; }
  // The instruction set of the row ops, conversions and activation quantizers.
  Isa row_ops_isa() const;
  // The cap this table was made under (after NIBBLE_ISA): the attention tables' cap.
  Isa cap() const { return cap_; }

  // --- matrix multiply --------------------------------------------------------------------
  // false when the type has no kernel (e.g. IQ2_XXS); the loader reports "unsupported tensor
  // type" naming the tensor.
  bool supports(TensorType weight) const;
  // Partner activation format for a weight format (Q8_0, Q8_1, Q8_K, or F32 for float weights).
  TensorType activation_type(TensorType weight) const;
  // Bytes one quantized activation row of `k` elements takes for weight format `weight`.
  size_t activation_row_bytes(TensorType weight, int64_t k) const;
  // Quantize one activation row (k floats) into the partner format of `weight`.
  void quantize_activation(TensorType weight, const float* x, void* xq, int64_t k) const;
  // Choose kernels for a matrix and repack it when the chosen kernel wants another layout.
  // When it repacks and `release` is set, release(p, n) is called for each slice [p, p + n) of
  // `data` (whole row groups, about 4 MiB) once that slice is repacked, so the caller can drop
  // the source pages as it goes: the source and the copy are never both resident in full.
  using ReleaseFn = std::function<void(const void*, size_t)>;
  // Where a repacked copy goes: `bytes` of 64-byte aligned memory owned by the returned pointer,
  // or null (then the aligned operator new). The loader passes one that asks the OS for huge
  // pages (runtime::LargeBuffer), which this layer may not include.
  using AllocFn = std::function<std::shared_ptr<void>(size_t bytes)>;
  PreparedWeights prepare(TensorType type, int64_t rows, int64_t cols, const void* data,
                          bool allow_repack = true, const ReleaseFn& release = {},
                          const AllocFn& alloc = {}) const;
  // Y = W·X over the rows in args (calls the prepared weights' kernel).
  void matmul(const PreparedWeights& w, const MatmulArgs& args) const;

  // --- conversions ---------------------------------------------------------------------------
  // Dequantize n elements (multiple of the block size) of any supported type to f32.
  void dequantize(TensorType type, const void* src, float* dst, int64_t n) const;
  void f16_to_f32(const uint16_t* src, float* dst, int64_t n) const;
  void f32_to_f16(const float* src, uint16_t* dst, int64_t n) const;

  // --- row ops (all in f32, in place allowed where y == x) -----------------------------------
  // y = x / sqrt(mean(x^2) + eps) * w   (w may be null: no scale)
  void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) const;
  // In-place softmax over n values after optional soft-capping: x = cap * tanh(x / cap) when
  // cap > 0; `scale` is applied first (x *= scale).
  void softmax(float* x, int64_t n, float scale, float softcap) const;
  // y = silu(gate) * up ; y = gelu(gate) * up (GELU: tanh approximation)
  void swiglu(const float* gate, const float* up, float* y, int64_t n) const;
  void geglu(const float* gate, const float* up, float* y, int64_t n) const;
  void add(const float* a, const float* b, float* y, int64_t n) const;
  void scale(const float* x, float s, float* y, int64_t n) const;
  // Soft-cap in place: x = cap * tanh(x / cap).
  void softcap(float* x, int64_t n, float cap) const;

  // RoPE on one head vector of `head_dim` (rotating the first n_rot dims) at position pos.
  // neox == false: pairs (2i, 2i+1) (Llama/GGUF "normal"); true: pairs (i, i + n_rot/2).
  // freq_factors (n_rot/2 values, may be null): theta_i /= freq_factors[i] (Llama 3 rope_freqs).
  // freq_scale: linear position scaling (1 = none).
  void rope(float* x, int64_t head_dim, int64_t n_rot, int64_t pos, float base, float freq_scale,
            const float* freq_factors, bool neox) const;

  // --- attention over an f16 KV cache --------------------------------------------------------
  // scores[j] = dot(q, K[j]) for j in [0, n_kv); K rows are f16 with stride k_stride (elements).
  void attn_scores_f16(const float* q, const uint16_t* k, size_t k_stride, int64_t head_dim,
                       int64_t n_kv, float* scores) const;
  // out = sum_j p[j] * V[j] (V rows f16, stride v_stride elements); out has head_dim floats.
  void attn_values_f16(const float* p, const uint16_t* v, size_t v_stride, int64_t head_dim,
                       int64_t n_kv, float* out) const;

  struct Impl;  // function-pointer table, defined in kernels/dispatch
  explicit KernelTable(Isa isa);
  ~KernelTable();
  KernelTable(const KernelTable&) = delete;
  KernelTable& operator=(const KernelTable&) = delete;

 private:
  Isa isa_;
  Isa cap_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nibble::kernels
