// Runs the built `nibble logits`: its JSON parses, matches an in-process evaluation, and bad
// input gives a message and a non-zero exit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "graph/context.h"
#include "model/loader.h"
#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"
#include "tests/model/mini_json.h"

namespace nibble {
namespace {

using test::CliRun;

CliRun run_logits(const std::string& args) {
  return test::run_cli(NIBBLE_CLI_PATH, "logits", args);
}

TEST(LogitsCli, MatchesInProcessEvaluation) {
  const std::string model = test::shared_path("fixtures/stories260K-f32.gguf");
  CliRun r = run_logits("-m '" + model + "' --tokens 1,403,407,261,378 --top 5 --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  test::Json doc;
  ASSERT_TRUE(test::JsonReader(r.out).parse(&doc)) << r.out;
  EXPECT_EQ(doc["n_vocab"].num, 512);
  ASSERT_EQ(doc["positions"].size(), 5u);

  model::LoadOptions lo;
  lo.load_tokenizer = false;
  auto m = model::load_model(model, lo);
  ASSERT_TRUE(m.ok());
  graph::ContextOptions co;
  co.n_ctx = 5;
  auto c = graph::create_context(*m, co);
  ASSERT_TRUE(c.ok());
  std::vector<Token> toks{1, 403, 407, 261, 378};
  ASSERT_TRUE((*c)->eval(toks, true).ok());
  for (size_t p = 0; p < 5; ++p) {
    const auto& top = doc["positions"][p];
    ASSERT_EQ(top.size(), 5u);
    auto lg = (*c)->logits(static_cast<int>(p));
    for (size_t i = 0; i < 5; ++i) {
      const int id = static_cast<int>(top[i][0].num);
      EXPECT_NEAR(lg[id], top[i][1].num, 1e-4 * (1 + std::fabs(lg[id])));
      if (i > 0) {
        EXPECT_GE(top[i - 1][1].num, top[i][1].num);
      }
    }
  }
}

TEST(LogitsCli, BadInput) {
  const std::string model = test::shared_path("fixtures/stories260K-f32.gguf");
  CliRun r = run_logits("-m '" + model + "' --tokens 1,x,3");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--tokens"), std::string::npos) << r.err;
  r = run_logits("-m '" + model + "' --tokens 1,99999");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("99999"), std::string::npos) << r.err;
  r = run_logits("-m /nonexistent.gguf --tokens 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
  r = run_logits("--tokens 1");
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace nibble
