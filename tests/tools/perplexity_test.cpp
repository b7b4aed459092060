// `nibble perplexity`: the stories260K figure against the reference implementation's,
// stride mode, the base-logits file (save, compare, corrupt), and clear errors for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"
#include "tests/common/json.h"

namespace {

using nibble::test::Json;
using nibble::test::run_cli;
using nibble::test::shared_path;
using nibble::test::temp_path;

// Reference figures, recorded from llama.cpp's llama-perplexity (commit c392e509, 2025-02-20,
// CPU-only Release build, x86-64 AVX-512) on the same model and text:
//   llama-perplexity -m stories260K-f32.gguf -f tests/data/perplexity-stories.txt -c 128 -t 2
// printed "calculating perplexity over 22 chunks, n_ctx=128" and
// "Final estimate: PPL = 4.7407 +/- 0.23391"; with --ppl-stride 64 -b 128 it printed
// "have 2830 tokens" (the text's token count, BOS included). See docs/tools.md.
constexpr double kRefPpl = 4.7407;
constexpr double kRefErr = 0.23391;
constexpr int kRefChunks = 22;
constexpr int kRefTokens = 2830;

std::string text() { return std::string(NIBBLE_SOURCE_DIR) + "/tests/data/perplexity-stories.txt"; }
std::string stories(const char* type) {
  return shared_path(std::string("fixtures/stories260K-") + type + ".gguf");
}

Json parse(const std::string& s) {
  Json j;
  EXPECT_TRUE(nibble::test::parse_json(s, &j)) << "not JSON:\n" << s;
  return j;
}

TEST(Perplexity, Stories260KAgreesWithReference) {
  auto r = run_cli(NIBBLE_CLI_PATH, "perplexity",
                   "-m '" + stories("f32") + "' -f '" + text() + "' --ctx 128 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = parse(r.out);
  ASSERT_EQ(j["perplexity"].kind, Json::number) << r.out;
  EXPECT_NEAR(j["perplexity"].num, kRefPpl, 0.005 * kRefPpl) << "must agree within 0.5%";
  EXPECT_NEAR(j["stderr"].num, kRefErr, 0.05 * kRefErr);
  EXPECT_EQ(j["chunks"].num, kRefChunks);
  EXPECT_EQ(j["tokens"].num, kRefTokens);
  EXPECT_EQ(j["scored"].num, kRefChunks * (128 - 1 - 64));
  EXPECT_EQ(j["ctx"].num, 128);
  // Progress: a running value per window on stderr.
  EXPECT_NE(r.err.find(std::to_string(kRefChunks) + "/" + std::to_string(kRefChunks) + "]"),
            std::string::npos)
      << r.err;

  // The human-readable form carries the same figure.
  r = run_cli(NIBBLE_CLI_PATH, "perplexity",
              "-m '" + stories("f32") + "' -f '" + text() + "' --ctx 128 --chunks 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("perplexity: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("2 windows of 128 tokens"), std::string::npos) << r.out;
}

TEST(Perplexity, StrideScoresTheLastStrideTokensOfEachWindow) {
  auto r = run_cli(NIBBLE_CLI_PATH, "perplexity",
                   "-m '" + stories("f32") + "' -f '" + text() +
                       "' --ctx 128 --stride 64 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = parse(r.out);
  const int windows = (kRefTokens - 128 + 63) / 64;
  EXPECT_EQ(j["chunks"].num, windows);
  EXPECT_EQ(j["scored"].num, windows * 64);
  // Same model, same text: close to the non-overlapping figure (not equal: other windows).
  EXPECT_NEAR(j["perplexity"].num, kRefPpl, 0.2 * kRefPpl);
}

std::vector<char> read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), {});
}
void write_all(const std::string& p, const std::vector<char>& b) {
  std::ofstream(p, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
}

TEST(Perplexity, KlDivergenceAgainstSavedBaseLogits) {
  const std::string base = temp_path("base.kld");
  auto r = run_cli(NIBBLE_CLI_PATH, "perplexity",
                   "-m '" + stories("f32") + "' -f '" + text() +
                       "' --ctx 128 --chunks 4 --json --save-logits '" + base + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double base_ppl = parse(r.out)["perplexity"].num;
  ASSERT_TRUE(std::filesystem::exists(base));
  EXPECT_FALSE(std::filesystem::exists(base + ".tmp"));
  // 56-byte header + tokens + 4 windows x 63 rows x (8 + 2 x 512) bytes.
  EXPECT_EQ(std::filesystem::file_size(base), 56u + 4u * (3 * 128 + 128) + 4u * 63 * (8 + 1024));

  // The same model against its own logits: no divergence, full agreement, same perplexity.
  r = run_cli(NIBBLE_CLI_PATH, "perplexity",
              "-m '" + stories("f32") + "' --kl-divergence '" + base + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = parse(r.out);
  EXPECT_LT(j["kl_divergence"]["mean"].num, 1e-6);
  EXPECT_EQ(j["top1_agreement"].num, 1.0);
  EXPECT_NEAR(j["base_perplexity"].num, base_ppl, 1e-3 * base_ppl);
  EXPECT_NEAR(j["perplexity"].num, base_ppl, 1e-6 * base_ppl);
  EXPECT_EQ(j["chunks"].num, 4);

  // F16 weights against the F32 base (the text given too: it must tokenize the same).
  r = run_cli(NIBBLE_CLI_PATH, "perplexity",
              "-m '" + stories("f16") + "' -f '" + text() + "' --kl-divergence '" + base + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("KL divergence: mean "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top-1 agreement: "), std::string::npos) << r.out;
  r = run_cli(NIBBLE_CLI_PATH, "perplexity",
              "-m '" + stories("f16") + "' --kl-divergence '" + base + "' --json");
  j = parse(r.out);
  EXPECT_GT(j["kl_divergence"]["mean"].num, 0.0);
  EXPECT_LT(j["kl_divergence"]["mean"].num, 1e-3);
  EXPECT_GT(j["top1_agreement"].num, 0.95);
  EXPECT_LE(j["kl_divergence"]["median"].num, j["kl_divergence"]["max"].num);

  // A model with another vocabulary cannot be compared.
  r = run_cli(NIBBLE_CLI_PATH, "perplexity",
              "-m '" + shared_path("fixtures/llama-Q4_0.gguf") + "' --kl-divergence '" + base + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("logits per position"), std::string::npos) << r.err;

  // Damaged files: each rejected with a message naming what is wrong.
  const auto good = read_all(base);
  const std::string bad = temp_path("bad.kld");
  struct Case {
    const char* what;
    std::vector<char> bytes;
    const char* message;
  };
  std::vector<Case> cases;
  auto flip = [&](size_t at) {
    auto b = good;
    b[at] ^= 0x40;
    return b;
  };
  cases.push_back({"payload byte", flip(good.size() / 2), "checksum mismatch"});
  cases.push_back({"token id", flip(60), "checksum mismatch"});
  cases.push_back({"magic", flip(0), "wrong magic"});
  cases.push_back({"version", flip(8), "version"});
  cases.push_back({"n_ctx", flip(19), "n_ctx 1073741952 outside"});
  cases.push_back({"n_ctx vs tokens", flip(17), "token ids where 4 windows of 16512"});
  cases.push_back({"n_chunks", flip(27), "n_chunks"});
  cases.push_back({"truncated", std::vector<char>(good.begin(), good.end() - 100), "bytes where"});
  cases.push_back({"header only", std::vector<char>(good.begin(), good.begin() + 20), "header"});
  cases.push_back({"empty", {}, "header"});
  for (const auto& c : cases) {
    write_all(bad, c.bytes);
    r = run_cli(NIBBLE_CLI_PATH, "perplexity",
                "-m '" + stories("f16") + "' --kl-divergence '" + bad + "'");
    EXPECT_EQ(r.exit_code, 1) << c.what;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.what << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << c.what;
  }
  r = run_cli(NIBBLE_CLI_PATH, "perplexity",
              "-m '" + stories("f16") + "' --kl-divergence /nonexistent/base.kld");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/base.kld: cannot open"), std::string::npos) << r.err;
  std::filesystem::remove(bad);
  std::filesystem::remove(base);
}

TEST(Perplexity, BadInputIsAClearError) {
  const std::string m = "-m '" + stories("f32") + "' ";
  const std::string f = "-f '" + text() + "' ";
  struct Case {
    std::string args, message;
    int code;
  } cases[] = {
      {f, "--model is required", 2},
      {m, "-f TEXT is required", 2},
      {m + "-f /nonexistent/text.txt", "/nonexistent/text.txt: cannot open the text file", 1},
      {"-m /nonexistent/m.gguf " + f, "/nonexistent/m.gguf", 1},
      {m + f + "--ctx abc", "expects an integer", 2},
      {m + f + "--ctx 2", "--ctx: expects an integer in [4, 1048576], got '2'", 2},
      {m + f + "--ctx 100000000", "--ctx: expects an integer in [4, 1048576]", 2},
      {m + f + "--ctx 128 --stride 128", "--stride 128 must be below --ctx 128", 2},
      {m + f + "--stride 0", "--stride: expects an integer in [1,", 2},
      {m + f + "--chunks 0", "--chunks: expects an integer in [1,", 2},
      {m + f + "-t -1", "--threads: expects an integer in [1, 512], got '-1'", 2},
      {m + f + "--ctx 4096", "needs at least 8192 (2 x ctx)", 1},
      {m + f + "--save-logits a --kl-divergence b", "--save-logits excludes --kl-divergence", 2},
  };
  for (const auto& c : cases) {
    auto r = run_cli(NIBBLE_CLI_PATH, "perplexity", c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args;
  }
  // An empty text file tokenizes to (at most) BOS.
  const std::string empty = temp_path("empty.txt");
  std::ofstream{empty};
  auto r = run_cli(NIBBLE_CLI_PATH, "perplexity", m + "-f '" + empty + "' --ctx 16");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("needs at least 32"), std::string::npos) << r.err;
  std::filesystem::remove(empty);
}

}  // namespace
