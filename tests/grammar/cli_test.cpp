// `nibble generate --json-schema/--grammar-file/--json` as a user runs it: the command of the
// grammar issue prints exactly one JSON document that validates, for any seed and temperature.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"

namespace nibble {
namespace {

using Json = nlohmann::json;

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = test::temp_path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

test::CliRun generate(const std::string& args) {
  return test::run_cli(NIBBLE_CLI_PATH, "generate",
                       "-m '" + test::shared_path("fixtures/stories260K-f32.gguf") +
                           "' -p 'Once upon a time' --quiet " + args);
}

TEST(GrammarCli, SchemaDocumentWithinTheBudgetForAnySeedAndTemperature) {
  const std::string schema = write_temp("color.json", R"({"type":"object","properties":{
      "color":{"enum":["red","blue"]},"count":{"type":"integer"}},
      "required":["color","count"],"additionalProperties":false})");
  const char* temps[] = {"0", "0.7", "1.5", "4"};
  for (int seed = 0; seed < 12; ++seed) {
    for (int n : {64, 25}) {  // 25 bytes is the shortest document
      const std::string extra = seed % 2 ? " --top-k 0 --top-p 1 --min-p 0" : "";
      auto r = generate("--json-schema '" + schema + "' -n " + std::to_string(n) + " --seed " +
                        std::to_string(seed) + " --temp " + temps[seed % 4] + extra);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ASSERT_FALSE(r.out.empty());
      EXPECT_EQ(r.out.back(), '\n');
      const Json doc = Json::parse(r.out, nullptr, false);  // one document, nothing else
      ASSERT_FALSE(doc.is_discarded()) << "seed " << seed << " -n " << n << ": " << r.out;
      ASSERT_TRUE(doc.is_object()) << r.out;
      EXPECT_EQ(doc.size(), 2u) << r.out;
      ASSERT_TRUE(doc.contains("color") && doc.contains("count")) << r.out;
      EXPECT_TRUE(doc["color"] == "red" || doc["color"] == "blue") << r.out;
      EXPECT_TRUE(doc["count"].is_number_integer()) << r.out;
    }
  }
}

TEST(GrammarCli, GrammarFileJsonAndErrors) {
  const std::string gbnf = write_temp("answer.gbnf", "root ::= \"The answer is \" (\"yes\" | \"no\") \".\"\n");
  auto r = generate("--grammar-file '" + gbnf + "' -n 20 --temp 1.5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == "The answer is yes.\n" || r.out == "The answer is no.\n") << r.out;
  r = generate("--json -n 48 --seed 5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Json::parse(r.out, nullptr, false).is_object()) << r.out;

  const std::string bad = write_temp("bad.gbnf", "root ::= \"a\" [b-\n");
  r = generate("--grammar-file '" + bad + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("grammar:1:14: unterminated character class"), std::string::npos) << r.err;
  const std::string unsupported = write_temp("bad.json", R"({"type":"integer","minimum":1})");
  r = generate("--json-schema '" + unsupported + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unsupported keyword 'minimum'"), std::string::npos) << r.err;
  r = generate("--json --grammar-file '" + gbnf + "'");
  EXPECT_EQ(r.exit_code, 2);
  r = generate("--json-schema /nonexistent.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot read /nonexistent.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nibble
