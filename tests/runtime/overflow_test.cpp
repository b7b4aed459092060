// The portable overflow checks (used where the GCC/Clang builtins are missing, e.g. MSVC) agree
// with the builtins on every edge case.
#define NIBBLE_PORTABLE_OVERFLOW 1
#include "runtime/overflow.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace nibble {
namespace {

template <typename T>
void check_all() {
  using L = std::numeric_limits<T>;
  std::vector<T> v = {0, 1, 2, 3, 7, L::max(), static_cast<T>(L::max() - 1),
                      static_cast<T>(L::max() / 2), static_cast<T>(L::max() / 2 + 1), L::min(),
                      static_cast<T>(L::min() + 1)};
  if constexpr (std::is_signed_v<T>) {
    for (T x : {T(-1), T(-2), T(-3), static_cast<T>(L::min() / 2)}) v.push_back(x);
  }
  for (T a : v)
    for (T b : v) {
      T r1, r2;
      EXPECT_EQ(add_overflow<T>(a, b, &r1), __builtin_add_overflow(a, b, &r2)) << +a << "+" << +b;
      if (!__builtin_add_overflow(a, b, &r2)) {
        EXPECT_EQ(r1, r2);
      }
      EXPECT_EQ(sub_overflow<T>(a, b, &r1), __builtin_sub_overflow(a, b, &r2)) << +a << "-" << +b;
      if (!__builtin_sub_overflow(a, b, &r2)) {
        EXPECT_EQ(r1, r2);
      }
      EXPECT_EQ(mul_overflow<T>(a, b, &r1), __builtin_mul_overflow(a, b, &r2)) << +a << "*" << +b;
      if (!__builtin_mul_overflow(a, b, &r2)) {
        EXPECT_EQ(r1, r2);
      }
    }
}

TEST(Overflow, PortableMatchesBuiltinsU64) { check_all<uint64_t>(); }
TEST(Overflow, PortableMatchesBuiltinsI64) { check_all<int64_t>(); }
TEST(Overflow, PortableMatchesBuiltinsI32) { check_all<int32_t>(); }

}  // namespace
}  // namespace nibble
