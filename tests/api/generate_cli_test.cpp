// Runs the built `nibble generate` on the real trained fixture, as a user would.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "nibble/version.h"
#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"

namespace nibble {
namespace {

using test::CliRun;

CliRun generate(const std::string& args) {
  return test::run_cli(NIBBLE_CLI_PATH, "generate", args);
}

const std::string kStory =
    ", there was a little girl named Lily. She loved to play outside in the park.";

TEST(GenerateCli, StoriesGreedy) {
  const std::string model = test::shared_path("fixtures/stories260K-f32.gguf");
  // The command of the engine issue. 24 tokens of this 512-piece vocabulary end inside
  // "park" (the sentence takes 27): the output is exactly that prefix of the story.
  CliRun r = generate("-m '" + model + "' -p 'Once upon a time' -n 24 --greedy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Once upon a time" + kStory.substr(0, kStory.size() - 4) + "\n");
  EXPECT_NE(r.err.find("24 generated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stop: max_tokens"), std::string::npos) << r.err;
  // With room for it, the whole story sentence and the next one.
  r = generate("-m '" + model + "' -p 'Once upon a time' -n 40 --greedy --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(kStory + " One day, she saw a big, red ball.", 0), 0u) << r.out;
}

TEST(GenerateCli, BadInputIsAClearError) {
  CliRun r = generate("-m /nonexistent.gguf -p hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent.gguf"), std::string::npos) << r.err;
  r = generate("-m '" + test::shared_path("vocab/ggml-vocab-llama-spm.gguf") + "' -p hi");
  EXPECT_NE(r.exit_code, 0);  // a vocabulary-only file has no weights
  EXPECT_FALSE(r.err.empty());
  r = generate("-p hi");
  EXPECT_NE(r.exit_code, 0);
  r = generate("-m '" + test::shared_path("fixtures/stories260K-f32.gguf") + "' -p hi -n -3");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
}  // namespace nibble

namespace nibble {
namespace {

TEST(VersionCli, PrintsVersionCommitAndKernels) {
  test::CliRun r = test::run_cli(NIBBLE_CLI_PATH, "--version", "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(std::string("nibble ") + NIBBLE_VERSION_STRING + " (commit ", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("kernels: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(the best this CPU supports"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cpu features: "), std::string::npos) << r.out;
  // NIBBLE_ISA caps the kernels, and the report says so.
  test::set_env("NIBBLE_ISA", "scalar");
  r = test::run_cli(NIBBLE_CLI_PATH, "--version", "");
  test::unset_env("NIBBLE_ISA");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kernels: scalar (capped by NIBBLE_ISA=scalar"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace nibble
