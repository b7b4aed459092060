// Locating ../shared test data from tests. A missing file is a test failure (not a skip): the
// data is part of what CI provides. Use `ctest -LE model` to leave such tests out locally.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace nibble::test {

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("NIBBLE_SHARED_DIR"); env && *env) return env;
  return NIBBLE_SHARED_DIR;
}

// Full path of `rel` under the shared dir; records a failure naming it when absent.
inline std::string shared_path(const std::string& rel) {
  auto p = shared_dir() / rel;
  if (!std::filesystem::exists(p)) {
    ADD_FAILURE() << "test data missing: " << p.string()
                  << " (set -DNIBBLE_SHARED_DIR=... or NIBBLE_SHARED_DIR)";
  }
  return p.string();
}

}  // namespace nibble::test
