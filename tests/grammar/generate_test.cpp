// Property tests on real and random-weight models: whatever the seed and temperature, text
// generated under a JSON Schema parses and validates, text under a GBNF grammar is in its
// language, and budget steering ends the document within max_tokens.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "api/impl.h"
#include "nibble/nibble.h"
#include "test_util.h"

namespace nibble {
namespace {

using Json = nlohmann::json;

std::string fixture(const std::string& name) {
  return std::string(NIBBLE_SHARED_DIR) + "/fixtures/" + name;
}

// A validator for the schema subset the tests use (types, properties, required,
// additionalProperties:false, enum, const, items, minItems/maxItems, anyOf, lengths).
bool valid(const Json& v, const Json& s, std::string* why) {
  auto no = [&](const std::string& w) {
    *why = w + " at " + v.dump();
    return false;
  };
  if (s.contains("const") && v != s["const"]) return no("const");
  if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end())
    return no("enum");
  if (s.contains("anyOf")) {
    for (const Json& alt : s["anyOf"])
      if (valid(v, alt, why)) return true;
    return no("anyOf");
  }
  if (s.contains("type")) {
    const std::string t = s["type"];
    const bool ok = (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
                    (t == "string" && v.is_string()) || (t == "number" && v.is_number()) ||
                    (t == "integer" && v.is_number_integer()) ||
                    (t == "boolean" && v.is_boolean()) || (t == "null" && v.is_null());
    if (!ok) return no("type " + t);
  }
  if (v.is_object() && s.contains("properties")) {
    for (const auto& r : s.value("required", Json::array()))
      if (!v.contains(r.get<std::string>())) return no("required " + r.get<std::string>());
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!s["properties"].contains(it.key())) return no("extra property " + it.key());
      if (!valid(it.value(), s["properties"][it.key()], why)) return false;
    }
  }
  if (v.is_array()) {
    if (v.size() < s.value("minItems", 0u) || v.size() > s.value("maxItems", 1000000u))
      return no("item count");
    if (s.contains("items"))
      for (const Json& x : v)
        if (!valid(x, s["items"], why)) return false;
  }
  if (v.is_string()) {
    // Lengths in code points.
    size_t n = 0;
    for (unsigned char c : v.get<std::string>()) n += (c & 0xC0) != 0x80;
    if (n < s.value("minLength", 0u) || n > s.value("maxLength", 1000000u)) return no("length");
  }
  return true;
}

const char* const kColorSchema = R"({"type":"object","properties":{
    "color":{"enum":["red","blue"]},"count":{"type":"integer"}},
    "required":["color","count"],"additionalProperties":false})";

const char* const kRichSchema = R"({"type":"object","properties":{
    "name":{"type":"string","minLength":1,"maxLength":12},
    "age":{"type":"integer"},
    "ok":{"type":"boolean"},
    "tags":{"type":"array","items":{"type":"string","maxLength":5},"maxItems":3},
    "kind":{"anyOf":[{"type":"null"},{"const":"x"},{"type":"number"}]}},
    "required":["name","tags"],"additionalProperties":false})";

struct Case {
  const char* model;
  int seeds;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.model; }

class GrammarGenerate : public ::testing::TestWithParam<Case> {};

TEST_P(GrammarGenerate, SchemaOutputsAlwaysValidate) {
  auto model = Model::load(fixture(GetParam().model));
  ASSERT_TRUE(model.ok()) << model.error().to_string();
  for (const char* text : {kColorSchema, kRichSchema}) {
    const Json schema = Json::parse(text);
    auto grammar = Grammar::from_json_schema(text);
    ASSERT_TRUE(grammar.ok()) << grammar.error().message();
    for (int seed = 0; seed < GetParam().seeds; ++seed) {
      SessionOptions so;
      so.n_ctx = 256;
      so.n_threads = 1;
      so.sampling.seed = static_cast<uint64_t>(seed);
      so.sampling.temperature = 0.5f + 0.5f * static_cast<float>(seed % 5);  // 0.5 .. 2.5
      so.sampling.top_k = seed % 3 == 0 ? 0 : 40;  // 0: the whole-mask path
      so.sampling.top_p = seed % 2 ? 1.0f : 0.95f;
      auto session = Session::create(*model, so);
      ASSERT_TRUE(session.ok());
      GenerateOptions g;
      g.max_tokens = 64 + 16 * (seed % 3);
      g.grammar = *grammar;
      auto out = session->complete("Once upon a time", g);
      ASSERT_TRUE(out.ok()) << out.error().to_string();
      EXPECT_LE(session->stats().generated_tokens, g.max_tokens);
      // Complete documents: the grammar (or the end token where it may end) stopped it.
      EXPECT_EQ(session->stats().stop_reason, StopReason::end_of_generation) << *out;
      const Json doc = Json::parse(*out, nullptr, false);
      ASSERT_FALSE(doc.is_discarded()) << GetParam().model << " seed " << seed << ": " << *out;
      std::string why;
      EXPECT_TRUE(valid(doc, schema, &why)) << *out << ": " << why;
    }
  }
}

TEST_P(GrammarGenerate, GbnfOutputsAreInTheLanguage) {
  auto model = Model::load(fixture(GetParam().model));
  ASSERT_TRUE(model.ok());
  const char* text = R"g(root ::= expr "=" [0-9]{1,3}
expr ::= term (("+" | "-") term)*
term ::= [0-9]+ | "(" expr ")" | "x" | "é" | "中")g";
  auto gram = Grammar::parse(text);
  ASSERT_TRUE(gram.ok()) << gram.error().message();
  for (int seed = 0; seed < GetParam().seeds; ++seed) {
    SessionOptions so;
    so.n_ctx = 256;
    so.n_threads = 1;
    so.sampling.seed = static_cast<uint64_t>(seed) + 100;
    so.sampling.temperature = 1.5f;
    auto session = Session::create(*model, so);
    ASSERT_TRUE(session.ok());
    GenerateOptions g;
    g.max_tokens = 40;
    g.grammar = *gram;
    auto out = session->complete("Once upon a time", g);
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_TRUE(grammar::testing::accepts(gram->impl()->rules, *out)) << *out;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GrammarGenerate,
                         ::testing::Values(Case{"stories260K-f32.gguf", 24},
                                           Case{"llama-f32.gguf", 12},
                                           Case{"qwen2-Q8_0.gguf", 8},
                                           Case{"phi3-Q8_0.gguf", 6}),
                         [](const auto& info) {
                           std::string n = info.param.model;
                           n = n.substr(0, n.find('.'));
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(GrammarGenerateApi, JsonObjectModeAndMatcher) {
  auto model = Model::load(fixture("stories260K-f32.gguf"));
  ASSERT_TRUE(model.ok());
  auto session = Session::create(*model);
  ASSERT_TRUE(session.ok());
  GenerateOptions g;
  g.max_tokens = 48;
  g.grammar = Grammar::json_object();
  auto out = session->complete("Once upon a time", g);
  ASSERT_TRUE(out.ok());
  const Json doc = Json::parse(*out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << *out;
  EXPECT_TRUE(doc.is_object());

  // Token level: mask, sample greedily, accept, until complete.
  auto grammar = Grammar::parse("root ::= \"yes\" | \"no\"");
  ASSERT_TRUE(grammar.ok());
  auto matcher = GrammarMatcher::create(*grammar, *model);
  ASSERT_TRUE(matcher.ok());
  ASSERT_TRUE(session->eval(*session->tokenize("Is it")).ok());
  std::string text;
  for (int i = 0; i < 8 && !matcher->is_complete(); ++i) {
    std::vector<float> logits(session->logits().begin(), session->logits().end());
    ASSERT_TRUE(matcher->apply(logits, 8 - i).ok());
    const auto best = static_cast<Token>(std::max_element(logits.begin(), logits.end()) -
                                         logits.begin());
    ASSERT_TRUE(matcher->allows(best));
    ASSERT_TRUE(matcher->accept(best).ok());
    text += model->tokenizer()->token_to_piece(best);
    const Token one[1] = {best};
    ASSERT_TRUE(session->eval(one).ok());
  }
  EXPECT_TRUE(matcher->is_complete());
  EXPECT_TRUE(text == "yes" || text == "no") << text;
  EncodeOptions raw;
  raw.add_special = false;
  auto after = model->tokenizer()->encode("a", raw);
  ASSERT_TRUE(after.ok() && !after->empty());
  EXPECT_FALSE(matcher->allows(after->front()));
  EXPECT_FALSE(matcher->accept(after->front()).ok());
}

}  // namespace
}  // namespace nibble
