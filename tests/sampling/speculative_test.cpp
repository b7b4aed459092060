// The speculative acceptance rule keeps the output distribution exactly the target's, for a
// point-mass draft (prompt lookup) and for a draft drawn from another distribution; greedy
// targets accept exactly the argmax; Sampler::distribution is what sample() draws from;
// prompt lookup finds the most recent longest match.
#include "sampling/speculative.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "plain_config.h"

namespace nibble::sampling {
namespace {

using Cand = Sampler::Cand;

using test::plain;

std::vector<Cand> dist(std::vector<float> p) {
  std::vector<Cand> d;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] > 0) d.push_back({static_cast<Token>(i), 0.0f, p[i]});
  return d;
}

// Draws x from q (or takes the fixed draft), verifies it against p, and counts the tokens
// that come out: their frequencies must be p's. 4 standard deviations of a binomial at
// n = 200000 are below 0.0045 for every probability.
void expect_exact(const std::vector<float>& p, const std::vector<float>& q, int fixed_draft) {
  const int n = 200000, v = static_cast<int>(p.size());
  Sampler rng(plain(1.0f, 12345), v);
  DraftVerifier verifier(v);
  const auto pd = dist(p), qd = dist(q);
  std::vector<int> counts(static_cast<size_t>(v), 0);
  int accepted = 0;
  for (int i = 0; i < n; ++i) {
    const Token x = fixed_draft >= 0 ? fixed_draft : rng.draw_from(qd);
    const auto verdict =
        verifier.verify(pd, fixed_draft >= 0 ? std::span<const Cand>() : std::span<const Cand>(qd),
                        x, rng);
    if (verdict.accepted) {
      EXPECT_EQ(verdict.token, x);
    }
    accepted += verdict.accepted;
    ++counts[static_cast<size_t>(verdict.token)];
  }
  for (int t = 0; t < v; ++t)
    EXPECT_NEAR(counts[static_cast<size_t>(t)] / double(n), p[static_cast<size_t>(t)], 0.0045)
        << "token " << t;
  // The acceptance rate is sum_x min(p(x), q(x)) (q a point mass: p(draft)).
  double want = 0;
  for (int t = 0; t < v; ++t) {
    const double qt = fixed_draft >= 0 ? (t == fixed_draft ? 1.0 : 0.0) : q[static_cast<size_t>(t)];
    want += std::min<double>(p[static_cast<size_t>(t)], qt);
  }
  EXPECT_NEAR(accepted / double(n), want, 0.0045);
}

TEST(DraftVerifier, PointMassDraftKeepsTheTargetDistribution) {
  const std::vector<float> p = {0.1f, 0.2f, 0.4f, 0.3f, 0.0f};
  for (int x : {0, 2, 4}) {  // a likely, an unlikely and an impossible draft
    SCOPED_TRACE(x);
    expect_exact(p, {}, x);
  }
}

TEST(DraftVerifier, SampledDraftKeepsTheTargetDistribution) {
  expect_exact({0.1f, 0.2f, 0.4f, 0.3f, 0.0f}, {0.25f, 0.05f, 0.1f, 0.2f, 0.4f}, -1);
  expect_exact({0.5f, 0.5f, 0.0f}, {0.5f, 0.5f, 0.0f}, -1);  // p == q: always accepted
}

TEST(DraftVerifier, GreedyTargetAcceptsExactlyTheArgmax) {
  Sampler rng(plain(0.0f), 4);
  DraftVerifier verifier(4);
  const auto p = dist({0.0f, 0.0f, 1.0f, 0.0f});
  for (int x = 0; x < 4; ++x) {
    const auto v = verifier.verify(p, {}, x, rng);
    EXPECT_EQ(v.token, 2);
    EXPECT_EQ(v.accepted, x == 2);
  }
}

TEST(SamplerDistribution, IsWhatSampleDrawsFrom) {
  SamplerConfig c = plain(0.7f, 5);
  c.top_k = 3;
  c.min_p = 0.1f;
  const std::vector<float> logits = {1.0f, 2.5f, 0.2f, 2.0f, -3.0f, 1.9f};
  Sampler s(c, 6);
  const auto d = s.distribution(logits, {});
  std::vector<double> want(6, 0.0);
  double sum = 0;
  for (const auto& cand : d) {
    want[static_cast<size_t>(cand.id)] = cand.p;
    sum += cand.p;
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_LE(d.size(), 3u);  // top-k
  std::vector<int> counts(6, 0);
  const int n = 50000;
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(s.sample(logits, {}))];
  for (int t = 0; t < 6; ++t) EXPECT_NEAR(counts[static_cast<size_t>(t)] / double(n), want[static_cast<size_t>(t)], 0.01);
  Sampler g(plain(0.0f), 6);
  const auto gd = g.distribution(logits, {});
  ASSERT_EQ(gd.size(), 1u);
  EXPECT_EQ(gd[0].id, 1);
  EXPECT_EQ(gd[0].p, 1.0f);
}

TEST(SamplerDistribution, DoesNotChangeSampling) {
  // distribution() draws nothing: the draws after it are those of a sampler without it.
  const std::vector<float> logits = {0.3f, 0.1f, 0.9f, 0.5f};
  Sampler a(plain(1.0f, 77), 4), b(plain(1.0f, 77), 4);
  for (int i = 0; i < 100; ++i) {
    (void)a.distribution(logits, {});
    EXPECT_EQ(a.sample(logits, {}), b.sample(logits, {}));
  }
}

TEST(LookupDraft, TakesTheMostRecentLongestMatch) {
  //                      0  1  2  3  4  5  6  7  8  9  10 11
  const std::vector<Token> h = {5, 1, 2, 3, 9, 1, 2, 4, 7, 8, 1, 2};
  // Suffix "1 2": most recent earlier occurrence at 5 -> followed by 4 7 8 1 2.
  EXPECT_EQ(lookup_draft(h, 2, 1, 3), (std::vector<Token>{4, 7, 8}));
  EXPECT_EQ(lookup_draft(h, 2, 1, 10), (std::vector<Token>{4, 7, 8, 1, 2}));
  // "8 1 2" occurs nowhere before: falls back to the 2-gram.
  EXPECT_EQ(lookup_draft(h, 3, 1, 2), (std::vector<Token>{4, 7}));
  EXPECT_TRUE(lookup_draft(h, 3, 3, 4).empty());
  EXPECT_TRUE(lookup_draft(std::vector<Token>{1}, 2, 1, 4).empty());
  EXPECT_TRUE(lookup_draft(std::vector<Token>{1, 2, 3}, 2, 1, 4).empty());
  // Overlapping repetition.
  EXPECT_EQ(lookup_draft(std::vector<Token>{6, 6, 6}, 2, 1, 4), (std::vector<Token>{6}));
}

}  // namespace
}  // namespace nibble::sampling
