// Load-time repacking of GGUF weight matrices into the layouts that packed kernels read
// (registry.inc: NIBBLE_MATMUL_PACKED). Each function's name is its layout's name; the layout
// itself is described in the .cpp that writes it and in the kernel file that reads it.
//
// A pack function writes the `rows` x `cols` matrix `src` (GGUF layout, rows back to back)
// into `dst` and returns the bytes written; with dst == nullptr it only returns the bytes it
// would write. Layouts interleave rows in groups of the variant's rows_per_call: the row
// count is padded up to whole groups with zero-weight rows (scale 0), so the size is always
// (padded rows) x (bytes per row in the layout), and callers read bytes per row as
// size / padded rows. cols is a multiple of the format's block size.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nibble::kernels {

using PackFn = size_t (*)(const void* src, int64_t rows, int64_t cols, void* dst);

namespace pack {

// TQ2_0 / TQ1_0 -> "t2x32": ternary 2-bit codes, 32 rows interleaved, nibble per weight pair
// (kernels/pack/ternary.cpp). Read by the LUT kernels (kernels/x86/avx2/lut_ternary.cpp).
size_t tq2_0_t2x32(const void* src, int64_t rows, int64_t cols, void* dst);
size_t tq1_0_t2x32(const void* src, int64_t rows, int64_t cols, void* dst);
// TQ2_0 / TQ1_0 -> "t2x8": the same 2-bit codes, 8 rows interleaved as q2_k_x8 (one 16-element
// chunk of 8 rows per 32 bytes; kernels/pack/ternary.cpp). Read by kernels/x86/common/gemv_x8.h.
size_t tq2_0_t2x8(const void* src, int64_t rows, int64_t cols, void* dst);
size_t tq1_0_t2x8(const void* src, int64_t rows, int64_t cols, void* dst);
// TQ1_0 -> "t3x16": its own base-3 bytes (no decoding), 16 rows interleaved, the file's size
// (kernels/pack/t3x16.cpp). Read by kernels/x86/common/gemv_t3x16.h.
size_t tq1_0_t3x16(const void* src, int64_t rows, int64_t cols, void* dst);

// Q4_0 -> "q4_0_x8": 8 rows interleaved, 4 elements of each row per int32 lane
// (kernels/pack/q4_0.cpp). Read by kernels/x86/common/gemv_x8.h.
size_t q4_0_x8(const void* src, int64_t rows, int64_t cols, void* dst);

// Q8_0 -> "q8_0_x8": 8 rows interleaved, 4 elements of each row per int32 lane
// (kernels/pack/q8_0.cpp). Read by kernels/x86/common/gemv_x8.h.
size_t q8_0_x8(const void* src, int64_t rows, int64_t cols, void* dst);

// Q4_K -> "q4_k_x8": 8 rows interleaved, scales and mins decoded to bytes, nibbles of each
// 32-element sub-block as in q4_0_x8 (kernels/pack/q4_k.cpp). Read by kernels/x86/common/gemv_x8.h.
size_t q4_k_x8(const void* src, int64_t rows, int64_t cols, void* dst);

// Q6_K -> "q6_k_x8": 8 rows interleaved, 6-bit values as q4_0_x8 nibbles plus their top bits
// (kernels/pack/q6_k.cpp). Read by kernels/x86/common/gemv_x8.h.
size_t q6_k_x8(const void* src, int64_t rows, int64_t cols, void* dst);

// Q2_K -> "q2_k_x8": 8 rows interleaved, one 16-element sub-block of the 8 rows per 32 bytes
// (kernels/pack/q2_k.cpp). Read by kernels/x86/common/gemv_x8.h.
size_t q2_k_x8(const void* src, int64_t rows, int64_t cols, void* dst);

}  // namespace pack

// Rows of a packed layout: `rows` rounded up to a multiple of `interleave`.
inline int64_t padded_rows(int64_t rows, int interleave) {
  return (rows + interleave - 1) / interleave * interleave;
}

}  // namespace nibble::kernels
