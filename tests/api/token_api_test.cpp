// The token-level C++ API (eval, logits, sample, truncate, chunk token ids), session state
// save/restore, and misuse that must fail cleanly: moved-from sessions, callbacks that throw,
// Result accessed on the wrong side.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "nibble/nibble.h"
#include "tests/common/shared_data.h"

namespace nibble {
namespace {

const char* kPrompt = "Once upon a time";
// What the model writes after kPrompt with greedy decoding (../shared/README.md).
const std::string kGreedy =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she "
    "saw a big, red ball.";

const Model& model() {
  static Model m = [] {
    auto r = Model::load(test::shared_path("fixtures/stories260K-f32.gguf"));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return std::move(r).value();
  }();
  return m;
}

// A model whose head_dim (32) allows the q8_0 KV cache (stories260K's is 8).
const Model& model_q8() {
  static Model m = [] {
    auto r = Model::load(test::shared_path("fixtures/llama-Q8_0.gguf"));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return std::move(r).value();
  }();
  return m;
}

Session open(int n_ctx = 256, bool q8 = false) {
  SessionOptions o;
  o.n_ctx = n_ctx;
  o.n_threads = 2;
  o.kv_cache_q8_0 = q8;
  o.sampling.temperature = 0;
  auto s = Session::create(q8 ? model_q8() : model(), o);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().to_string());
  return std::move(s).value();
}

std::string decode(const std::vector<Token>& ids) {
  return model().tokenizer()->decode(ids, /*skip_special=*/true);
}

TEST(TokenApi, GreedyLoopByHandReproducesGenerate) {
  Session s = open();
  EXPECT_TRUE(s.logits().empty());
  EXPECT_EQ(s.sample().error().code(), ErrorCode::invalid_argument);
  auto prompt = s.tokenize(kPrompt);
  ASSERT_TRUE(prompt.ok());
  ASSERT_TRUE(s.eval(*prompt).ok());
  EXPECT_EQ(s.tokens().size(), prompt->size());
  ASSERT_EQ(s.logits().size(), static_cast<size_t>(model().info().n_vocab));
  std::vector<Token> out;
  std::string text;
  while (text.size() < kGreedy.size()) {
    auto t = s.sample();
    ASSERT_TRUE(t.ok());
    // greedy = argmax of logits(), ties to the lowest id
    auto l = s.logits();
    Token best = 0;
    for (Token i = 1; i < static_cast<Token>(l.size()); ++i)
      if (l[i] > l[best]) best = i;
    EXPECT_EQ(*t, best);
    out.push_back(*t);
    const Token one[] = {*t};
    ASSERT_TRUE(s.eval(one).ok());
    text = decode(out);
  }
  EXPECT_EQ(text.substr(0, kGreedy.size()), kGreedy);
}

TEST(TokenApi, EvalRejectsBadTokensAndOverflow) {
  Session s = open(16);
  const Token bad[] = {1, 999999};
  auto st = s.eval(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(s.tokens().empty());
  std::vector<Token> many(17, 1);
  st = s.eval(many);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::context_full);
  EXPECT_TRUE(s.tokens().empty());
  EXPECT_FALSE(s.eval({}).ok());
}

TEST(TokenApi, TruncateThenEvalEqualsFreshEval) {
  Session a = open(), b = open();
  auto p = a.tokenize("Once upon a time there was a dog");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(a.eval(*p).ok());
  ASSERT_TRUE(a.truncate(3).ok());
  EXPECT_TRUE(a.logits().empty());
  EXPECT_EQ(a.tokens().size(), 3u);
  EXPECT_FALSE(a.truncate(4).ok());
  EXPECT_FALSE(a.truncate(-1).ok());
  const std::vector<Token> rest(p->begin() + 3, p->end());
  ASSERT_TRUE(a.eval(rest).ok());
  ASSERT_TRUE(b.eval(std::vector<Token>(p->begin(), p->begin() + 3)).ok());
  ASSERT_TRUE(b.eval(rest).ok());
  auto la = a.logits(), lb = b.logits();
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) ASSERT_EQ(la[i], lb[i]) << i;
}

TEST(TokenApi, ChunkTokensAreTheTokensBehindTheText) {
  Session s = open();
  GenerateOptions g;
  g.max_tokens = 24;
  std::vector<Token> all;
  std::string text;
  auto stats = s.generate(kPrompt, g, [&](std::string_view t) {
    text.append(t);
    auto ids = s.chunk_tokens();
    EXPECT_FALSE(ids.empty());
    all.insert(all.end(), ids.begin(), ids.end());
    return true;
  });
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(static_cast<int>(all.size()), stats->generated_tokens);
  EXPECT_EQ(decode(all), text);
}

// The state of a prompt restored into a fresh session gives bit-identical logits, and the
// continuation is the same as the original session's.
void check_state_roundtrip(bool q8) {
  Session a = open(256, q8);
  auto p = a.tokenize("Once upon a time, there was a little girl");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(a.eval(*p).ok());
  auto bytes = a.save_state();
  ASSERT_TRUE(bytes.ok());
  const std::vector<float> saved(a.logits().begin(), a.logits().end());

  Session b = open(256, q8);
  EXPECT_EQ(b.load_state(std::vector<uint8_t>(bytes->begin(), bytes->end() - 1)).error().code(),
            ErrorCode::invalid_argument);
  ASSERT_TRUE(b.load_state(*bytes).ok());
  ASSERT_EQ(std::vector<Token>(b.tokens().begin(), b.tokens().end()), *p);
  ASSERT_EQ(std::vector<float>(b.logits().begin(), b.logits().end()), saved);
  for (int i = 0; i < 8; ++i) {
    auto ta = a.sample(), tb = b.sample();
    ASSERT_TRUE(ta.ok() && tb.ok());
    ASSERT_EQ(*ta, *tb);
    const Token one[] = {*ta};
    ASSERT_TRUE(a.eval(one).ok());
    ASSERT_TRUE(b.eval(one).ok());
    auto la = a.logits(), lb = b.logits();
    ASSERT_TRUE(std::equal(la.begin(), la.end(), lb.begin(), lb.end())) << "step " << i;
  }
}

TEST(SessionState, RoundTripF16BitIdentical) { check_state_roundtrip(false); }
TEST(SessionState, RoundTripQ8BitIdentical) { check_state_roundtrip(true); }

TEST(SessionState, GenerateAfterRestoreReusesThePrompt) {
  Session a = open();
  auto p = a.tokenize(kPrompt);
  ASSERT_TRUE(a.eval(*p).ok());
  const std::string path =
      (std::filesystem::temp_directory_path() / "nibble_state_test.bin").string();
  ASSERT_TRUE(a.save_state_file(path).ok());
  Session b = open();
  ASSERT_TRUE(b.load_state_file(path).ok());
  std::filesystem::remove(path);
  GenerateOptions g;
  g.max_tokens = 40;
  auto out = b.complete(kPrompt, g);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->substr(0, kGreedy.size()), kGreedy);
  EXPECT_EQ(b.stats().reused_tokens, static_cast<int>(p->size()) - 1);
}

TEST(SessionState, RefusesMismatchAndDamage) {
  Session a = open();
  ASSERT_TRUE(a.eval(*a.tokenize(kPrompt)).ok());
  auto bytes = *a.save_state();

  Session other_ctx = open(128);
  auto st = other_ctx.load_state(bytes);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::state_mismatch);
  EXPECT_NE(st.error().message().find("n_ctx"), std::string::npos) << st.error().message();

  {  // The same model file, another KV type.
    Session q8 = open(256, true), q8_other = open(256, true);
    SessionOptions o;
    o.n_ctx = 256;
    auto plain = Session::create(model_q8(), o);
    ASSERT_TRUE(plain.ok());
    ASSERT_TRUE(q8.eval(*q8.tokenize(kPrompt)).ok());
    auto q8_bytes = *q8.save_state();
    st = plain->load_state(q8_bytes);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), ErrorCode::state_mismatch);
    EXPECT_NE(st.error().message().find("q8_0"), std::string::npos);
    EXPECT_TRUE(q8_other.load_state(q8_bytes).ok());
  }

  auto other_model = Model::load(test::shared_path("fixtures/stories260K-f16.gguf"));
  ASSERT_TRUE(other_model.ok());
  SessionOptions o;
  o.n_ctx = 256;
  auto s2 = Session::create(*other_model, o);
  st = s2->load_state(bytes);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::state_mismatch);

  // Every truncation and a flipped magic are refused, and leave the session as it was.
  Session b = open();
  ASSERT_TRUE(b.eval(*b.tokenize("Hello")).ok());
  const auto before = std::vector<Token>(b.tokens().begin(), b.tokens().end());
  for (size_t n : {size_t{0}, size_t{7}, size_t{20}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    st = b.load_state(std::span<const uint8_t>(bytes.data(), n));
    EXPECT_FALSE(st.ok()) << n;
    EXPECT_EQ(std::vector<Token>(b.tokens().begin(), b.tokens().end()), before);
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(b.load_state(longer).ok());
  auto bad = bytes;
  bad[0] ^= 1;
  EXPECT_EQ(b.load_state(bad).error().code(), ErrorCode::invalid_argument);
  // A token id outside the vocabulary (the first token sits right after the 40-byte header).
  bad = bytes;
  bad[40 + 3] = 0x7f;
  EXPECT_EQ(b.load_state(bad).error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(b.load_state_file("/nonexistent/state.bin").error().code(), ErrorCode::io_error);
}

TEST(Misuse, MovedFromSessionReportsErrors) {
  Session a = open();
  Session b = std::move(a);
  auto r = a.generate(kPrompt, {}, nullptr);  // NOLINT(bugprone-use-after-move): the point
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message().find("moved"), std::string::npos);
  EXPECT_FALSE(a.start(kPrompt, {}).ok());
  EXPECT_FALSE(a.next().ok());
  EXPECT_FALSE(a.eval(std::vector<Token>{1}).ok());
  EXPECT_FALSE(a.sample().ok());
  EXPECT_FALSE(a.save_state().ok());
  EXPECT_FALSE(a.complete(kPrompt, {}).ok());
  EXPECT_TRUE(a.tokens().empty());
  EXPECT_TRUE(a.logits().empty());
  EXPECT_EQ(a.n_ctx(), 0);
  a.cancel();
  a.reset();
  EXPECT_EQ(a.stats().generated_tokens, 0);
  // The moved-to session works.
  GenerateOptions g;
  g.max_tokens = 4;
  EXPECT_TRUE(b.complete(kPrompt, g).ok());
}

TEST(Misuse, CallbackExceptionBecomesAnError) {
  Session s = open();
  GenerateOptions g;
  g.max_tokens = 16;
  int calls = 0;
  auto r = s.generate(kPrompt, g, [&](std::string_view) -> bool {
    if (++calls == 2) throw std::runtime_error("app failure");
    return true;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::callback_failed);
  EXPECT_NE(r.error().message().find("app failure"), std::string::npos);
  EXPECT_EQ(s.stats().stop_reason, StopReason::callback);
  auto r2 = s.generate(kPrompt, g, [](std::string_view) -> bool { throw 42; });
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code(), ErrorCode::callback_failed);
  // The session is usable afterwards.
  auto again = s.complete(kPrompt, g);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->substr(0, 20), kGreedy.substr(0, 20));
}

TEST(Misuse, ResultValueOnErrorIsACheckedAbort) {
  Result<int> bad = Error(ErrorCode::io_error, "no such file: x.gguf");
  EXPECT_EQ(bad.value_or(7), 7);
  EXPECT_DEATH((void)bad.value(), "Result::value\\(\\) on an error result: io_error: no such file");
  Result<std::string> bad_s = Error(ErrorCode::invalid_argument, "bad");
  EXPECT_DEATH((void)bad_s->size(), "Result::operator-> on an error result");
  Result<int> good = 3;
  EXPECT_EQ(good.value_or(7), 3);
  EXPECT_DEATH((void)good.error(), "holds no error");
  Status fine;
  EXPECT_DEATH((void)fine.error(), "holds no error");
}

}  // namespace
}  // namespace nibble
