// Row quantizers used by `nibble quantize` and `nibble forge`.
//
// k-quants (Q2_K..Q6_K) and IQ4_NL: an error-minimising search per sub-block, without an
// importance matrix (docs/tools.md, "How the k-quants are chosen"): several candidate scales
// around the min/max fit, each followed by a least-squares refit of scale (and offset) for the
// integers it produced, the one with the lowest squared error kept; then the sub-block scales
// are quantized to the super-block's integer grid and the integers re-chosen for those.
// Every other type uses the scalar reference quantizer (kernels/ref), which rounds to nearest
// exactly as the widely used tool's reference does.
#pragma once

#include <cstdint>

#include "kernels/formats/types.h"

namespace nibble::quant {

// Quantizes n floats (a multiple of the type's block size) into dst. false when nibble has no
// quantizer for `type`.
bool quantize_row(TensorType type, const float* src, void* dst, int64_t n);

// The reference quantizer only (min/max scales for the k-quants); for comparisons in tests.
bool quantize_row_simple(TensorType type, const float* src, void* dst, int64_t n);

// Bytes of one row of n elements of `type` (n a multiple of the block size).
uint64_t row_bytes(TensorType type, uint64_t n);

}  // namespace nibble::quant
