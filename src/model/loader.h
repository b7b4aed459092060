// Model loading: GGUF file -> typed config, tokenizer, prepared (possibly repacked) weights and
// the resolved kernel table. A LoadedModel is immutable after load and may be shared by any
// number of inference contexts on any threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kernels/kernels.h"
#include "model/model.h"
#include "nibble/result.h"
#include "nibble/tokenizer.h"

namespace nibble::model {

struct LoadOptions {
  kernels::Isa isa_cap = kernels::Isa::i8mm;  // highest ISA the kernels may use
  bool load_tokenizer = true;                 // false: tokenizer stays null (tests, tools)
  // Called with progress in [0, 1] while weights are prepared; returning false cancels the
  // load (error code `cancelled`).
  std::function<bool(float progress)> progress;
};

Result<std::shared_ptr<const LoadedModel>> load_model(const std::string& path,
                                                      const LoadOptions& options);

}  // namespace nibble::model
