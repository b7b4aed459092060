// Tokenizers built from small synthetic vocabularies: merge order, byte fallback, special
// tokens, decoding, the stream decoder and rejection of malformed vocabularies.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace nibble {
namespace {

// SPM: <unk> <s> </s>, the 256 byte tokens, then pieces with scores.
VocabData spm_vocab() {
  VocabData d;
  d.model = "llama";
  d.tokens = {"<unk>", "<s>", "</s>"};
  d.types = {2, 3, 3};
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    d.tokens.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
    d.types.push_back(6);
  }
  const char* pieces[] = {"\xE2\x96\x81",
                          "H",
                          "e",
                          "l",
                          "o",
                          "\xE2\x96\x81H",
                          "\xE2\x96\x81He",
                          "He",
                          "ll",
                          "llo",
                          "\xE2\x96\x81Hello",
                          "Hello",
                          "<|end|>",
                          "\xE2\x96\x81w"};
  float score = -1;
  for (const char* p : pieces) {
    d.tokens.push_back(p);
    d.types.push_back(1);
  }
  d.scores.assign(d.tokens.size(), 0.0f);
  for (size_t i = 259; i < d.tokens.size(); ++i) d.scores[i] = score--;
  d.types[std::find(d.tokens.begin(), d.tokens.end(), "<|end|>") - d.tokens.begin()] = 3;
  d.bos = 1;
  d.eos = 2;
  d.unk = 0;
  return d;
}

std::string mapped(std::string_view bytes) {
  std::string s;
  for (char c : bytes) tok::utf8_append(&s, tok::byte_to_cp(static_cast<uint8_t>(c)));
  return s;
}

// BPE: the 256 byte characters, then merged pieces.
VocabData bpe_vocab(std::string pre = "gpt-2") {
  VocabData d;
  d.model = "gpt2";
  d.pre = std::move(pre);
  for (int b = 0; b < 256; ++b) d.tokens.push_back(mapped(std::string(1, static_cast<char>(b))));
  for (const char* m : {"h e", "l l", "he ll", "hell o", "a a", "Ġ w", "o r"}) {
    d.merges.push_back(m);
    std::string s = m;
    s.erase(s.find(' '), 1);
    d.tokens.push_back(s);
  }
  d.tokens.push_back("<|endoftext|>");
  d.tokens.push_back("<tool>");
  d.types.assign(d.tokens.size(), 1);
  d.types[d.tokens.size() - 2] = 3;
  d.types[d.tokens.size() - 1] = 4;
  d.eos = static_cast<Token>(d.tokens.size() - 2);
  return d;
}

std::shared_ptr<Tokenizer> make(VocabData d) {
  auto r = tokenizer_from_vocab(std::move(d));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : nullptr;
}

std::vector<Token> enc(const Tokenizer& t, std::string_view s, bool add = false,
                       bool special = false) {
  auto r = t.encode(s, {add, special});
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::vector<Token>{};
}

TEST(SpmSynthetic, MergesByScoreAndPrefixSpace) {
  auto t = make(spm_vocab());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind(), TokenizerKind::spm);
  Token hello = *t->token_id("\xE2\x96\x81Hello");
  EXPECT_EQ(enc(*t, "Hello"), (std::vector<Token>{hello}));
  EXPECT_EQ(enc(*t, "Hello", true), (std::vector<Token>{1, hello}));  // add_bos defaults on
  EXPECT_EQ(t->decode(enc(*t, "Hello", true)), "<s>Hello");
  EXPECT_EQ(t->decode(enc(*t, "Hello", true), true), "Hello");
  EXPECT_EQ(t->decode(enc(*t, " Hello  w")), " Hello  w");
}

TEST(SpmSynthetic, ByteFallbackAndSpecials) {
  auto t = make(spm_vocab());
  ASSERT_TRUE(t);
  // "▁" then 你 (E4 BD A0) as three byte tokens.
  auto ids = enc(*t, "\xE4\xBD\xA0");
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[1], 3 + 0xE4);
  EXPECT_EQ(ids[3], 3 + 0xA0);
  EXPECT_EQ(t->decode(ids), "\xE4\xBD\xA0");
  Token end = *t->token_id("<|end|>");
  EXPECT_EQ(enc(*t, "<|end|>", false, true), (std::vector<Token>{end}));
  auto plain = enc(*t, "<|end|>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), end), 0);
  EXPECT_TRUE(t->is_special(end));
  EXPECT_TRUE(t->is_end_of_generation(end));  // <|end|> ends a chat turn
  EXPECT_TRUE(t->is_end_of_generation(2));
  EXPECT_FALSE(t->is_end_of_generation(1));
  EXPECT_EQ(t->eot(), end);
  EXPECT_EQ(t->token_to_piece(end, false), "");
  EXPECT_EQ(t->token_to_piece(end, true), "<|end|>");
  EXPECT_EQ(t->token_to_piece(-5), "");
  EXPECT_EQ(t->token_to_piece(1 << 30), "");
}

TEST(BpeSynthetic, MergesByRankLeftmostFirst) {
  auto t = make(bpe_vocab());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind(), TokenizerKind::bpe);
  EXPECT_EQ(t->pre_tokenizer(), "gpt-2");
  Token hello = *t->token_id("hello");
  Token aa = *t->token_id("aa");
  Token a = *t->token_id("a");
  EXPECT_EQ(enc(*t, "hello"), (std::vector<Token>{hello}));
  EXPECT_EQ(enc(*t, "aaa"), (std::vector<Token>{aa, a}));
  EXPECT_EQ(enc(*t, " world").front(), *t->token_id("Ġw"));
  EXPECT_FALSE(t->add_bos());
  EXPECT_EQ(t->decode(enc(*t, "hello world\n\x01\xFF")), "hello world\n\x01\xFF");
  // User-defined tokens match even without parse_special; control tokens only with it.
  Token tool = *t->token_id("<tool>");
  EXPECT_EQ(enc(*t, "x<tool>y"), (std::vector<Token>{*t->token_id("x"), tool, *t->token_id("y")}));
  EXPECT_EQ(enc(*t, "<|endoftext|>", false, true), (std::vector<Token>{t->eos()}));
  EXPECT_GT(enc(*t, "<|endoftext|>").size(), 1u);
  EXPECT_EQ(t->decode(enc(*t, "a<|endoftext|>", false, true), true), "a");
}

TEST(BpeSynthetic, SpecialTokensMatchLeftmostLongest) {
  VocabData d = bpe_vocab();
  for (auto [text, type] : {std::pair{"QR", 4}, {"QRS", 3}, {"RST", 4}}) {
    d.tokens.push_back(text);
    d.types.push_back(type);
  }
  auto t = make(d);
  ASSERT_TRUE(t);
  Token qr = *t->token_id("QR"), qrs = *t->token_id("QRS"), rst = *t->token_id("RST");
  Token S = *t->token_id("S"), T = *t->token_id("T"), x = *t->token_id("x");
  // Without parse_special only user-defined tokens count: QR wins at the leftmost position.
  EXPECT_EQ(enc(*t, "QRST"), (std::vector<Token>{qr, S, T}));
  // With it the control token QRS is longer at the same position.
  EXPECT_EQ(enc(*t, "QRST", false, true), (std::vector<Token>{qrs, T}));
  EXPECT_EQ(enc(*t, "xRSTQ"), (std::vector<Token>{x, rst, *t->token_id("Q")}));
}

TEST(BpeSynthetic, ErrorsNameTheProblem) {
  auto bad_pre = tokenizer_from_vocab(bpe_vocab("not-a-pre"));
  ASSERT_FALSE(bad_pre.ok());
  EXPECT_EQ(bad_pre.error().code(), ErrorCode::unsupported_tokenizer);
  EXPECT_NE(bad_pre.error().message().find("not-a-pre"), std::string::npos);

  VocabData d = bpe_vocab();
  d.model = "bert";
  auto bad_model = tokenizer_from_vocab(d);
  ASSERT_FALSE(bad_model.ok());
  EXPECT_EQ(bad_model.error().code(), ErrorCode::unsupported_tokenizer);

  d = bpe_vocab();
  d.types.pop_back();
  auto bad_types = tokenizer_from_vocab(d);
  ASSERT_FALSE(bad_types.ok());
  EXPECT_EQ(bad_types.error().code(), ErrorCode::corrupt_metadata);
  EXPECT_NE(bad_types.error().message().find("token_type"), std::string::npos);

  d = bpe_vocab();
  d.types[5] = 42;
  EXPECT_EQ(tokenizer_from_vocab(d).error().code(), ErrorCode::corrupt_metadata);

  d = bpe_vocab();
  d.merges.push_back("nospace");
  EXPECT_EQ(tokenizer_from_vocab(d).error().code(), ErrorCode::corrupt_metadata);

  d = bpe_vocab();
  d.merges.clear();
  EXPECT_EQ(tokenizer_from_vocab(d).error().code(), ErrorCode::corrupt_metadata);

  d = bpe_vocab();
  d.tokens.clear();
  d.types.clear();
  EXPECT_EQ(tokenizer_from_vocab(d).error().code(), ErrorCode::corrupt_metadata);

  // Special ids outside the vocabulary are ignored, not trusted.
  d = bpe_vocab();
  d.bos = 1 << 30;
  d.eos = -3;
  auto t = tokenizer_from_vocab(d);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->bos(), -1);
  EXPECT_EQ((*t)->eos(), -1);
  EXPECT_EQ((*t)->token_id("nope").error().code(), ErrorCode::invalid_argument);
}

TEST(BpeSynthetic, ConcurrentEncodesAgree) {
  // encode() keeps per-thread scratch; a shared tokenizer must give every thread the same ids.
  std::shared_ptr<const Tokenizer> t = make(bpe_vocab("qwen2"));
  ASSERT_TRUE(t);
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "hello world aaa 12345 caf\xC3\xA9 e\xCC\x81\n";
  auto expected = enc(*t, text);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&] {
      for (int r = 0; r < 5; ++r) {
        auto ids = t->encode(text, {});
        if (!ids.ok() || *ids != expected) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// --- GGUF metadata ---------------------------------------------------------------------

Result<std::shared_ptr<Tokenizer>> from_writer(const gguf::Writer& w) {
  auto bytes = w.to_bytes();
  auto file = gguf::File::from_bytes(bytes);
  EXPECT_TRUE(file.ok());
  if (!file.ok()) return std::move(file).error();
  return tokenizer_from_gguf(*file);
}

TEST(GgufVocab, LoadsAndRejectsWithTheKeyNamed) {
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(mapped(std::string(1, static_cast<char>(b))));
  tokens.push_back("ab");
  tokens.push_back("<|im_end|>");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", {"a b"});
  w.set_i32("tokenizer.ggml.eos_token_id", static_cast<int32_t>(tokens.size() - 1));
  w.set_bool("tokenizer.ggml.add_bos_token", false);
  w.set_string("tokenizer.chat_template", "{{ messages }}");
  auto ok = from_writer(w);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ((*ok)->chat_template(), "{{ messages }}");
  EXPECT_EQ((*ok)->eos(), static_cast<Token>(tokens.size() - 1));
  EXPECT_TRUE((*ok)->is_end_of_generation((*ok)->eos()));
  EXPECT_EQ(enc(**ok, "ab"), (std::vector<Token>{256}));

  gguf::Writer no_model;
  no_model.set_string_array("tokenizer.ggml.tokens", tokens);
  auto r1 = from_writer(no_model);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code(), ErrorCode::missing_key);
  EXPECT_NE(r1.error().message().find("tokenizer.ggml.model"), std::string::npos);

  gguf::Writer bad_type;
  bad_type.set_string("tokenizer.ggml.model", "llama");
  bad_type.set_string("tokenizer.ggml.tokens", "not an array");
  auto r2 = from_writer(bad_type);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code(), ErrorCode::type_mismatch);
  EXPECT_NE(r2.error().message().find("tokenizer.ggml.tokens"), std::string::npos);

  gguf::Writer bad_flag;
  bad_flag.set_string("tokenizer.ggml.model", "llama");
  bad_flag.set_string_array("tokenizer.ggml.tokens", {"<unk>", "a"});
  bad_flag.set_string("tokenizer.ggml.add_bos_token", "yes");
  auto r3 = from_writer(bad_flag);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code(), ErrorCode::type_mismatch);
  EXPECT_NE(r3.error().message().find("add_bos_token"), std::string::npos);

  gguf::Writer bad_scores;
  bad_scores.set_string("tokenizer.ggml.model", "llama");
  bad_scores.set_string_array("tokenizer.ggml.tokens", {"<unk>", "a"});
  bad_scores.set_f32_array("tokenizer.ggml.scores", {0.0f});
  auto r4 = from_writer(bad_scores);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code(), ErrorCode::corrupt_metadata);
  EXPECT_NE(r4.error().message().find("tokenizer.ggml.scores"), std::string::npos);
}

// --- StreamDecoder ---------------------------------------------------------------------

std::string stream_all(std::shared_ptr<const Tokenizer> t, const std::vector<Token>& ids,
                       std::vector<std::string>* chunks = nullptr) {
  StreamDecoder sd(std::move(t));
  std::string out;
  for (Token id : ids) {
    std::string c = sd.push(id);
    if (chunks) chunks->push_back(c);
    out += c;
  }
  out += sd.flush();
  return out;
}

TEST(StreamDecoder, JoinsByteFallbackPieces) {
  std::shared_ptr<const Tokenizer> t = make(spm_vocab());
  ASSERT_TRUE(t);
  // "Hello 😀你" : the emoji and the CJK character come as byte-fallback tokens.
  std::string text = "Hello \xF0\x9F\x98\x80\xE4\xBD\xA0";
  auto ids = enc(*t, text, true);
  ASSERT_GE(ids.size(), 9u);
  std::vector<std::string> chunks;
  text.insert(0, "<s>");  // BOS is shown (skip_special is off)
  EXPECT_EQ(stream_all(t, ids, &chunks), text);
  for (auto& c : chunks) EXPECT_TRUE(tok::utf8_valid(c)) << "half a character emitted";
  // Each chunk boundary falls on a character boundary: nothing of 😀 before its last byte.
  std::string acc;
  for (auto& c : chunks) {
    acc += c;
    EXPECT_TRUE(text.compare(0, acc.size(), acc) == 0);
  }
  EXPECT_EQ(stream_all(t, ids), t->decode(ids));
}

TEST(StreamDecoder, InvalidBytesBecomeReplacementCharacters) {
  std::shared_ptr<const Tokenizer> t = make(spm_vocab());
  ASSERT_TRUE(t);
  auto byte = [](int b) { return Token(3 + b); };
  const std::string fffd = "\xEF\xBF\xBD";
  // A stray continuation byte, then an emoji cut short by 'H', then an unfinished sequence.
  std::vector<Token> ids = {byte(0x80), byte(0xF0), byte(0x9F), *t->token_id("H"), byte(0xE4)};
  StreamDecoder sd(t);
  EXPECT_EQ(sd.push(ids[0]), fffd);
  EXPECT_EQ(sd.push(ids[1]), "");
  EXPECT_EQ(sd.push(ids[2]), "");
  EXPECT_EQ(sd.push(ids[3]), fffd + "H");
  EXPECT_EQ(sd.push(ids[4]), "");
  EXPECT_EQ(sd.flush(), fffd);
  EXPECT_EQ(sd.flush(), "");
  // Surrogates and overlong forms never pass.
  sd.reset();
  std::string out;
  for (int b : {0xED, 0xA0, 0x80, 0xC0, 0xAF}) out += sd.push(byte(b));
  out += sd.flush();
  EXPECT_TRUE(tok::utf8_valid(out));
  EXPECT_EQ(out.find("\xED"), std::string::npos);
}

}  // namespace
}  // namespace nibble
