#include <gtest/gtest.h>

#include <memory>

#include "nibble/result.h"

namespace nibble {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error(ErrorCode::invalid_argument, "value must be positive");
  return v;
}

Result<int> doubled(int v) {
  NIBBLE_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status check(int v) {
  NIBBLE_TRY(parse_positive(v));
  return ok_status();
}

TEST(Result, ValueAndErrorPropagate) {
  auto good = doubled(21);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(bad.error().to_string(), "invalid_argument: value must be positive");
  EXPECT_TRUE(check(3).ok());
  EXPECT_EQ(check(0).error().code(), ErrorCode::invalid_argument);
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r.ok());
  auto p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ErrorCode, NamesAreStable) {
  EXPECT_EQ(error_code_name(ErrorCode::tensor_out_of_bounds), "tensor_out_of_bounds");
  EXPECT_EQ(error_code_name(ErrorCode::context_full), "context_full");
}

}  // namespace
}  // namespace nibble
