// Runs the built `nibble generate` on the real trained fixture, as a user would.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// Speculative decoding from the command line: the greedy text of plain decoding, the draft
// statistics on stderr, bad combinations refused.
TEST(GenerateCli, SpeculativeGivesThePlainGreedyText) {
  const std::string model = test::shared_path("fixtures/stories260K-f32.gguf");
  const std::string draft = test::shared_path("fixtures/stories260K-f16.gguf");
  const std::string base = "-m '" + model + "' -p 'Once upon a time' -n 40 --greedy";
  const CliRun plain = generate(base + " --quiet");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  for (const std::string& extra : std::vector<std::string>{
           " --lookup 3", " --draft '" + draft + "'", " --lookup 2 --n-draft 3"}) {
    SCOPED_TRACE(extra);
    CliRun r = generate(base + extra + " --quiet");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, plain.out);
  }
  CliRun r = generate(base + " --draft '" + draft + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("accepted"), std::string::npos) << r.err;
  r = generate(base + " --lookup 3 --draft '" + draft + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = generate(base + " --lookup 0");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--lookup"), std::string::npos) << r.err;
  r = generate(base + " --draft '" + test::shared_path("fixtures/phi3-Q8_0.gguf") + "'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("vocabulary"), std::string::npos) << r.err;
}

// nibble bench's speculative tests (tools/nibble/bench_spec.cpp) run and report their fields.
TEST(GenerateCli, BenchSpeculative) {
  const std::string model = test::shared_path("fixtures/stories260K-f32.gguf");
  CliRun r = test::run_cli(NIBBLE_CLI_PATH, "bench",
                           "-m '" + model + "' -t 1 -r 1 --verify 1,4 --spec-depth 16 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"test\": \"verify4\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"verify_over_decode\""), std::string::npos) << r.out;
  r = test::run_cli(NIBBLE_CLI_PATH, "bench",
                    "-m '" + model + "' -t 1 -r 1 --lookup 2 --spec-gen 24");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| lookup 2 | 24 |"), std::string::npos) << r.out;
  r = test::run_cli(NIBBLE_CLI_PATH, "bench", "-m '" + model + "' --lookup 2 --draft '" + model + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
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
  // The commit is the tree's at build time: 12 hex digits (+ "-dirty"), or "unknown" outside git.
  const size_t at = r.out.find("(commit ") + 8, end = r.out.find(')', at);
  ASSERT_NE(end, std::string::npos) << r.out;
  const std::string commit = r.out.substr(at, end - at);
  const std::string hex = commit.substr(0, commit.find('-'));
  EXPECT_TRUE(commit == "unknown" ||
              (hex.size() == 12 && hex.find_first_not_of("0123456789abcdef") == std::string::npos &&
               (commit.size() == 12 || commit.substr(12) == "-dirty")))
      << commit;
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
