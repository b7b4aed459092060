// The sampler under a token filter draws exactly what the plain sampler draws from logits
// where the disallowed tokens are -inf, whichever path (best candidates one by one, or the
// whole mask) it takes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "sampling/sampler.h"

namespace nibble::sampling {
namespace {

class SetFilter final : public TokenFilter {
 public:
  explicit SetFilter(std::vector<uint8_t> allowed) : allowed_(std::move(allowed)) {}
  bool allows(Token t) override {
    ++checks;
    return allowed_[t] != 0;
  }
  Result<size_t> fill(std::vector<uint8_t>* out) override {
    ++fills;
    *out = allowed_;
    size_t n = 0;
    for (uint8_t a : allowed_) n += a;
    return n;
  }
  int checks = 0, fills = 0;

 private:
  std::vector<uint8_t> allowed_;
};

TEST(SamplerFilter, EqualsMaskingFirst) {
  constexpr int kVocab = 5000;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  SamplerConfig configs[4];
  configs[0].temperature = 0.0f;
  configs[1].temperature = 0.8f;  // top-k 40, top-p 0.95, min-p 0.05
  configs[2].temperature = 1.3f;
  configs[2].top_k = 0;
  configs[2].top_p = 0.9f;
  configs[3].temperature = 1.0f;
  configs[3].top_k = 5;
  configs[3].repeat_penalty = 1.3f;
  configs[3].logit_bias = {{7, -std::numeric_limits<float>::infinity()}};
  int cheap = 0, full = 0;
  for (double density : {0.9, 0.2, 0.01, 0.0004}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> logits(kVocab);
      for (float& x : logits) x = normal(rng);
      std::vector<uint8_t> allowed(kVocab);
      std::bernoulli_distribution keep(density);
      for (auto& a : allowed) a = keep(rng);
      allowed[trial * 97 % kVocab] = 1;  // at least one
      std::vector<float> masked = logits;
      for (int i = 0; i < kVocab; ++i)
        if (!allowed[i]) masked[i] = -std::numeric_limits<float>::infinity();
      const std::vector<Token> history = {1, 2, 3, 7, 7};
      for (SamplerConfig cfg : configs) {
        cfg.seed = static_cast<uint64_t>(trial);
        Sampler a(cfg, kVocab), b(cfg, kVocab);
        SetFilter filter(allowed);
        auto got = a.sample(logits, history, filter);
        ASSERT_TRUE(got.ok());
        const Token want = b.sample(masked, history);
        EXPECT_EQ(*got, want) << "density " << density << " trial " << trial << " temp "
                              << cfg.temperature << " top_k " << cfg.top_k;
        EXPECT_TRUE(allowed[*got]);
        (filter.fills ? full : cheap) += 1;
      }
    }
  }
  EXPECT_GT(cheap, 0);  // both paths were exercised
  EXPECT_GT(full, 0);
}

TEST(SamplerFilter, NothingAllowedIsMinusOne) {
  SamplerConfig cfg;
  Sampler s(cfg, 10);
  SetFilter none(std::vector<uint8_t>(10, 0));
  std::vector<float> logits(10, 1.0f);
  auto t = s.sample(logits, {}, none);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, -1);
}

}  // namespace
}  // namespace nibble::sampling
