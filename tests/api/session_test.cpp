// The public API end to end on the real trained fixture (stories260K, SentencePiece vocabulary):
// the reference completion, streaming vs non-streaming vs pull, UTF-8 in the stream, stop
// strings across tokens, cancel from another thread during prefill and decode, context full
// and context shift, prefix reuse, concurrent sessions on one model, seeded determinism.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "nibble/nibble.h"
#include "tests/common/shared_data.h"

namespace nibble {
namespace {

const char* kPrompt = "Once upon a time";
// What the model writes after kPrompt with greedy decoding (../shared/README.md).
const char* kGreedy =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she "
    "saw a big, red ball.";

Model load() {
  auto m = Model::load(test::shared_path("fixtures/stories260K-f32.gguf"));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
  return std::move(m).value();
}

const Model& model() {
  static Model m = load();
  return m;
}

SessionOptions greedy(int n_ctx = 256) {
  SessionOptions o;
  o.n_ctx = n_ctx;
  o.n_threads = 2;
  o.sampling.temperature = 0;
  return o;
}

Session open(const SessionOptions& o) {
  auto s = Session::create(model(), o);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().to_string());
  return std::move(s).value();
}

GenerateOptions gen(int n) {
  GenerateOptions g;
  g.max_tokens = n;
  return g;
}

struct Streamed {
  std::vector<std::string> chunks;
  std::string text;
  Stats stats;
};

Streamed stream(Session& s, std::string_view prompt, const GenerateOptions& g) {
  Streamed r;
  auto st = s.generate(prompt, g, [&](std::string_view t) {
    r.chunks.emplace_back(t);
    r.text += t;
    return true;
  });
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().to_string());
  if (st.ok()) r.stats = *st;
  return r;
}

// Strict UTF-8: no truncated, overlong, surrogate or out-of-range sequences.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + n >= s.size() + (n == 0 ? 1 : 0)) return false;
    uint32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (int k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

TEST(Session, Utf8CheckerRejectsBrokenText) {
  EXPECT_TRUE(valid_utf8("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xe2\x82"));      // truncated
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(valid_utf8("\x80"));          // lone continuation
}

TEST(Session, GreedyCompletionIsTheModelsStory) {
  Session s = open(greedy());
  auto r = stream(s, kPrompt, gen(40));
  EXPECT_EQ(r.text.substr(0, std::string(kGreedy).size()), kGreedy);
  EXPECT_EQ(r.stats.stop_reason, StopReason::max_tokens);
  EXPECT_EQ(r.stats.generated_tokens, 40);
  EXPECT_EQ(r.stats.prompt_tokens, 5);  // BOS + 4 pieces
  EXPECT_GT(r.stats.time_to_first_token_ms, 0);
  EXPECT_GT(r.stats.prefill_tokens_per_s, 0);
  EXPECT_GT(r.stats.decode_tokens_per_s, 0);
}

TEST(Session, StreamingEqualsCompleteEqualsPull) {
  Session a = open(greedy()), b = open(greedy()), c = open(greedy());
  auto streamed = stream(a, kPrompt, gen(48));
  EXPECT_GT(streamed.chunks.size(), 10u);  // really streamed, not one chunk at the end
  auto whole = b.complete(kPrompt, gen(48));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(*whole, streamed.text);
  ASSERT_TRUE(c.start(kPrompt, gen(48)).ok());
  std::vector<std::string> pulled;
  while (true) {
    auto n = c.next();
    ASSERT_TRUE(n.ok());
    if (!*n) break;
    pulled.push_back(**n);
  }
  EXPECT_EQ(pulled, streamed.chunks);
  EXPECT_EQ(c.stats().generated_tokens, 48);
}

TEST(Session, StreamNeverSplitsUtf8) {
  // Bias the sampler towards byte-fallback pieces (lead and continuation bytes of multi-byte
  // characters) and multi-byte character pieces, so the stream is full of characters spread
  // over several tokens and of invalid sequences.
  const auto& tok = *model().tokenizer();
  SessionOptions o = greedy();
  o.sampling.temperature = 1.5f;
  o.sampling.top_k = 0;
  o.sampling.top_p = 1;
  o.sampling.min_p = 0;
  o.sampling.seed = 7;
  int biased = 0;
  for (int b = 0x80; b <= 0xf4; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto id = tok.token_id(name);
    if (!id.ok()) continue;
    o.sampling.logit_bias.push_back({*id, 25.0f});
    ++biased;
  }
  ASSERT_GT(biased, 60);
  Session s = open(o);
  auto r = stream(s, kPrompt, gen(120));
  ASSERT_GT(r.chunks.size(), 5u);
  size_t multibyte = 0;
  for (const auto& c : r.chunks) {
    EXPECT_TRUE(valid_utf8(c)) << "chunk of " << c.size() << " bytes is not valid UTF-8";
    for (unsigned char ch : c) multibyte += ch >= 0xc0;
  }
  EXPECT_GT(multibyte, 5u);  // multi-byte characters did come through
}

TEST(Session, StopStringAcrossTokensIsHeldBackAndDropped) {
  Session plain = open(greedy());
  const std::string full = stream(plain, kPrompt, gen(40)).text;
  // "le gi" spans the pieces of " little" and " girl": neither token holds it alone.
  const std::string stop = "le gi";
  const size_t at = full.find(stop);
  ASSERT_NE(at, std::string::npos);
  Session s = open(greedy());
  GenerateOptions g = gen(40);
  g.stop = {"never appears", stop};
  auto r = stream(s, kPrompt, g);
  EXPECT_EQ(r.text, full.substr(0, at));
  EXPECT_EQ(r.stats.stop_reason, StopReason::stop_string);
  for (const auto& c : r.chunks) EXPECT_EQ(c.find("le g"), std::string::npos);
  EXPECT_LT(r.stats.generated_tokens, 40);
}

TEST(Session, CallbackFalseStops) {
  Session s = open(greedy());
  int calls = 0;
  auto st = s.generate(kPrompt, gen(40), [&](std::string_view) { return ++calls < 3; });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(st->stop_reason, StopReason::callback);
}

TEST(Session, CancelFromAnotherThreadDuringDecode) {
  Session s = open(greedy(512));
  std::atomic<int> chunks{0};
  std::atomic<bool> sent{false};
  std::thread canceller([&] {
    while (chunks.load() < 5) std::this_thread::yield();
    s.cancel();
    sent = true;
  });
  auto st = s.generate(kPrompt, gen(400), [&](std::string_view) {
    // The fifth chunk waits until the other thread has cancelled, so the test does not
    // depend on scheduling: the generation must stop at the next token boundary.
    if (++chunks == 5)
      while (!sent.load()) std::this_thread::yield();
    return true;
  });
  canceller.join();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->stop_reason, StopReason::cancelled);
  EXPECT_GE(st->generated_tokens, 5);
  EXPECT_LE(st->generated_tokens, 6);
  // The session is usable afterwards and gives the greedy story again.
  auto again = stream(s, kPrompt, gen(40));
  EXPECT_EQ(again.text.substr(0, std::string(kGreedy).size()), kGreedy);
}

TEST(Session, CancelFromAnotherThreadDuringPrefill) {
  // A long prompt evaluated one token per pass, so prefill takes many layer boundaries.
  SessionOptions o = greedy(512);
  o.n_batch = 1;
  Session s = open(o);
  std::string prompt;
  for (int i = 0; i < 20; ++i) prompt += "The cat sat on the mat and looked at the sun. ";
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    while (!done.load()) {
      s.cancel();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  auto st = s.generate(prompt, gen(8), [](std::string_view) { return true; });
  done = true;
  canceller.join();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->stop_reason, StopReason::cancelled);
  EXPECT_EQ(st->generated_tokens, 0);
  // A cancelled prefill rolls the cache back to where the call began (here: empty).
  const size_t kept = s.tokens().size();
  EXPECT_LT(kept, static_cast<size_t>(st->prompt_tokens));
  // The next call reuses what was kept and matches a fresh run.
  auto resumed = stream(s, prompt, gen(8));
  Session fresh = open(o);
  auto ref = stream(fresh, prompt, gen(8));
  EXPECT_EQ(resumed.text, ref.text);
  EXPECT_EQ(resumed.stats.reused_tokens, static_cast<int>(kept));
}

TEST(Session, ContextFullEndsGenerationOrShifts) {
  Session s = open(greedy(32));
  auto r = stream(s, kPrompt, gen(100));
  EXPECT_EQ(r.stats.stop_reason, StopReason::context_full);
  EXPECT_EQ(s.tokens().size(), 32u);
  EXPECT_EQ(r.stats.generated_tokens, 32 - 5 + 1);  // the last sampled token needs no slot
  // A prompt longer than the context is refused before anything runs.
  std::string longp;
  for (int i = 0; i < 20; ++i) longp += "the cat and the dog ";
  auto st = s.generate(longp, gen(4), nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::context_full);
  // Opt-in shift: keeps the first n_keep tokens and goes on to max_tokens.
  SessionOptions o = greedy(32);
  o.context_shift = true;
  o.n_keep = 5;
  Session sh = open(o);
  auto r2 = stream(sh, kPrompt, gen(100));
  EXPECT_EQ(r2.stats.stop_reason, StopReason::max_tokens);
  EXPECT_EQ(r2.stats.generated_tokens, 100);
  ASSERT_GE(sh.tokens().size(), 5u);
  EXPECT_LE(sh.tokens().size(), 32u);
  EXPECT_EQ(r2.text.substr(0, 20), std::string(kGreedy).substr(0, 20));
}

TEST(Session, PrefixReuseSkipsCachedTokens) {
  Session s = open(greedy());
  auto first = stream(s, kPrompt, gen(20));
  const std::string turn2 = std::string(kPrompt) + first.text + " The ball";
  auto second = stream(s, turn2, gen(20));
  EXPECT_GE(second.stats.reused_tokens, 20);
  Session fresh = open(greedy());
  auto ref = stream(fresh, turn2, gen(20));
  EXPECT_EQ(second.text, ref.text);
  EXPECT_EQ(ref.stats.reused_tokens, 0);
  s.reset();
  EXPECT_TRUE(s.tokens().empty());
}

TEST(Session, TwoSessionsOnOneModelConcurrently) {
  Session ref = open(greedy());
  const std::string expect = stream(ref, kPrompt, gen(60)).text;
  std::string got[2];
  std::thread th[2];
  for (int i = 0; i < 2; ++i) {
    th[i] = std::thread([&, i] {
      SessionOptions o = greedy();
      o.n_threads = 1;
      Session s = open(o);
      for (int rep = 0; rep < 3; ++rep) got[i] = stream(s, kPrompt, gen(60)).text;
    });
  }
  for (auto& t : th) t.join();
  EXPECT_EQ(got[0], expect);
  EXPECT_EQ(got[1], expect);
}

TEST(Session, SameSeedSameTokens) {
  SessionOptions o = greedy();
  o.sampling.temperature = 1.0f;
  o.sampling.seed = 1234;
  Session a = open(o), b = open(o);
  auto ra = stream(a, kPrompt, gen(64)).text;
  auto rb = stream(b, kPrompt, gen(64)).text;
  EXPECT_EQ(ra, rb);
  auto ra2 = stream(a, kPrompt, gen(64)).text;  // re-seeded per call
  EXPECT_EQ(ra2, ra);
  o.sampling.seed = 99;
  Session c = open(o);
  auto rc = stream(c, kPrompt, gen(64)).text;
  EXPECT_NE(rc, ra);  // 64 tokens at temperature 1: another seed diverges
}

TEST(Session, EveryFixtureGenerates) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::shared_path("fixtures"))) {
    if (e.path().extension() != ".gguf") continue;
    SCOPED_TRACE(e.path().filename().string());
    ++n;
    auto m = Model::load(e.path().string());
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    SessionOptions o = greedy(64);
    auto s = Session::create(*m, o);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    auto st = s->generate("Hello world", gen(8), nullptr);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_GE(st->generated_tokens, 1);
    EXPECT_TRUE(st->stop_reason == StopReason::max_tokens ||
                st->stop_reason == StopReason::end_of_generation);
    if (m->info().has_chat_template) {
      std::vector<ChatMessage> msgs{{"user", "Hi"}};
      auto c = s->chat(msgs, gen(4), nullptr);
      ASSERT_TRUE(c.ok()) << c.error().to_string();
    }
  }
  EXPECT_GE(n, 30);
}

TEST(Session, BadOptionsAreErrors) {
  SessionOptions o;
  o.n_batch = 0;
  EXPECT_EQ(Session::create(model(), o).error().code(), ErrorCode::invalid_argument);
  o = {};
  o.sampling.top_p = -1;
  EXPECT_FALSE(Session::create(model(), o).ok());
  o = {};
  o.kv_cache_q8_0 = true;  // head_dim 8
  EXPECT_EQ(Session::create(model(), o).error().code(), ErrorCode::invalid_argument);
  Session s = open(greedy());
  GenerateOptions g;
  g.max_tokens = -1;
  EXPECT_EQ(s.generate(kPrompt, g, nullptr).error().code(), ErrorCode::invalid_argument);
  auto bad = Model::load("/nonexistent/model.gguf");
  EXPECT_FALSE(bad.ok());
  ModelOptions mo;
  mo.isa = "pentium";
  auto bad_isa = Model::load(test::shared_path("fixtures/stories260K-f32.gguf"), mo);
  ASSERT_FALSE(bad_isa.ok());
  EXPECT_EQ(bad_isa.error().code(), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace nibble
