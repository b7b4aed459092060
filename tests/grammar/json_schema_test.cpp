// JSON Schema -> grammar: the documented subset accepts exactly the documents it should, and
// everything outside it is a clear error naming the keyword and its place.
#include <gtest/gtest.h>

#include "grammar/json_schema.h"
#include "nibble/grammar.h"
#include "test_util.h"

namespace nibble::grammar {
namespace {

using testing::accepts;

std::shared_ptr<const Rules> schema(std::string_view s) {
  auto gbnf = json_schema_to_gbnf(s);
  EXPECT_TRUE(gbnf.ok()) << (gbnf.ok() ? "" : gbnf.error().message());
  if (!gbnf.ok()) return nullptr;
  auto rules = parse_gbnf(*gbnf);
  EXPECT_TRUE(rules.ok()) << (rules.ok() ? "" : rules.error().message()) << "\n" << *gbnf;
  return rules.ok() ? *rules : nullptr;
}

std::string error_of(std::string_view s) {
  auto g = Grammar::from_json_schema(s);
  EXPECT_FALSE(g.ok()) << "accepted: " << s;
  return g.ok() ? "" : g.error().message();
}

TEST(JsonSchema, ObjectWithRequiredAndOptionalProperties) {
  auto g = schema(R"({"type":"object","properties":{
      "a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},
      "required":["b"],"additionalProperties":false})");
  ASSERT_TRUE(g);
  EXPECT_TRUE(accepts(g, R"({"b":"x"})"));
  EXPECT_TRUE(accepts(g, R"({"a":1,"b":"x"})"));
  EXPECT_TRUE(accepts(g, R"({ "a": -12, "b": "x\"y", "c": true })"));
  EXPECT_TRUE(accepts(g, R"({"b":"","c":false})"));
  EXPECT_FALSE(accepts(g, R"({"a":1})"));              // b required
  EXPECT_FALSE(accepts(g, R"({"b":"x","d":1})"));      // no other properties
  EXPECT_FALSE(accepts(g, R"({"b":"x",})"));           // no trailing comma
  EXPECT_FALSE(accepts(g, R"({"a":1.5,"b":"x"})"));    // integer
  EXPECT_FALSE(accepts(g, R"({,"b":"x"})"));
  auto all_optional = schema(R"({"properties":{"a":{"type":"null"},"b":{"type":"number"}}})");
  EXPECT_TRUE(accepts(all_optional, "{}"));
  EXPECT_TRUE(accepts(all_optional, R"({"b":1.5e3})"));
  EXPECT_TRUE(accepts(all_optional, R"({"a":null,"b":-0.25})"));
  EXPECT_FALSE(accepts(all_optional, R"({"b":1,"a":null})"));  // schema order
}

TEST(JsonSchema, EnumConstAnyOfTypeLists) {
  auto g = schema(R"({"anyOf":[{"enum":["red","blue",3,null]},{"const":{"k":[1,2]}},
                              {"type":["boolean","null"]}]})");
  for (const char* yes : {R"("red")", R"("blue")", "3", "null", R"({"k":[1,2]})", "true"})
    EXPECT_TRUE(accepts(g, yes)) << yes;
  for (const char* no : {R"("green")", "4", R"({"k":[1]})", R"("true")"})
    EXPECT_FALSE(accepts(g, no)) << no;
  auto typed_enum = schema(R"({"type":"string","enum":["a",1,null,"b"]})");
  EXPECT_TRUE(accepts(typed_enum, R"("b")"));
  EXPECT_FALSE(accepts(typed_enum, "1"));  // would not validate against the type
  EXPECT_FALSE(accepts(typed_enum, "null"));
  auto one = schema(R"({"oneOf":[{"type":"integer"},{"type":"string","maxLength":2}]})");
  EXPECT_TRUE(accepts(one, "7"));
  EXPECT_TRUE(accepts(one, R"("ab")"));
  EXPECT_FALSE(accepts(one, R"("abc")"));
}

TEST(JsonSchema, ArraysWithItemCounts) {
  auto g = schema(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})");
  EXPECT_TRUE(accepts(g, "[1]"));
  EXPECT_TRUE(accepts(g, "[1, 2 ,3]"));
  EXPECT_FALSE(accepts(g, "[]"));
  EXPECT_FALSE(accepts(g, "[1,2,3,4]"));
  EXPECT_FALSE(accepts(g, R"([1,"a"])"));
  auto any = schema(R"({"type":"array"})");
  EXPECT_TRUE(accepts(any, R"([])"));
  EXPECT_TRUE(accepts(any, R"([1,"a",{"x":[null]}])"));
  auto none = schema(R"({"type":"array","maxItems":0})");
  EXPECT_TRUE(accepts(none, "[]"));
  EXPECT_FALSE(accepts(none, "[1]"));
}

TEST(JsonSchema, StringsLengthsAndPatterns) {
  auto len = schema(R"({"type":"string","minLength":2,"maxLength":3})");
  EXPECT_TRUE(accepts(len, R"("ab")"));
  EXPECT_TRUE(accepts(len, R"("a\nb")"));  // an escape is one character
  EXPECT_TRUE(accepts(len, R"("日本語")"));
  EXPECT_FALSE(accepts(len, R"("a")"));
  EXPECT_FALSE(accepts(len, R"("abcd")"));
  auto pat = schema(R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3}(x|yz)?$"})");
  EXPECT_TRUE(accepts(pat, R"("AB-123")"));
  EXPECT_TRUE(accepts(pat, R"("QQ-000yz")"));
  EXPECT_FALSE(accepts(pat, R"("AB-12")"));
  EXPECT_FALSE(accepts(pat, R"("ab-123")"));
  auto quote = schema(R"({"type":"string","pattern":"a\"b\\\\c.[^a-z]"})");
  EXPECT_TRUE(accepts(quote, R"("a\"b\\c!Z")"));
  EXPECT_FALSE(accepts(quote, R"("a\"b\\c"z")"));  // '.' never yields an unescaped quote
}

TEST(JsonSchema, RefsToDefsIncludingRecursion) {
  auto g = schema(R"({"$defs":{"node":{"type":"object","properties":{
      "v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},
      "required":["v"]}},"$ref":"#/$defs/node"})");
  EXPECT_TRUE(accepts(g, R"({"v":1})"));
  EXPECT_TRUE(accepts(g, R"({"v":1,"kids":[{"v":2,"kids":[]},{"v":3}]})"));
  EXPECT_FALSE(accepts(g, R"({"v":1,"kids":[{}]})"));
  auto legacy = schema(R"({"definitions":{"n":{"type":"null"}},"items":{"$ref":"#/definitions/n"}})");
  EXPECT_TRUE(accepts(legacy, "[null,null]"));
}

TEST(JsonSchema, AnyJsonObject) {
  auto g = parse_gbnf(json_object_gbnf());
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(accepts(*g, R"({"a":[1,2.5e-3,{"b":null}],"c":"\u00e9"})"));
  EXPECT_TRUE(accepts(*g, "{}"));
  EXPECT_FALSE(accepts(*g, "[]"));
  EXPECT_FALSE(accepts(*g, R"({"a":01})"));
  EXPECT_FALSE(accepts(*g, R"({'a':1})"));
  // \u escapes never name a surrogate (parsers refuse lone ones; other characters go as UTF-8).
  EXPECT_TRUE(accepts(*g, R"({"a":"\u00e9\uFFFD\ud7ff"})"));
  EXPECT_FALSE(accepts(*g, R"({"a":"\ud800"})"));
  EXPECT_FALSE(accepts(*g, R"({"a":"\uDC00"})"));
}

TEST(JsonSchema, UnsupportedIsAClearError) {
  EXPECT_EQ(error_of(R"({"type":"integer","minimum":3})"),
            "JSON Schema /: unsupported keyword 'minimum' (docs/grammar.md lists the subset)");
  EXPECT_EQ(error_of(R"({"properties":{"a":{"type":"string","format":"date"}}})"),
            "JSON Schema /properties/a: unsupported keyword 'format' (docs/grammar.md lists the "
            "subset)");
  EXPECT_EQ(error_of(R"({"$ref":"https://example.com/s.json"})"),
            "JSON Schema /: $ref 'https://example.com/s.json' does not name a local "
            "$defs/definitions entry");
  EXPECT_EQ(error_of(R"({"type":"strin"})"), "JSON Schema /: unknown type 'strin'");
  EXPECT_EQ(error_of(R"({"type":"object","required":["x"],"properties":{}})"),
            "JSON Schema /: required property 'x' is not in properties");
  EXPECT_EQ(error_of("{not json"), "JSON Schema: not valid JSON");
  EXPECT_EQ(error_of(R"({"type":"integer","const":"x"})"),
            "JSON Schema /: const does not have the schema's type");
  EXPECT_EQ(error_of(R"({"type":"object","required":["a"]})"),
            "JSON Schema /: required without properties is not supported (list them in "
            "properties)");
  EXPECT_EQ(error_of("false"), "JSON Schema /: the schema 'false' matches nothing");
  EXPECT_EQ(error_of(R"({"type":"string","maxLength":1000000})"),
            "JSON Schema /: maxLength above the supported limit of 10000");
  EXPECT_NE(error_of(R"({"type":"string","pattern":"(?=a)b"})").find("lookaround"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"string","pattern":"a\\1"})").find("unsupported escape '\\1'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"properties":{"a":{}},"additionalProperties":true})")
                .find("additionalProperties other than false"),
            std::string::npos);
  std::string deep = "{}";
  for (int i = 0; i < 200; ++i) deep = R"({"items":)" + deep + "}";
  EXPECT_NE(error_of(deep).find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace nibble::grammar
