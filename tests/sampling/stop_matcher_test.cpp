#include "sampling/stop_matcher.h"

#include <gtest/gtest.h>

namespace nibble::sampling {
namespace {

TEST(StopMatcher, MatchesAcrossPiecesAndDropsTheStop) {
  StopMatcher m({"</s>", "User:"});
  std::string out;
  for (const char* p : {"Hello", " wor", "ld<", "/", "s>tail"}) out += m.push(p);
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(out, "Hello world");
  EXPECT_EQ(m.push("more"), "");
}

TEST(StopMatcher, HoldsBackPartialMatchesAndReleasesFalseStarts) {
  StopMatcher m({"abc"});
  EXPECT_EQ(m.push("xa"), "x");
  EXPECT_EQ(m.push("b"), "");
  EXPECT_EQ(m.push("d"), "abd");
  EXPECT_EQ(m.push("ab"), "");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.flush(), "ab");
}

TEST(StopMatcher, EarliestStopWinsAndEmptyStopsIgnored) {
  StopMatcher m({"", "cd", "bcde"});
  EXPECT_EQ(m.push("abcdef"), "a");  // "bcde" starts before "cd"
  EXPECT_TRUE(m.stopped());
  StopMatcher none;
  EXPECT_EQ(none.push("text"), "text");
}

TEST(StopMatcher, OverlappingPrefixes) {
  StopMatcher m({"aab"});
  EXPECT_EQ(m.push("a"), "");
  EXPECT_EQ(m.push("a"), "");
  EXPECT_EQ(m.push("a"), "a");  // "aaa": the last two may still start "aab"
  EXPECT_EQ(m.push("b"), "");
  EXPECT_TRUE(m.stopped());
}

}  // namespace
}  // namespace nibble::sampling
