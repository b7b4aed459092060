#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "plain_config.h"

namespace nibble::sampling {
namespace {

using test::plain;

TEST(Sampler, GreedyPicksArgmaxAndBreaksTiesByLowestId) {
  Sampler s(plain(0.0f), 5);
  std::vector<float> l = {0.1f, 3.0f, -1.0f, 3.0f, 2.0f};
  EXPECT_EQ(s.sample(l, {}), 1);
}

TEST(Sampler, DrawsFollowTheSoftmax) {
  Sampler s(plain(1.0f, 7), 3);
  std::vector<float> l = {0.0f, std::log(2.0f), std::log(7.0f)};  // probabilities 0.1 0.2 0.7
  int counts[3] = {};
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[s.sample(l, {})];
  EXPECT_NEAR(counts[0] / double(n), 0.1, 0.015);
  EXPECT_NEAR(counts[1] / double(n), 0.2, 0.015);
  EXPECT_NEAR(counts[2] / double(n), 0.7, 0.015);
}

TEST(Sampler, TemperatureSharpens) {
  Sampler s(plain(0.25f, 3), 2);
  std::vector<float> l = {0.0f, 1.0f};  // p1 = 1/(1+e^-4) = 0.982
  int ones = 0;
  for (int i = 0; i < 5000; ++i) ones += s.sample(l, {});
  EXPECT_NEAR(ones / 5000.0, 0.982, 0.01);
}

TEST(Sampler, TopKTopPAndMinPTruncate) {
  std::vector<float> l = {5.0f, 4.9f, 0.0f, -1.0f};
  auto c = plain(1.0f, 9);
  c.top_k = 2;
  Sampler k(c, 4);
  for (int i = 0; i < 2000; ++i) EXPECT_LT(k.sample(l, {}), 2);
  c = plain(1.0f, 9);
  c.top_p = 0.5f;  // the first token alone holds ~52%
  Sampler p(c, 4);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(p.sample(l, {}), 0);
  c = plain(1.0f, 9);
  c.min_p = 0.5f;  // tokens with p >= 0.5 * p_max: the first two
  Sampler m(c, 4);
  for (int i = 0; i < 2000; ++i) EXPECT_LT(m.sample(l, {}), 2);
}

// Without top-k the sampler sorts only the prefix that top-p / min-p keep (the vocabulary is
// never sorted whole); the kept set must still be exactly the top of the descending order.
TEST(Sampler, TopPWithoutTopKKeepsExactlyTheTopOfALargeVocabulary) {
  // 5000 equal logits (ties: lowest id first) and top_p 0.5: the first 2500 ids, a prefix that
  // needs several partial-sort rounds (64, 256, 1024, 4096).
  const int n = 5000;
  std::vector<float> flat(n, 1.0f);
  auto c = plain(1.0f, 11);
  c.top_p = 0.5f;
  Sampler s(c, n);
  int above = 0, below_half = 0;
  for (int i = 0; i < 800; ++i) {
    const Token t = s.sample(flat, {});
    above += t >= 2500;
    below_half += t < 1250;
  }
  EXPECT_EQ(above, 0);
  EXPECT_NEAR(below_half / 800.0, 0.5, 0.06);  // uniform over the kept 2500
  // A peaked 8000-token vocabulary: 3 tokens hold 0.5 / 0.3 / 0.15, the rest share 0.05.
  const int big = 8000;
  std::vector<float> l(big, std::log(0.05f / (big - 3)));
  l[4000] = std::log(0.5f);
  l[7] = std::log(0.3f);
  l[123] = std::log(0.15f);
  c.top_p = 0.9f;  // 0.5 + 0.3 + 0.15 = 0.95 >= 0.9: exactly those three
  Sampler p(c, big);
  int counts[3] = {};
  for (int i = 0; i < 3000; ++i) {
    const Token t = p.sample(l, {});
    ASSERT_TRUE(t == 4000 || t == 7 || t == 123) << t;
    ++counts[t == 4000 ? 0 : t == 7 ? 1 : 2];
  }
  EXPECT_NEAR(counts[0] / 3000.0, 0.5 / 0.95, 0.03);
  EXPECT_NEAR(counts[1] / 3000.0, 0.3 / 0.95, 0.03);
  c = plain(1.0f, 12);
  c.min_p = 0.4f;  // p >= 0.4 * 0.5 = 0.2: the first two only
  Sampler m(c, big);
  for (int i = 0; i < 2000; ++i) {
    const Token t = m.sample(l, {});
    ASSERT_TRUE(t == 4000 || t == 7) << t;
  }
  // Neither: every token can come out, in proportion (the 7997-token tail holds 5%).
  Sampler all(plain(1.0f, 13), big);
  int tail = 0;
  for (int i = 0; i < 3000; ++i) {
    const Token t = all.sample(l, {});
    tail += t != 4000 && t != 7 && t != 123;
  }
  EXPECT_NEAR(tail / 3000.0, 0.05, 0.015);
}

TEST(Sampler, PenaltiesAndBias) {
  std::vector<float> l = {2.0f, 1.9f, 0.0f};
  auto c = plain(0.0f);
  c.repeat_penalty = 1.1f;  // 2.0 / 1.1 = 1.82 < 1.9
  Sampler r(c, 3);
  const Token hist[] = {0};
  EXPECT_EQ(r.sample(l, hist), 1);
  c = plain(0.0f);
  c.frequency_penalty = 0.05f;
  Sampler f(c, 3);
  const Token hist2[] = {0, 0, 0};  // 2.0 - 3 * 0.05 = 1.85
  EXPECT_EQ(f.sample(l, hist2), 1);
  EXPECT_EQ(f.sample(l, hist), 0);  // 1.95 still wins
  c = plain(0.0f);
  c.presence_penalty = 0.2f;
  c.penalty_last_n = 1;  // only the last token counts
  Sampler pr(c, 3);
  const Token hist3[] = {1, 0};
  EXPECT_EQ(pr.sample(l, hist3), 1);
  c = plain(0.0f);
  c.logit_bias = {{0, -INFINITY}, {2, 5.0f}};
  Sampler b(c, 3);
  EXPECT_EQ(b.sample(l, {}), 2);
}

TEST(Sampler, SameSeedSameSequence) {
  std::vector<float> l(50);
  for (int i = 0; i < 50; ++i) l[i] = std::sin(i * 1.3f);
  auto run = [&](uint64_t seed) {
    Sampler s(plain(1.0f, seed), 50);
    std::vector<Token> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(l, out));
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Sampler, ValidateNamesTheBadField) {
  auto c = plain(1.0f);
  c.top_p = 0.0f;
  auto st = validate(c, 10);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("top_p"), std::string::npos);
  c = plain(1.0f);
  c.logit_bias = {{10, 1.0f}};
  EXPECT_EQ(validate(c, 10).error().code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(validate(plain(0.7f), 10).ok());
}

}  // namespace
}  // namespace nibble::sampling
