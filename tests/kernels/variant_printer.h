// GoogleTest printer for registry variants: test logs show "gemv_q4_0_q8_0__avx2" instead of
// the struct's bytes.
#pragma once

#include <ostream>

#include "kernels/registry.h"

namespace nibble::kernels {
inline void PrintTo(const MatmulVariant& v, std::ostream* os) { *os << v.name; }
}  // namespace nibble::kernels
