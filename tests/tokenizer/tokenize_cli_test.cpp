// Runs the built `nibble tokenize` on real vocabularies and compares with the library.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "nibble/tokenizer.h"
#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"

namespace nibble {
namespace {

using test::CliRun;

std::string tmp(const std::string& name) { return test::temp_path("tokenize_" + name); }

CliRun run_cli(const std::string& args) { return test::run_cli(NIBBLE_CLI_PATH, "tokenize", args); }

std::string vocab(const std::string& name) {
  return test::shared_path("vocab/ggml-vocab-" + name + ".gguf");
}

std::string json_ids(const std::vector<Token>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]\n";
}

TEST(TokenizeCli, IdsMatchTheLibrary) {
  const std::string text = "Hello, y'all! 3333 \xE4\xBD\xA0\xE5\xA5\xBD\n\tdone";
  std::string file = tmp("text");
  std::ofstream(file, std::ios::binary) << text;
  for (const char* name : {"llama-spm", "llama-bpe", "qwen2"}) {
    auto tok = Tokenizer::load(vocab(name));
    ASSERT_TRUE(tok.ok());
    for (bool no_bos : {false, true}) {
      CliRun r =
          run_cli("-m '" + vocab(name) + "' -f '" + file + "' --ids" + (no_bos ? " --no-bos" : ""));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      auto ids = (*tok)->encode(text, {.add_special = !no_bos});
      ASSERT_TRUE(ids.ok());
      EXPECT_EQ(r.out, json_ids(*ids)) << name;
    }
  }
  std::filesystem::remove(file);
}

TEST(TokenizeCli, PiecesOnePerLine) {
  CliRun r = run_cli("-m '" + vocab("llama-bpe") + "' -p 'Hi there' --no-bos");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "13347\tHi\n1070\t there\n");
  CliRun s = run_cli("-m '" + vocab("qwen2") + "' -p '<|im_start|>a' --parse-special --ids");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out.substr(0, 8), "[151644,");
}

TEST(TokenizeCli, ErrorsExitNonZero) {
  CliRun missing = run_cli("-m /nonexistent/file.gguf -p x");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("io_error"), std::string::npos);
  CliRun usage = run_cli("-p x");
  EXPECT_EQ(usage.exit_code, 2);
  CliRun both = run_cli("-m '" + vocab("gpt-2") + "' -p x -f y");
  EXPECT_EQ(both.exit_code, 2);
  CliRun not_gguf =
      run_cli("-m '" + test::shared_path("vocab/ggml-vocab-gpt-2.gguf.inp") + "' -p x");
  EXPECT_EQ(not_gguf.exit_code, 1);
  EXPECT_NE(not_gguf.err.find("not_gguf"), std::string::npos);
}

}  // namespace
}  // namespace nibble
