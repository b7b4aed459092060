#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/log.h"

namespace nibble {
namespace {

TEST(Log, HandlerReceivesMessagesAtOrAboveLevel) {
  std::vector<std::string> got;
  set_log_handler([&](LogLevel, std::string_view m) { got.emplace_back(m); });
  set_log_level(LogLevel::info);
  NIBBLE_LOG_DEBUG("dropped {}", 1);
  NIBBLE_LOG_INFO("kept {}", 2);
  NIBBLE_LOG_ERROR("kept {}", 3);
  set_log_handler({});
  set_log_level(LogLevel::warn);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "kept 2");
  EXPECT_EQ(got[1], "kept 3");
}

}  // namespace
}  // namespace nibble
