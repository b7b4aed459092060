// Token constraint on a synthetic vocabulary: the trie mask equals a token-by-token check,
// tokens spanning several grammar elements and partial UTF-8 are handled, end of generation
// only where the grammar ends, and budget steering always finishes within the budget.
#include <gtest/gtest.h>

#include <random>

#include "grammar/constraint.h"
#include "grammar/json_schema.h"
#include "test_util.h"

namespace nibble::grammar {
namespace {

using testing::accepts;
using testing::viable_prefix;

struct Vocab {
  std::vector<std::string> pieces;
  std::vector<uint8_t> usable;
  int32_t eog = -1;
};

// Every single byte, some multi-byte pieces crossing element boundaries, UTF-8 split over
// tokens, a special token and an end-of-generation token.
Vocab make_vocab() {
  Vocab v;
  for (int b = 0; b < 256; ++b) v.pieces.push_back(std::string(1, static_cast<char>(b)));
  for (const char* p : {"{\"", "\":", "\"}", "\",\"", "ab", "true", "false", "null", " {", " ",
                        "  ", "12", "3.", "e+", "\xe4\xb8", "\xad\xe6\x96\x87", "é", "中文",
                        "\"color\"", "red", "blue", "\"count\": ", "}\n", "\xf0\x9f"})
    v.pieces.push_back(p);
  v.usable.assign(v.pieces.size(), 1);
  v.pieces.push_back("<special>");
  v.usable.push_back(0);
  v.eog = static_cast<int32_t>(v.pieces.size());
  v.pieces.push_back("</s>");
  v.usable.push_back(1);
  return v;
}

std::shared_ptr<const Rules> rules_of(std::string_view gbnf) {
  auto r = parse_gbnf(gbnf);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  return *r;
}

const char* const kGrammars[] = {
    R"(root ::= "{" ws "\"k\"" ws ":" ws ( "true" | "false" | [0-9]+ ) ws "}"
ws ::= [ ]*)",
    "root ::= [一-龥]+ \"!\"",
    "root ::= ( [a-c] | \"ab\" \"12\" )* \"}\"",
};

TEST(Constraint, MaskEqualsTokenByTokenCheckAlongRandomWalks) {
  const Vocab v = make_vocab();
  auto trie = VocabTrie::build(v.pieces, v.usable, {v.eog}, false);
  std::mt19937 rng(7);
  for (const char* text : kGrammars) {
    auto rules = rules_of(text);
    for (int walk = 0; walk < 20; ++walk) {
      Constraint c(rules, trie);
      ASSERT_TRUE(c.reset().ok());
      std::string so_far;
      for (int step = 0; step < 12; ++step) {
        std::vector<uint8_t> mask;
        auto n = c.fill_mask(&mask, -1);
        ASSERT_TRUE(n.ok());
        std::vector<int32_t> allowed;
        for (int32_t t = 0; t < trie->n_vocab; ++t) {
          ASSERT_EQ(mask[t] != 0, c.allows(t, -1)) << "token " << t << " after '" << so_far << "'";
          const bool expect = t == v.eog ? accepts(rules, so_far)
                              : v.usable[t] ? viable_prefix(rules, so_far + v.pieces[t])
                                            : false;
          ASSERT_EQ(mask[t] != 0, expect) << "token " << t << " after '" << so_far << "'";
          if (mask[t]) allowed.push_back(t);
        }
        ASSERT_EQ(*n, allowed.size());
        ASSERT_FALSE(allowed.empty()) << "stuck after '" << so_far << "'";
        const int32_t t = allowed[rng() % allowed.size()];
        if (t == v.eog) break;
        ASSERT_TRUE(c.accept(t).ok());
        so_far += v.pieces[t];
        EXPECT_EQ(c.accepting(), accepts(rules, so_far));
      }
    }
  }
}

TEST(Constraint, RefusesWhatTheGrammarDoesNot) {
  const Vocab v = make_vocab();
  auto trie = VocabTrie::build(v.pieces, v.usable, {v.eog}, false);
  Constraint c(rules_of("root ::= \"ab\""), trie);
  ASSERT_TRUE(c.reset().ok());
  EXPECT_FALSE(c.allows(v.eog, -1));                   // cannot end yet
  EXPECT_FALSE(c.allows(v.eog - 1, -1));               // special token
  EXPECT_FALSE(c.allows(-1, -1));
  EXPECT_FALSE(c.accept('b').ok());
  ASSERT_TRUE(c.accept('a').ok());
  ASSERT_TRUE(c.accept('b').ok());
  EXPECT_TRUE(c.complete());
  EXPECT_TRUE(c.allows(v.eog, -1));
  EXPECT_FALSE(c.allows('b', -1));
}

TEST(Constraint, LeadingSpaceOfTheFirstPieceIsDropped) {
  const Vocab v = make_vocab();
  auto trie = VocabTrie::build(v.pieces, v.usable, {v.eog}, true);
  Constraint c(rules_of("root ::= \"{\" \" \"? \"}\""), trie);
  ASSERT_TRUE(c.reset(true).ok());
  const int32_t brace = static_cast<int32_t>(
      std::find(v.pieces.begin(), v.pieces.end(), " {") - v.pieces.begin());
  EXPECT_TRUE(c.allows(brace, -1));  // " {" decodes to "{" at the start
  EXPECT_FALSE(c.allows(' ', -1));   // " " alone would add nothing
  std::vector<uint8_t> mask;
  ASSERT_TRUE(c.fill_mask(&mask, -1).ok());
  EXPECT_TRUE(mask[brace]);
  EXPECT_TRUE(mask['{']);
  EXPECT_FALSE(mask[' ']);
  ASSERT_TRUE(c.accept(brace).ok());
  EXPECT_TRUE(c.allows(' ', -1));  // later pieces keep their space
}

TEST(Constraint, BudgetSteeringFinishesWithinTheBudget) {
  const Vocab v = make_vocab();
  auto trie = VocabTrie::build(v.pieces, v.usable, {v.eog}, false);
  auto gbnf = json_schema_to_gbnf(R"({"type":"object","properties":{
      "color":{"enum":["red","blue"]},"count":{"type":"integer"},
      "tags":{"type":"array","items":{"type":"string"}}},
      "required":["color","count"],"additionalProperties":false})");
  ASSERT_TRUE(gbnf.ok());
  auto rules = rules_of(*gbnf);
  std::mt19937 rng(11);
  for (int budget : {25, 26, 30, 40, 64}) {
    for (int run = 0; run < 30; ++run) {
      Constraint c(rules, trie);
      ASSERT_TRUE(c.reset().ok());
      ASSERT_LE(c.distance(), static_cast<uint32_t>(budget));
      std::string text;
      int used = 0;
      while (used < budget && !c.complete()) {
        std::vector<uint8_t> mask;
        ASSERT_TRUE(c.fill_mask(&mask, budget - used).ok());
        std::vector<int32_t> allowed;
        for (int32_t t = 0; t < trie->n_vocab; ++t) {
          // The mask (possibly from the per-state cache) agrees with the direct check.
          ASSERT_EQ(mask[t] != 0, c.allows(t, budget - used)) << "token " << t << ": " << text;
          if (mask[t]) allowed.push_back(t);
        }
        ASSERT_FALSE(allowed.empty()) << "budget " << budget << " used " << used << ": " << text;
        const int32_t t = allowed[rng() % allowed.size()];  // the worst sampler: uniform
        if (t == v.eog) break;
        ASSERT_TRUE(c.accept(t).ok());
        text += v.pieces[t];
        ++used;
        ASSERT_LE(c.distance(), static_cast<uint32_t>(budget - used)) << text;
      }
      EXPECT_TRUE(accepts(rules, text)) << "budget " << budget << ": " << text;
    }
  }
}

}  // namespace
}  // namespace nibble::grammar
