// Included first (before <immintrin.h>) by the AVX-512 policies' headers: GCC 12's AVX-512
// intrinsic headers initialise their "undefined" vectors from themselves (__Y = __Y), which
// -Wuninitialized / -Wmaybe-uninitialized report at every inlined use (GCC bug 105593): a false
// positive of the headers, silenced for the AVX-512 units.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
