// Pre-tokenizer splits on hand-checked inputs (what the Hugging Face regexes produce).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/pretokenizer.h"

namespace nibble::tok {
namespace {

std::vector<std::string> split(std::string_view pre, std::string_view text) {
  auto spec = pre_tokenizer_for(pre);
  EXPECT_TRUE(spec.ok()) << pre;
  PreTokenizeScratch scratch;
  pre_tokenize(*spec, text, &scratch);
  const std::vector<Piece>& pieces = scratch.pieces;
  std::vector<std::string> out;
  size_t covered = 0;
  for (auto p : pieces) {
    EXPECT_EQ(p.offset, covered);
    covered += p.length;
    out.emplace_back(text.substr(p.offset, p.length));
  }
  EXPECT_EQ(covered, text.size());
  return out;
}

using V = std::vector<std::string>;

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(split("gpt-2", "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split("gpt-2", "I'm   here!!\n"), (V{"I", "'m", "  ", " here", "!!", "\n"}));
  EXPECT_EQ(split("gpt-2", "x  "), (V{"x", "  "}));
  EXPECT_EQ(split("gpt-2", "a\nb"), (V{"a", "\n", "b"}));
  EXPECT_EQ(split("gpt-2", "12345 abc"), (V{"12345", " abc"}));
  EXPECT_EQ(split("gpt-2", "I'M"), (V{"I", "'", "M"}));  // case-sensitive contractions
  EXPECT_EQ(split("gpt-2", ""), V{});
}

TEST(PreTokenizer, Llama3) {
  EXPECT_EQ(split("llama-bpe", "I'M 12345"), (V{"I", "'M", " ", "123", "45"}));
  EXPECT_EQ(split("llama-bpe", "Hello,world"), (V{"Hello", ",world"}));
  EXPECT_EQ(split("llama-bpe", "a \n\n b"), (V{"a", " \n\n", " b"}));
  EXPECT_EQ(split("llama-bpe", "x!!\n\ny"), (V{"x", "!!\n\n", "y"}));
  EXPECT_EQ(split("llama-bpe", "   "), (V{"   "}));
  EXPECT_EQ(split("qwen2", "12345"), (V{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(split("llama3", "ok"), (V{"ok"}));  // alias
  EXPECT_EQ(split("smaug-bpe", "ok"), (V{"ok"}));
}

TEST(PreTokenizer, Gpt4o) {
  // Case-aware words: upper-case runs stay apart from a following capitalised word only when
  // no lower-case letter follows; contractions stay attached; digits in threes.
  EXPECT_EQ(split("gpt-4o", "Hello World"), (V{"Hello", " World"}));
  EXPECT_EQ(split("gpt-4o", "HTTPServer"), (V{"HTTPServer"}));
  EXPECT_EQ(split("gpt-4o", "ABC def"), (V{"ABC", " def"}));
  EXPECT_EQ(split("gpt-4o", "don't I'M"), (V{"don't", " I'M"}));
  EXPECT_EQ(split("gpt-4o", "123456"), (V{"123", "456"}));
  EXPECT_EQ(split("gpt-4o", "a/b"), (V{"a", "/b"}));
  EXPECT_EQ(split("gpt-4o", " ...\n/x"), (V{" ...\n/", "x"}));
  EXPECT_EQ(split("gpt-4o", "x \n\n y"), (V{"x", " \n\n", " y"}));
  EXPECT_EQ(split("llama4", "ok"), (V{"ok"}));
  // tekken: no contractions, single digits.
  EXPECT_EQ(split("tekken", "don't 123"), (V{"don", "'t", " ", "1", "2", "3"}));
}

TEST(PreTokenizer, MultiStep) {
  // default: punctuation runs first, then gpt-2, then numbers and ASCII digit triples.
  EXPECT_EQ(split("default", "a+=b 1234"), (V{"a", "+=", "b", " ", "123", "4"}));
  EXPECT_EQ(split("starcoder", "x 123"), (V{"x", " ", "1", "2", "3"}));
  EXPECT_EQ(split("falcon", "a`b 12345"), (V{"a", "`", "b", " ", "123", "45"}));
  EXPECT_EQ(split("deepseek-coder", "ab 12\ncd"), (V{"ab", " ", "1", "2", "\n", "cd"}));
  EXPECT_EQ(split("deepseek-llm", "Hi there  "), (V{"Hi", " there", "  "}));
  // The letter class is an explicit list ending ranges at the Kelvin sign (U+212A): '[' is not
  // in it (it was, when the literal had been NFC-normalized into 'K'-U+212D).
  EXPECT_EQ(split("deepseek-llm", "ab[cd"), (V{"ab", "[", "cd"}));
  // U+0800..U+4E00 is in the "CJK" split that follows, so such letters end up apart.
  EXPECT_EQ(split("deepseek-llm", " x\u212A"), (V{" x", "\u212A"}));
}

TEST(PreTokenizer, UnknownNameIsAnError) {
  auto r = pre_tokenizer_for("no-such-pre");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::unsupported_tokenizer);
  EXPECT_NE(r.error().message().find("no-such-pre"), std::string::npos);
}

TEST(PreTokenizer, LongRunsAreLinear) {
  std::string s(2'000'000, ' ');
  s += "x";
  auto v = split("deepseek-llm", s);  // \s+$ must not rescan the run from every position
  EXPECT_EQ(v.size(), 2u);
  auto w = split("gpt-2", std::string(1'000'000, 'a'));
  EXPECT_EQ(w.size(), 1u);
}

}  // namespace
}  // namespace nibble::tok
