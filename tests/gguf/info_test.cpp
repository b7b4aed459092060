// Runs the built `nibble info` on fixtures, on hostile strings (the JSON must still parse) and
// on broken files (error printed, non-zero exit).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "gguf/writer.h"
#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"

namespace nibble::gguf {
namespace {

using Run = test::CliRun;

std::string temp_path(const std::string& name) { return test::temp_path("info_" + name); }

Run run_info(const std::string& args) { return test::run_cli(NIBBLE_CLI_PATH, "info", args); }

// The output parses as JSON (nlohmann-json: RFC 8259, strings valid UTF-8).
bool valid_json(const std::string& s) { return nlohmann::json::accept(s); }

bool contains(const std::string& hay, std::string_view needle) {
  return hay.find(needle) != std::string::npos;
}

// The value printed after `key` on a line of the text summary ("  key    value").
std::string field(const std::string& out, std::string_view key) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(' ');
    if (b == std::string::npos || line.compare(b, key.size(), key) != 0) continue;
    size_t v = line.find_first_not_of(' ', b + key.size());
    if (v == b + key.size()) continue;  // a longer key with this prefix
    return v == std::string::npos ? "" : line.substr(v);
  }
  return "(absent)";
}

TEST(NibbleInfo, FixtureText) {
  auto r = run_info("'" + test::shared_path("fixtures/llama-Q8_0.gguf") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_TRUE(contains(r.out, "architecture")) << r.out;
  EXPECT_TRUE(contains(r.out, "llama"));
  EXPECT_EQ(field(r.out, "architecture"), "llama");
  EXPECT_EQ(field(r.out, "embedding_length"), "256");
  EXPECT_EQ(field(r.out, "block_count"), "2");
  EXPECT_EQ(field(r.out, "feed_forward_length"), "768");
  EXPECT_EQ(field(r.out, "attention.head_count"), "8");
  EXPECT_EQ(field(r.out, "attention.head_count_kv"), "2");
  EXPECT_EQ(field(r.out, "tokenizer"), "\"llama\"");
  EXPECT_EQ(field(r.out, "vocab size"), "4096");
  EXPECT_TRUE(contains(r.out, "token_embd.weight"));
  EXPECT_TRUE(contains(r.out, "Q8_0"));
  EXPECT_TRUE(contains(r.out, "totals per type"));
}

TEST(NibbleInfo, FixtureJson) {
  auto r = run_info("--json '" + test::shared_path("fixtures/stories260K-f32.gguf") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(valid_json(r.out)) << r.out;
  EXPECT_TRUE(contains(r.out, "\"architecture\": \"llama\""));
  EXPECT_TRUE(contains(r.out, "\"block_count\": 5"));
  EXPECT_TRUE(contains(r.out, "\"vocab_size\": 512"));
  EXPECT_TRUE(contains(r.out, "\"total_tensors\": 48"));
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object());
  bool found = false;
  for (const auto& t : j.value("tensors", nlohmann::json::array()))
    if (t.value("name", "") == "token_embd.weight") {
      found = true;
      EXPECT_EQ(t.value("type", ""), "F32");
      EXPECT_EQ(t.value("shape", nlohmann::json()), nlohmann::json({64, 512}));
    }
  EXPECT_TRUE(found) << r.out;
}

TEST(NibbleInfo, VocabOnlyJsonWithTemplate) {
  // The qwen2 vocab carries a Jinja chat template full of quotes and newlines.
  auto r = run_info("--json '" + test::shared_path("vocab/ggml-vocab-qwen2.gguf") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(valid_json(r.out));
  EXPECT_TRUE(contains(r.out, "\"pre\": \"qwen2\""));
  EXPECT_TRUE(contains(r.out, "\"total_tensors\": 0"));
}

TEST(NibbleInfo, HostileStringsStayValidJson) {
  Writer w;
  w.set_string("general.architecture", "we\"ird\\arch\n");
  w.set_string(std::string("key\x01\x1f\x7f", 6), "bad utf8 \xff\xc0\x80 \xed\xa0\x80 ok \xc3\xa9");
  w.set_string("general.name", std::string("nul\0inside", 10));
  w.set_f32("x.nan", std::numeric_limits<float>::quiet_NaN());
  w.set_f64("x.inf", -std::numeric_limits<double>::infinity());
  w.set_string_array("tokenizer.ggml.tokens", {"\"", "\\", "\xe2\x82"});
  std::vector<uint8_t> d(4 * 32);
  ASSERT_TRUE(w.add_tensor("t\"ensor", TensorType::F32, {32}, d).ok());
  auto path = temp_path("hostile.gguf");
  ASSERT_TRUE(w.write_file(path).ok());
  auto r = run_info("--json '" + path + "'");
  auto t = run_info("'" + path + "'");
  std::filesystem::remove(path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(valid_json(r.out)) << r.out;
  EXPECT_TRUE(contains(r.out, "\"architecture\": \"we\\\"ird\\\\arch\\n\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "\xef\xbf\xbd"));  // invalid UTF-8 became U+FFFD
  EXPECT_TRUE(contains(r.out, "\\u0000"));
  EXPECT_TRUE(contains(r.out, "\\u0001"));
  EXPECT_TRUE(contains(r.out, "\xc3\xa9"));  // valid UTF-8 kept as is
  EXPECT_EQ(t.exit_code, 0) << t.err;
  // The text form escapes control characters.
  EXPECT_TRUE(contains(t.out, "key\\x01\\x1f\\x7f")) << t.out;
  EXPECT_FALSE(contains(t.out, "\x01"));
  EXPECT_EQ(field(t.out, "architecture"), "we\"ird\\arch\\n");
}

TEST(NibbleInfo, BrokenFileFails) {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.add_raw_tensor_info("far.weight", 0, {8}, uint64_t{1} << 40);
  auto path = temp_path("broken.gguf");
  ASSERT_TRUE(w.write_file(path).ok());
  auto r = run_info("'" + path + "'");
  auto j = run_info("--json '" + path + "'");
  std::filesystem::remove(path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(contains(r.err, "tensor_out_of_bounds")) << r.err;
  EXPECT_TRUE(contains(r.err, "far.weight")) << r.err;
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_TRUE(j.out.empty());

  auto m = run_info("/nonexistent/model.gguf");
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_TRUE(contains(m.err, "io_error")) << m.err;
  auto n = run_info("'" + test::shared_path("vocab/ggml-vocab-qwen2.gguf.inp") + "'");
  EXPECT_EQ(n.exit_code, 1);
  EXPECT_TRUE(contains(n.err, "not_gguf")) << n.err;
}

TEST(NibbleInfo, UsageErrors) {
  EXPECT_EQ(run_info("").exit_code, 2);
  EXPECT_EQ(run_info("a.gguf b.gguf").exit_code, 2);
  EXPECT_EQ(run_info("--bogus a.gguf").exit_code, 2);
  auto h = run_info("--help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_TRUE(contains(h.out, "Usage: nibble info")) << h.out;
  EXPECT_TRUE(contains(run_info("").err, "MODEL is required"));
}

}  // namespace
}  // namespace nibble::gguf
