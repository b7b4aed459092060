// Speculative decoding through the public API: greedy output token-identical to plain
// decoding on every fixture architecture with prompt lookup and with a draft model; the KV
// cache rolled back exactly over rejected drafts; grammar, stop strings, max_tokens,
// cancellation, context shift and mid-generation state saves; seeded determinism and the
// sampled distribution; bad options with clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "nibble/nibble.h"
#include "tests/common/shared_data.h"

namespace nibble {
namespace {

Model load(const std::string& name) {
  auto m = Model::load(test::shared_path("fixtures/" + name));
  EXPECT_TRUE(m.ok()) << name << ": " << (m.ok() ? "" : m.error().to_string());
  return std::move(m).value();
}

// A prompt that repeats itself, so prompt lookup finds drafts.
const char* kPrompt =
    "The cat sat on the mat. The dog sat on the log. The cat sat on the mat. The dog sat";

SessionOptions greedy(int n_ctx = 256) {
  SessionOptions o;
  o.n_ctx = n_ctx;
  o.n_threads = 2;
  o.sampling.temperature = 0;
  return o;
}

SessionOptions lookup(SessionOptions o, int ngram = 3) {
  o.speculative.lookup_ngram = ngram;
  return o;
}

SessionOptions drafted(SessionOptions o, const Model& draft) {
  o.speculative.draft_model = draft;
  return o;
}

struct Output {
  std::string text;
  std::vector<Token> tokens;  // generated ids (chunk_tokens over the stream)
  std::vector<Token> cache;   // Session::tokens() afterwards
  Stats stats;
};

Output run(const Model& m, const SessionOptions& o, const GenerateOptions& g,
        const char* prompt = kPrompt, int cancel_after = 0) {
  auto s = Session::create(m, o);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().to_string());
  Output r;
  if (!s.ok()) return r;
  int chunks = 0;
  auto st = s->generate(prompt, g, [&](std::string_view t) {
    r.text.append(t);
    auto ids = s->chunk_tokens();
    r.tokens.insert(r.tokens.end(), ids.begin(), ids.end());
    if (cancel_after > 0 && ++chunks == cancel_after) s->cancel();
    return true;
  });
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().to_string());
  if (st.ok()) r.stats = *st;
  auto c = s->tokens();
  r.cache.assign(c.begin(), c.end());
  return r;
}

GenerateOptions gen(int n) {
  GenerateOptions g;
  g.max_tokens = n;
  return g;
}

void expect_same(const Output& plain, const Output& spec) {
  EXPECT_EQ(plain.tokens, spec.tokens);
  EXPECT_EQ(plain.text, spec.text);
  EXPECT_EQ(plain.cache, spec.cache);
  EXPECT_EQ(plain.stats.generated_tokens, spec.stats.generated_tokens);
  EXPECT_EQ(plain.stats.stop_reason, spec.stats.stop_reason);
}

// One fixture per architecture; the draft is another quantization of the same weights where
// there is one (phi3long: the phi3 fixture, which shares the phi-3 vocabulary).
struct Arch {
  const char* target;
  const char* draft;
  bool same_weights;  // the draft is the target's weights in another type: drafts get accepted
};
void PrintTo(const Arch& a, std::ostream* os) { *os << a.target << " drafted by " << a.draft; }
class EveryArchitecture : public ::testing::TestWithParam<Arch> {};

TEST_P(EveryArchitecture, GreedyOutputIsIdenticalWithAndWithoutSpeculation) {
  const Model target = load(GetParam().target), draft = load(GetParam().draft);
  const Output plain = run(target, greedy(), gen(48));
  ASSERT_EQ(plain.stats.generated_tokens, static_cast<int>(plain.tokens.size()));
  EXPECT_EQ(plain.stats.draft_tokens, 0);
  EXPECT_EQ(plain.stats.decode_passes, plain.stats.generated_tokens - 1);
  for (int ngram : {1, 3}) {
    SCOPED_TRACE("lookup " + std::to_string(ngram));
    const Output spec = run(target, lookup(greedy(), ngram), gen(48));
    expect_same(plain, spec);
    // Random weights rarely repeat a token: lookup may find nothing to draft here (the real
    // stories260K model drafts and accepts, tested below).
    EXPECT_LE(spec.stats.accepted_tokens, spec.stats.draft_tokens);
  }
  SCOPED_TRACE("draft model");
  const Output spec = run(target, drafted(greedy(), draft), gen(48));
  expect_same(plain, spec);
  EXPECT_GT(spec.stats.draft_tokens, 0);
  if (GetParam().same_weights) {
    EXPECT_GT(spec.stats.accepted_tokens, 0);
    EXPECT_LT(spec.stats.decode_passes, plain.stats.decode_passes);
  }
  // Every generated token after the first comes from a pass or an accepted draft.
  EXPECT_GE(spec.stats.decode_passes + spec.stats.accepted_tokens,
            spec.stats.generated_tokens - 1);
  EXPECT_LE(spec.stats.decode_passes + spec.stats.accepted_tokens, spec.stats.generated_tokens);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, EveryArchitecture,
    ::testing::Values(Arch{"llama-Q8_0.gguf", "llama-Q4_0.gguf", true},
                      Arch{"qwen2-Q8_0.gguf", "qwen2-Q4_0.gguf", true},
                      Arch{"gemma2-Q8_0.gguf", "gemma2-Q4_0.gguf", true},
                      Arch{"phi3-Q8_0.gguf", "phi3-Q4_K_M.gguf", true},
                      Arch{"bitnet-TQ2_0.gguf", "bitnet-TQ1_0.gguf", true},
                      Arch{"qwen3-Q8_0.gguf", "qwen3-Q4_K_M.gguf", true},
                      Arch{"gemma3-Q8_0.gguf", "gemma3-Q4_0.gguf", true},
                      Arch{"llama3rope-Q8_0.gguf", "llama3rope-F16.gguf", true},
                      Arch{"phi3long-Q8_0.gguf", "phi3-Q4_K_M.gguf", false},
                      Arch{"stories260K-f32.gguf", "stories260K-f16.gguf", true}),
    [](const auto& info) {
      std::string n = info.param.target;
      for (char& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

const Model& stories() {
  static Model m = load("stories260K-f32.gguf");
  return m;
}

// After a generation that ended inside a draft (max_tokens, stop string, cancel), the KV
// cache holds exactly tokens(): evaluating more tokens gives the logits a plain session gets.
TEST(Speculative, RejectedDraftsAreRolledBack) {
  for (int n : {5, 17, 30}) {
    SCOPED_TRACE(n);
    auto spec = Session::create(stories(), lookup(greedy(), 2));
    auto plain = Session::create(stories(), greedy());
    ASSERT_TRUE(spec.ok() && plain.ok());
    ASSERT_TRUE(spec->generate("Once upon a time, Lily", gen(n), nullptr).ok());
    EXPECT_GT(spec->stats().draft_tokens, 0);
    const std::vector<Token> held(spec->tokens().begin(), spec->tokens().end());
    ASSERT_TRUE(plain->eval(held).ok());
    const Token more[2] = {42, 7};
    ASSERT_TRUE(spec->eval(more).ok());
    ASSERT_TRUE(plain->eval(more).ok());
    ASSERT_EQ(spec->tokens().size(), plain->tokens().size());
    auto a = spec->logits(), b = plain->logits();
    ASSERT_EQ(a.size(), b.size());
    double diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, double(std::fabs(a[i] - b[i])));
    EXPECT_LT(diff, 1e-4);
  }
}

TEST(Speculative, MaxTokensStopStringsAndGrammarBehaveAsPlain) {
  for (int n : {1, 2, 9, 40}) expect_same(run(stories(), greedy(), gen(n)),
                                          run(stories(), lookup(greedy()), gen(n)));
  GenerateOptions g = gen(60);
  g.stop = {"park."};
  const Output plain = run(stories(), greedy(), g, "Once upon a time");
  EXPECT_EQ(plain.stats.stop_reason, StopReason::stop_string);
  expect_same(plain, run(stories(), lookup(greedy()), g, "Once upon a time"));
  expect_same(plain, run(stories(), drafted(greedy(), load("stories260K-f16.gguf")), g,
                         "Once upon a time"));
  g = gen(40);
  auto grammar = Grammar::parse("root ::= \"Lily\" (\" and\" | \" Tom\" | \" Lily\" | \" played\")* \".\"");
  ASSERT_TRUE(grammar.ok());
  g.grammar = *grammar;
  const Output constrained = run(stories(), greedy(), g, "Lily and Tom played. Lily and Tom");
  const Output spec = run(stories(), lookup(greedy()), g, "Lily and Tom played. Lily and Tom");
  expect_same(constrained, spec);
  EXPECT_GT(spec.stats.draft_tokens, 0);
}

TEST(Speculative, CancelLeavesAConsistentSession) {
  const Output cancelled = run(stories(), lookup(greedy()), gen(60), "Once upon a time", 3);
  EXPECT_EQ(cancelled.stats.stop_reason, StopReason::cancelled);
  // The cache is the prompt and the tokens generated before the cancel, minus the last one.
  const Output plain = run(stories(), greedy(), gen(60), "Once upon a time");
  ASSERT_LE(cancelled.cache.size(), plain.cache.size());
  EXPECT_TRUE(std::equal(cancelled.cache.begin(), cancelled.cache.end(), plain.cache.begin()));
}

TEST(Speculative, ContextShiftAndStateSavesMidGenerationChangeNothing) {
  SessionOptions o = greedy(48);
  o.context_shift = true;
  o.n_keep = 1;
  expect_same(run(stories(), o, gen(120), "Once upon a time"),
              run(stories(), lookup(o), gen(120), "Once upon a time"));
  // Pull style with save_state() between chunks (it drops unverified drafts).
  auto s = Session::create(stories(), lookup(greedy()));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->start("Once upon a time", gen(50)).ok());
  std::string text;
  for (int i = 0;; ++i) {
    auto c = s->next();
    ASSERT_TRUE(c.ok());
    if (!*c) break;
    text += **c;
    if (i % 4 == 1) {
      auto state = s->save_state();
      ASSERT_TRUE(state.ok());
    }
  }
  EXPECT_EQ(text, run(stories(), greedy(), gen(50), "Once upon a time").text);
}

TEST(Speculative, SamplingIsSeededAndKeepsTheDistribution) {
  SessionOptions o = greedy();
  o.sampling.temperature = 1.0f;
  o.sampling.top_k = 0;
  o.sampling.top_p = 1.0f;
  o.sampling.min_p = 0.0f;
  o.sampling.seed = 99;
  const Output a = run(stories(), lookup(o, 2), gen(40), "Once upon a time");
  const Output b = run(stories(), lookup(o, 2), gen(40), "Once upon a time");
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_GT(a.stats.draft_tokens, 0);
  // The joint distribution of the first three tokens, plain and speculative, over seeds: the
  // frequencies of the commonest outcomes agree within 4.5 standard deviations.
  const char* prompt = "Lily and Tom. Lily and Tom. Lily and";
  std::map<std::vector<Token>, int> freq[2];
  const int n = 2500;
  int drafted = 0;
  for (int i = 0; i < n; ++i) {
    o.sampling.seed = 1000 + static_cast<uint64_t>(i);
    for (int speculative : {0, 1}) {
      auto s = Session::create(stories(), speculative ? lookup(o, 2) : o);
      ASSERT_TRUE(s.ok());
      std::vector<Token> out;
      auto st = s->generate(prompt, gen(3), [&](std::string_view) {
        auto ids = s->chunk_tokens();
        out.insert(out.end(), ids.begin(), ids.end());
        return true;
      });
      ASSERT_TRUE(st.ok());
      ++freq[speculative][out];
      drafted += st->draft_tokens;
    }
  }
  EXPECT_GT(drafted, n / 2);
  int checked = 0;
  for (const auto& [seq, count] : freq[0]) {
    const double pa = count / double(n), pb = freq[1][seq] / double(n);
    if (pa < 0.05) continue;
    ++checked;
    EXPECT_NEAR(pa, pb, 4.5 * std::sqrt(2 * pa * (1 - pa) / n));
  }
  EXPECT_GE(checked, 2);
}

TEST(Speculative, BadOptionsAreClearErrors) {
  auto expect_error = [](const SessionOptions& o, const char* what) {
    auto s = Session::create(stories(), o);
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_EQ(s.error().code(), ErrorCode::invalid_argument);
    EXPECT_NE(s.error().message().find(what), std::string::npos) << s.error().message();
  };
  SessionOptions o = lookup(greedy());
  o.speculative.n_draft = 0;
  expect_error(o, "n_draft");
  o.speculative.n_draft = 65;
  expect_error(o, "n_draft");
  expect_error(lookup(greedy(), -1), "lookup_ngram");
  expect_error(lookup(greedy(), 17), "lookup_ngram");
  expect_error(lookup(drafted(greedy(), stories()), 2), "exclude");
  expect_error(drafted(greedy(), load("phi3-Q8_0.gguf")), "vocabulary");
  Model moved = stories();
  Model taken = std::move(moved);
  expect_error(drafted(greedy(), moved), "empty");
}

}  // namespace
}  // namespace nibble
