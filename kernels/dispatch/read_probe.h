// Streaming read used to measure memory read bandwidth (kernels_bench, `nibble bench`).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nibble::kernels {

// Sum of the 64-bit words of p[0, n) in whole 64-byte (128 on AVX2) steps; the tail is not
// read. p aligned to 32 bytes. The value only keeps the loads from being optimised away.
uint64_t read_sum(const uint8_t* p, size_t n);

}  // namespace nibble::kernels
