// The sampler configuration the sampling tests start from: only temperature (and seed) on,
// every filter off.
#pragma once

#include <cstdint>

#include "nibble/nibble.h"

namespace nibble::sampling::test {

inline SamplerConfig plain(float temp, uint64_t seed = 1) {
  SamplerConfig c;
  c.temperature = temp;
  c.top_k = 0;
  c.top_p = 1.0f;
  c.min_p = 0.0f;
  c.seed = seed;
  return c;
}

}  // namespace nibble::sampling::test
