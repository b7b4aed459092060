// One construct per template, compared byte for byte with @huggingface/jinja's rendering
// (tests/data/chat/snippets.json, made by tools/chat-reference/generate.mjs from snippets.mjs).
// Runs the interpreter directly so each snippet can have its own variables.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "chat/ast.h"
#include "chat/interpreter.h"
#include "tests/chat/json_reader.h"

namespace nibble::chat {
namespace {

TEST(ChatSnippets, RenderLikeHuggingFaceJinja) {
  std::ifstream in(std::string(NIBBLE_SOURCE_DIR) + "/tests/data/chat/snippets.json",
                   std::ios::binary);
  ASSERT_TRUE(in) << "missing tests/data/chat/snippets.json";
  std::stringstream ss;
  ss << in.rdbuf();
  Value all;
  ASSERT_TRUE(test::JsonReader(ss.str()).parse(&all));
  ASSERT_TRUE(all.is_list());
  ASSERT_GE(all.list->size(), 50u);
  for (const auto& c : *all.list) {
    const std::string& src = c.find("template")->s;
    const Value* expected = c.find("expected");
    ASSERT_TRUE(expected && expected->is_string()) << src;
    try {
      auto body = parse(src);
      Interpreter interp(Limits{}, src);
      std::string out = interp.run(body, *c.find("context")->dict);
      EXPECT_EQ(out, expected->s) << "template: " << src;
    } catch (const TemplateFailure& f) {
      ADD_FAILURE() << "template: " << src << "\nfailed: " << f.message;
    }
  }
}

}  // namespace
}  // namespace nibble::chat
