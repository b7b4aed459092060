// Runs the built `nibble logits`: its JSON parses, matches an in-process evaluation, and bad
// input gives a message and a non-zero exit.
#include <gtest/gtest.h>

#include <algorithm>
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
#include "tests/common/json.h"

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
  ASSERT_TRUE(test::parse_json(r.out, &doc)) << r.out;
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

// --ctx decides Phi-3 LongRoPE's factor set: short up to the original context (4096), long
// beyond it. The logits are identical within each group and far apart between them.
TEST(LogitsCli, ContextSizePicksLongRopeFactors) {
  const std::string model = test::shared_path("fixtures/phi3long-Q8_0.gguf");
  const std::string toks = "--tokens 1,9038,2501,263,931,29892,727,471,263,2217,19964,1058 --top 8";
  auto run = [&](const std::string& extra) {
    CliRun r = run_logits("-m '" + model + "' " + toks + " --threads 2 " + extra);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  const std::string c512 = run("--ctx 512"), c4096 = run("--ctx 4096");
  const std::string c4097 = run("--ctx 4097"), c8192 = run("--ctx 8192");
  EXPECT_EQ(c512, c4096);
  EXPECT_EQ(c4097, c8192);
  test::Json a, b;
  ASSERT_TRUE(test::parse_json(c512, &a)) << c512;
  ASSERT_TRUE(test::parse_json(c8192, &b)) << c8192;
  ASSERT_EQ(a["positions"].size(), b["positions"].size());
  double gap = 0;
  for (size_t p = 0; p < a["positions"].size(); ++p)
    gap = std::max(gap, std::fabs(a["positions"][p][0][1].num - b["positions"][p][0][1].num));
  EXPECT_GT(gap, 1.0) << "short and long factors should give clearly different logits";
  // The q8_0 KV cache runs through the same option path.
  const std::string q8 = run("--ctx 512 --kv-q8");
  test::Json c;
  ASSERT_TRUE(test::parse_json(q8, &c)) << q8;
  EXPECT_EQ(c["positions"].size(), a["positions"].size());
  CliRun bad = run_logits("-m '" + model + "' " + toks + " --ctx -1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--ctx"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace nibble
