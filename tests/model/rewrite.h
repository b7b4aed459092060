// Synthetic variations of a real fixture for tests: the file is copied through gguf::Writer,
// and hooks may replace or drop keys and tensors or add new ones.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "gguf/writer.h"
#include "tests/common/platform.h"
#include "tests/common/shared_data.h"

namespace nibble::test {

using KeyFn = std::function<bool(const std::string& key, gguf::Writer& w)>;  // true = handled
using TensorFn = std::function<bool(const gguf::TensorInfo& t, gguf::Writer& w)>;

// Copies fixtures/<src> into a temporary file (named after `tag`), letting the hooks replace
// keys or tensors; `extra` runs last (new keys or tensors). Returns the path.
inline std::string rewrite(const std::string& src, const KeyFn& key_fn, const TensorFn& tensor_fn,
                           const std::string& tag,
                           const std::function<void(gguf::Writer&)>& extra = nullptr) {
  auto f = gguf::File::open(shared_path("fixtures/" + src));
  EXPECT_TRUE(f.ok());
  if (!f.ok()) return {};
  gguf::Writer w;
  for (const auto& kv : f->metadata()) {
    std::string k(kv.key);
    if (k == "general.alignment") continue;
    if (key_fn && key_fn(k, w)) continue;
    w.set_value(k, kv.value);
  }
  for (const auto& t : f->tensors()) {
    if (tensor_fn && tensor_fn(t, w)) continue;
    std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    EXPECT_TRUE(w.add_tensor(std::string(t.name), t.type, ne, {t.data, t.n_bytes}).ok());
  }
  if (extra) extra(w);
  auto path = (std::filesystem::temp_directory_path() /
               ("nibble_test_" + tag + "_" + std::to_string(process_id()) + ".gguf"))
                  .string();
  EXPECT_TRUE(w.write_file(path).ok());
  return path;
}

}  // namespace nibble::test
