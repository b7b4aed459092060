// Writing a model GGUF tensor by tensor: the metadata and tensor table first, then each
// tensor's data produced in parallel row chunks (filled as f32 by a source, quantized to the
// tensor's type) or copied unchanged. Used by `nibble quantize` (source: the input file) and
// `nibble forge` (source: a seeded random generator).
//
// The file is written to a temporary name beside OUT and renamed over OUT only when complete;
// SIGINT / SIGTERM / SIGHUP while writing remove the temporary file before the process dies,
// so an interrupted run never leaves a half-written OUT.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "gguf/writer.h"
#include "nibble/result.h"

namespace nibble::quant {

struct PlannedTensor {
  std::string name;
  std::vector<uint64_t> ne;  // ne[0] = row length
  TensorType type;           // type written
  // Unchanged bytes (exactly the size of `type` x `ne`), or empty to use `rows`.
  std::span<const uint8_t> raw;
  // Fills n_rows rows starting at `row` as floats (row-major, ne[0] per row). Called from
  // several threads at once for disjoint rows.
  std::function<void(int64_t row, int64_t n_rows, float* out)> rows;
  std::string note;  // shown with the progress line (e.g. a fallback explanation)
};

// Per-tensor quantization error, measured by decoding what was written.
struct TensorStats {
  std::string name;
  TensorType type;
  uint64_t n = 0;       // elements compared (0: copied unchanged, no stats)
  double rmse = 0;      // sqrt(mean((q - x)^2))
  double max_err = 0;   // max |q - x|
  double rms = 0;       // sqrt(mean(x^2)) of the original, for relative error
};

struct Progress {
  size_t index = 0, count = 0;  // tensor index (0-based) and number of tensors
  const PlannedTensor* tensor = nullptr;
  uint64_t bytes_done = 0, bytes_total = 0;  // output bytes, all tensors
  bool tensor_done = false;                  // the call after a tensor was finished
};

struct WriteOptions {
  int n_threads = 0;     // 0: all hardware threads
  uint32_t alignment = 32;  // must match the metadata's general.alignment (default 32)
  bool stats = false;    // fill TensorStats (decodes every quantized row once more)
  // Use the reference quantizers (min/max k-quant scales, ~5x faster than the search; forge
  // uses them: its weights are random, so the search buys nothing there).
  bool reference_quantizers = false;
  std::function<void(const Progress&)> progress;  // called from the writing thread
};

// Bytes a tensor of `type` with dims `ne` takes (0 if ne[0] does not fit the block).
uint64_t tensor_bytes(TensorType type, const std::vector<uint64_t>& ne);

// Writes `meta` (metadata only; its tensors are ignored) plus `tensors` to `path`. One call
// at a time per process (the signal handler knows one temporary file).
// Errors name the file or the tensor.
Status write_model(const gguf::Writer& meta, const std::vector<PlannedTensor>& tensors,
                   const std::string& path, const WriteOptions& options,
                   std::vector<TensorStats>* stats = nullptr);

}  // namespace nibble::quant
