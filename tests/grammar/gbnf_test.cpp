// GBNF parser and automaton: syntax, language membership, errors with line:column, and the
// pathological grammars that must be rejected or bounded (never hang).
#include <gtest/gtest.h>

#include <chrono>

#include "test_util.h"

namespace nibble::grammar {
namespace {

using testing::accepts;
using testing::viable_prefix;

std::shared_ptr<const Rules> ok(std::string_view text) {
  auto r = parse_gbnf(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : nullptr;
}

std::string error_of(std::string_view text) {
  auto r = parse_gbnf(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  return r.ok() ? "" : r.error().message();
}

TEST(Gbnf, LiteralsAlternationAndGroups) {
  auto g = ok("root ::= \"ab\" | \"c\" (\"d\" | \"e\")\n");
  EXPECT_TRUE(accepts(g, "ab"));
  EXPECT_TRUE(accepts(g, "cd"));
  EXPECT_TRUE(accepts(g, "ce"));
  EXPECT_FALSE(accepts(g, "c"));
  EXPECT_FALSE(accepts(g, "abx"));
  EXPECT_TRUE(viable_prefix(g, "c"));
  EXPECT_FALSE(viable_prefix(g, "x"));
}

TEST(Gbnf, RepetitionOperators) {
  auto g = ok("root ::= \"a\"* \"b\"+ \"c\"? [0-9]{2,3} \"x\"{2} \"y\"{1,}");
  EXPECT_TRUE(accepts(g, "b12xxy"));
  EXPECT_TRUE(accepts(g, "aaabbc123xxyyy"));
  EXPECT_FALSE(accepts(g, "12xxy"));     // b+ needs one
  EXPECT_FALSE(accepts(g, "b1xxy"));     // {2,3}
  EXPECT_FALSE(accepts(g, "b1234xxy"));  // at most 3 digits
  EXPECT_FALSE(accepts(g, "b12xy"));     // {2}
  EXPECT_FALSE(accepts(g, "b12xx"));     // {1,}
  auto zero = ok("root ::= \"a\"{0} \"b\"{0,2}");
  EXPECT_TRUE(accepts(zero, ""));
  EXPECT_TRUE(accepts(zero, "bb"));
  EXPECT_FALSE(accepts(zero, "a"));
}

TEST(Gbnf, CharacterClassesEscapesAndUnicode) {
  auto g = ok(R"(root ::= [a-cx] [^0-9\n] "\x41\u00e9\U0001F600" [\]\-] "\"\\" . "é")");
  EXPECT_TRUE(accepts(g, "b!Aé😀]\"\\zé"));
  EXPECT_TRUE(accepts(g, "x\u00e9Aé😀-\"\\\xe4\xb8\xad\xc3\xa9"));  // '中' for '.'
  EXPECT_FALSE(accepts(g, "d!Aé😀]\"\\zé"));
  EXPECT_FALSE(accepts(g, "b5Aé😀]\"\\zé"));
  EXPECT_FALSE(accepts(g, "b\nAé😀]\"\\zé"));
  auto cjk = ok("root ::= [一-龥]+");
  EXPECT_TRUE(accepts(cjk, "中文"));
  EXPECT_FALSE(accepts(cjk, "a"));
  EXPECT_TRUE(viable_prefix(cjk, "\xe4"));       // first byte of 中
  EXPECT_FALSE(viable_prefix(cjk, "\xc3"));      // a 2-byte character cannot be in the range
  EXPECT_FALSE(accepts(cjk, "\xe4\xb8"));        // half a character is not complete
  EXPECT_FALSE(viable_prefix(cjk, "\xe4\x41"));  // broken UTF-8
}

TEST(Gbnf, RulesCommentsAndLayout) {
  auto g = ok(R"(
# a comment
root ::= greeting ws name   # trailing comment
  | "bye"
greeting ::= "hi" | "hello"
ws ::= [ \t]+
name ::= [A-Z] [a-z]*
)");
  EXPECT_TRUE(accepts(g, "hello  Bob"));
  EXPECT_TRUE(accepts(g, "bye"));
  EXPECT_FALSE(accepts(g, "hello bob"));
  auto rec = ok("root ::= \"(\" root \")\" | \"x\"");  // recursion that is not left recursion
  EXPECT_TRUE(accepts(rec, "((x))"));
  EXPECT_FALSE(accepts(rec, "((x)"));
}

TEST(Gbnf, ErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("root ::= \"a\"\nfoo ::= [a-\n"),
            "grammar:2:9: unterminated character class (missing ']')");
  EXPECT_EQ(error_of("root ::= \"a\" bar\n"), "grammar:1:14: undefined rule 'bar'");
  EXPECT_EQ(error_of("root ::= \"abc\n"), "grammar:1:10: unterminated string literal");
  EXPECT_EQ(error_of("root ::= (\"a\" | \"b\"\n"), "grammar:2:1: expected ')' to close the '(' at grammar:1:10");
  EXPECT_EQ(error_of("root ::= \"a\"\n  x = \"b\""), "grammar:2:5: unexpected '='");
  EXPECT_EQ(error_of("root ::= \"\\q\""), "grammar:1:11: unknown escape '\\q'");
  EXPECT_EQ(error_of("root ::= [z-a]"), "grammar:1:13: character range end below its start");
  EXPECT_EQ(error_of("root ::= \"a\"{3,1}"), "grammar:1:10: repetition {m,n} with n < m");
  EXPECT_EQ(error_of("root ::= \"a\"\nroot ::= \"b\""), "grammar:2:1: rule 'root' is defined twice");
  EXPECT_EQ(error_of("start ::= \"a\""), "grammar: no rule named 'root' (the root rule)");
  EXPECT_EQ(error_of("root ::= \"\xff\""), "grammar:1:11: invalid UTF-8 in the grammar");
  EXPECT_EQ(error_of("root ::= \"\\ud800\""), "grammar:1:11: not a Unicode scalar value");
  // Columns count characters: 'é' is one column.
  EXPECT_EQ(error_of("root ::= \"é\"?? )"), "grammar:1:16: unexpected ')'");
}

TEST(Gbnf, LeftRecursionIsRejected) {
  EXPECT_NE(error_of("root ::= root \"a\" | \"a\"").find("left-recursive (root -> root)"),
            std::string::npos);
  const std::string indirect = error_of("root ::= a\na ::= b \"x\"\nb ::= c? a | \"y\"\nc ::= \"c\"");
  EXPECT_NE(indirect.find("left-recursive"), std::string::npos) << indirect;
  EXPECT_NE(indirect.find("grammar:2:1"), std::string::npos) << indirect;
  // A repeated part that can match nothing would loop the same way.
  EXPECT_NE(error_of("root ::= (\"a\"?)*").find("left-recursive"), std::string::npos);
}

TEST(Gbnf, HugeRepetitionCountsAreRejected) {
  EXPECT_EQ(error_of("root ::= \"a\"{100000}"),
            "grammar:1:14: repetition count above the limit of 10000");
  EXPECT_EQ(error_of("root ::= \"a\"{99999999999999999999}"),
            "grammar:1:14: repetition count above the limit of 10000");
  // Counts within the limit still bound the total size of the grammar.
  std::string big = "root ::= x{10000}\n";
  for (int i = 0; i < 200; ++i) big += "x" + std::to_string(i) + " ::= \"a\"{0,10000}\n";
  big += "x ::= x0";
  EXPECT_NE(error_of(big).find("grows past"), std::string::npos);
  // Large but legal: fast to build and to match.
  auto g = ok("root ::= [a-z]{0,5000} \"!\"");
  EXPECT_TRUE(accepts(g, std::string(5000, 'q') + "!"));
  EXPECT_FALSE(accepts(g, std::string(5001, 'q') + "!"));
}

TEST(Gbnf, EmptyLanguageIsRejected) {
  EXPECT_NE(error_of("root ::= root \"a\"").find("matches no string"), std::string::npos);
  EXPECT_NE(error_of("root ::= \"(\" root \")\"").find("matches no string"), std::string::npos);
  EXPECT_NE(error_of("root ::= [^\\x00-\\U0010FFFF]").find("matches no string"),
            std::string::npos);
  // Dead alternatives are dropped; the rest still works.
  auto g = ok("root ::= \"x\" | loop\nloop ::= \"(\" loop");
  EXPECT_TRUE(accepts(g, "x"));
  EXPECT_FALSE(viable_prefix(g, "("));
}

TEST(Gbnf, AmbiguityIsBoundedNotHung) {
  // 2^30 ways to start: each level doubles the parse stacks.
  std::string g = "root ::= a0\n";
  for (int i = 0; i < 30; ++i)
    g += "a" + std::to_string(i) + " ::= a" + std::to_string(i + 1) + " \"x\" | a" +
         std::to_string(i + 1) + " \"y\"\n";
  g += "a30 ::= \"z\"\n";
  auto rules = ok(g);
  const auto t0 = std::chrono::steady_clock::now();
  Machine m(rules);
  EXPECT_EQ(m.initial(), kDead);
  ASSERT_TRUE(m.error().has_value());
  EXPECT_NE(m.error()->find("too ambiguous"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // Deep nesting of parentheses is refused, not a stack overflow.
  EXPECT_NE(error_of("root ::= " + std::string(100000, '(')).find("nested deeper"),
            std::string::npos);
}

TEST(Gbnf, CachesAreDroppedAndRebuiltOnLongInputs) {
  // Every prefix is its own state: 25000 of them pass the cache limit, and compaction must
  // keep the walk going exactly.
  auto g = ok("root ::= [a-z]{0,10000} [0-9]{0,10000} [A-Z]{0,10000}");
  Machine m(g);
  int32_t s = m.initial();
  const std::string text = std::string(10000, 'q') + std::string(10000, '7') + std::string(5000, 'Z');
  size_t most = 0;
  for (char c : text) {
    s = m.step(s, static_cast<uint8_t>(c));
    ASSERT_NE(s, kDead);
    most = std::max(most, m.n_states());
    s = m.compact(s);
  }
  EXPECT_TRUE(m.accepting(s));
  EXPECT_EQ(m.distance(s), 0u);
  EXPECT_LE(most, kMaxStates + 1);
  EXPECT_LT(m.n_states(), kMaxStates);  // it was compacted at least once
  EXPECT_EQ(m.step(s, 'a'), kDead);     // letters are over
  EXPECT_NE(m.step(s, 'Z'), kDead);
}

TEST(Gbnf, DistanceIsTheShortestCompletion) {
  auto g = ok("root ::= \"{\" item (\",\" item)* \"}\"\nitem ::= [a-z]+ | \"long-one\"");
  Machine m(g);
  int32_t s = m.initial();
  EXPECT_EQ(m.distance(s), 3u);  // "{a}"
  for (char c : std::string("{abc,"))
    s = m.step(s, static_cast<uint8_t>(c));
  EXPECT_EQ(m.distance(s), 2u);  // "a}"
  auto u = ok("root ::= \"é\" \"x\"");
  Machine mu(u);
  EXPECT_EQ(mu.distance(mu.initial()), 3u);  // two bytes of é and x
  EXPECT_EQ(mu.distance(mu.step(mu.initial(), 0xC3)), 2u);
}

}  // namespace
}  // namespace nibble::grammar
