// Real vocabularies from ../shared/vocab: every line of each .gguf.inp/.gguf.out pair (the
// Hugging Face tokenizers' output, no BOS, special tokens not parsed) reproduced exactly, plus
// loading, special tokens and flags of every vocabulary.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "nibble/tokenizer.h"
#include "tests/common/shared_data.h"

namespace nibble {
namespace {

std::shared_ptr<const Tokenizer> load_vocab(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  auto r = Tokenizer::load(test::shared_path("vocab/ggml-vocab-" + name + ".gguf"));
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().to_string());
  if (!r.ok()) return nullptr;
  cache[name] = *r;
  return *r;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The .inp format: test strings separated by "\n__ggml_vocab_test__\n".
std::vector<std::string> read_inputs(const std::string& path) {
  std::string all = read_file(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  for (size_t q; (q = all.find(sep, pos)) != std::string::npos; pos = q + sep.size())
    out.push_back(all.substr(pos, q - pos));
  if (pos < all.size()) out.push_back(all.substr(pos));
  return out;
}

std::vector<std::vector<Token>> read_outputs(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::vector<Token>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<Token> ids;
    for (Token id; ls >> id;) ids.push_back(id);
    out.push_back(std::move(ids));
  }
  return out;
}

std::string show(const std::vector<Token>& ids) {
  std::string s;
  for (Token id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, EveryLineMatchesTheReference) {
  const std::string name = GetParam();
  auto tok = load_vocab(name);
  ASSERT_TRUE(tok);
  const std::string base = "vocab/ggml-vocab-" + name + ".gguf";
  auto inputs = read_inputs(test::shared_path(base + ".inp"));
  auto expected = read_outputs(test::shared_path(base + ".out"));
  ASSERT_FALSE(inputs.empty());
  ASSERT_EQ(inputs.size(), expected.size()) << "inp/out line counts differ";
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto got = tok->encode(inputs[i], {.add_special = false, .parse_special = false});
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    if (*got != expected[i]) {
      ++failures;
      ADD_FAILURE() << name << " line " << i << ": '" << inputs[i]
                    << "'\n  expected: " << show(expected[i]) << "\n  got:      " << show(*got);
    }
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Vocab, Conformance,
                         ::testing::Values("llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2",
                                           "falcon", "starcoder", "deepseek-coder"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(VocabLoad, EveryVocabularyLoadsWithItsKind) {
  struct Case {
    const char* name;
    TokenizerKind kind;
    const char* pre;
  };
  for (auto c :
       std::initializer_list<Case>{{"llama-spm", TokenizerKind::spm, ""},
                                   {"phi-3", TokenizerKind::spm, ""},
                                   {"baichuan", TokenizerKind::spm, ""},
                                   {"llama-bpe", TokenizerKind::bpe, "llama-bpe"},
                                   {"qwen2", TokenizerKind::bpe, "qwen2"},
                                   {"gpt-2", TokenizerKind::bpe, "gpt-2"},
                                   {"falcon", TokenizerKind::bpe, "falcon"},
                                   {"starcoder", TokenizerKind::bpe, "starcoder"},
                                   {"deepseek-coder", TokenizerKind::bpe, "deepseek-coder"},
                                   {"deepseek-llm", TokenizerKind::bpe, "deepseek-llm"},
                                   {"mpt", TokenizerKind::bpe, "mpt"},
                                   {"refact", TokenizerKind::bpe, "refact"},
                                   {"gpt-neox", TokenizerKind::bpe, "default"}}) {
    auto t = load_vocab(c.name);
    ASSERT_TRUE(t) << c.name;
    EXPECT_EQ(t->kind(), c.kind) << c.name;
    EXPECT_EQ(t->pre_tokenizer(), c.pre) << c.name;
    EXPECT_GT(t->n_vocab(), 1000) << c.name;
    auto ids = t->encode("Hello world", {.add_special = false});
    ASSERT_TRUE(ids.ok());
    EXPECT_FALSE(ids->empty());
    EXPECT_EQ(t->decode(*ids), "Hello world") << c.name;
  }
}

TEST(VocabLoad, SpecialTokensAndFlags) {
  auto l3 = load_vocab("llama-bpe");
  ASSERT_TRUE(l3);
  EXPECT_EQ(l3->bos(), 128000);
  EXPECT_EQ(l3->eos(), 128001);
  EXPECT_TRUE(l3->add_bos());
  EXPECT_EQ(l3->eot(), 128009);  // <|eot_id|>, found by text
  EXPECT_TRUE(l3->is_end_of_generation(128009));
  EXPECT_TRUE(l3->is_end_of_generation(128001));
  EXPECT_FALSE(l3->is_end_of_generation(128006));
  EXPECT_NE(l3->chat_template().find("start_header_id"), std::string_view::npos);
  auto with = l3->encode("<|start_header_id|>user<|end_header_id|>",
                         {.add_special = true, .parse_special = true});
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(*with, (std::vector<Token>{128000, 128006, *l3->token_id("user"), 128007}));
  auto without = l3->encode("<|start_header_id|>", {.add_special = false});
  ASSERT_TRUE(without.ok());
  EXPECT_GT(without->size(), 1u);
  EXPECT_EQ(l3->decode(*with, true), "user");
  EXPECT_EQ(l3->decode(*with, false), "<|begin_of_text|><|start_header_id|>user<|end_header_id|>");

  auto qw = load_vocab("qwen2");
  ASSERT_TRUE(qw);
  EXPECT_FALSE(qw->add_bos());
  EXPECT_EQ(qw->eos(), 151645);
  EXPECT_EQ(qw->pad(), 151643);
  EXPECT_TRUE(qw->is_end_of_generation(151645));  // <|im_end|>
  EXPECT_TRUE(qw->is_end_of_generation(151643));  // <|endoftext|>
  auto chat = qw->encode("<|im_start|>user\nHi<|im_end|>", {.parse_special = true});
  ASSERT_TRUE(chat.ok());
  ASSERT_GE(chat->size(), 4u);
  EXPECT_EQ(chat->front(), 151644);
  EXPECT_EQ(chat->back(), 151645);

  auto phi = load_vocab("phi-3");
  ASSERT_TRUE(phi);
  EXPECT_TRUE(phi->is_end_of_generation(*phi->token_id("<|end|>")));
  EXPECT_TRUE(phi->is_end_of_generation(32000));
  // Phi-3's special tokens swallow the whitespace after them (rstrip), as its tokenizer does.
  auto turn = phi->encode("<|user|>\nHello<|end|>\n<|assistant|>\n",
                          {.add_special = true, .parse_special = true});
  ASSERT_TRUE(turn.ok());
  EXPECT_EQ(*turn,
            (std::vector<Token>{1, 32010, *phi->token_id("\xE2\x96\x81Hello"), 32007, 32001}));
  auto spm = load_vocab("llama-spm");
  ASSERT_TRUE(spm);
  EXPECT_EQ(spm->bos(), 1);
  EXPECT_TRUE(spm->add_bos());
  auto ids = spm->encode("Hello", {.add_special = true});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->front(), 1);
  EXPECT_EQ(spm->decode(*ids, true), "Hello");
  // Literal "<s>" in text is text, not BOS, unless special tokens are parsed.
  auto lit = spm->encode("<s>", {.add_special = false});
  ASSERT_TRUE(lit.ok());
  EXPECT_EQ(std::count(lit->begin(), lit->end(), 1), 0);
  auto parsed = spm->encode("<s>", {.add_special = false, .parse_special = true});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, (std::vector<Token>{1}));
}

TEST(StreamDecoderReal, EmojiAndCjkThroughByteFallback) {
  auto spm = load_vocab("llama-spm");
  ASSERT_TRUE(spm);
  const std::string text =
      "Hi \xF0\x9F\xA6\x99 \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD!";
  for (const char* name : {"llama-spm", "llama-bpe", "qwen2", "phi-3"}) {
    auto t = load_vocab(name);
    ASSERT_TRUE(t);
    auto ids = t->encode(text, {.add_special = true});
    ASSERT_TRUE(ids.ok());
    StreamDecoder sd(t, /*skip_special=*/true);
    std::string out;
    for (Token id : *ids) {
      std::string c = sd.push(id);
      // Every chunk is whole characters: a prefix of the text that ends on a boundary.
      out += c;
      EXPECT_EQ(text.compare(0, out.size(), out), 0) << name;
    }
    out += sd.flush();
    EXPECT_EQ(out, text) << name;
  }
}

}  // namespace
}  // namespace nibble
