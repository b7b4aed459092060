// `nibble forge`: the presets have the real models' parameter counts; with small overrides the
// tensor names and shapes equal those of the fixtures written by the real converter; every
// preset loads, runs and gives finite, non-flat logits; output is deterministic for a seed
// (whatever the thread count); the tokenizer is the vocab file's; bad input fails clearly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "graph/context.h"
#include "model/loader.h"
#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"
#include "tests/tools/gguf_spec_check.h"

namespace nibble {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

std::string vocab(const std::string& name) {
  return test::shared_path("vocab/ggml-vocab-" + name + ".gguf");
}

class ForgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nibble_forge_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string out(const std::string& name) const { return (dir_ / name).string(); }
  test::CliRun forge(const std::string& args) { return run_cli(NIBBLE_CLI_PATH, "forge", args); }
  fs::path dir_;
};

using Shapes = std::map<std::string, std::vector<uint64_t>>;

Shapes shapes(const std::string& path) {
  Shapes m;
  auto f = gguf::File::open(path);
  EXPECT_TRUE(f.ok()) << path << ": " << (f.ok() ? "" : f.error().to_string());
  if (f.ok())
    for (const auto& t : f->tensors())
      m[std::string(t.name)] = std::vector<uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims);
  return m;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parameter counts of the published models (embedding + layers + norms; tied heads counted
// once). llama-3.2-1b adds its 32 rope frequency factors (rope_freqs.weight).
TEST_F(ForgeTest, PresetsHaveTheRealParameterCounts) {
  auto r = forge("--list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::map<std::string, uint64_t> expected = {
      {"smollm2-135m", 134515008},     {"smollm2-360m", 361821120},
      {"qwen2.5-0.5b", 494032768},     {"qwen2.5-1.5b", 1543714304},
      {"llama-3.2-1b", 1235814400 + 32}, {"gemma-2-2b", 2614341888},
      {"phi-3-mini", 3821079552},      {"bitnet-b1.58-2b", 2412820480}};
  std::istringstream in(r.out);
  std::string line;
  size_t seen = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name, last;
    ls >> name;
    for (std::string w; ls >> w;) last = w;
    if (!expected.count(name)) continue;
    EXPECT_EQ(last, std::to_string(expected.at(name))) << line;
    ++seen;
  }
  EXPECT_EQ(seen, expected.size()) << r.out;
}

// Forged with the fixtures' sizes, each architecture has exactly the tensor names and shapes
// that the real converter wrote into the fixture.
TEST_F(ForgeTest, LayoutEqualsTheConvertersLayout) {
  struct Case {
    std::string preset, vocab, overrides, fixture;
  };
  const std::vector<Case> cases = {
      {"llama-3.2-1b", "llama-spm", "--layers 2 --embd 256 --ff 768 --heads 8 --kv-heads 2",
       "llama3rope-F16"},
      {"qwen2.5-0.5b", "llama-spm", "--layers 2 --embd 256 --ff 768 --heads 8 --kv-heads 2",
       "qwen2-F16"},
      {"gemma-2-2b", "llama-spm",
       "--layers 26 --embd 256 --ff 256 --heads 8 --kv-heads 2 --head-dim 32", "gemma2-F16"},
      {"phi-3-mini", "phi-3", "--layers 2 --embd 256 --ff 768 --heads 8 --kv-heads 2",
       "phi3-Q8_0"},
      {"bitnet-b1.58-2b", "llama-spm", "--layers 2 --embd 256 --ff 768 --heads 8 --kv-heads 2",
       "bitnet-F16"},
  };
  for (const Case& c : cases) {
    const std::string o = out(c.preset + ".gguf");
    auto r = forge("--preset " + c.preset + " --vocab " + vocab(c.vocab) + " --type F16 " +
                   c.overrides + " -o " + o + " --quiet");
    ASSERT_EQ(r.exit_code, 0) << c.preset << ": " << r.err;
    Shapes ours = shapes(o), ref = shapes(test::shared_path("fixtures/" + c.fixture + ".gguf"));
    // The fixtures cut the vocabulary to 4096 pieces (phi3 keeps the full one).
    for (auto* m : {&ours, &ref})
      for (const char* v : {"token_embd.weight", "output.weight"})
        if (m->count(v) && c.vocab != "phi-3") (*m)[v][1] = 0;
    EXPECT_EQ(ours, ref) << c.preset << " vs " << c.fixture;
  }
}

struct RunCheck {
  bool finite = true;
  double spread = 0;  // max - min of the last position's logits
  double stddev = 0;
};

RunCheck run_model(const std::string& path) {
  RunCheck rc;
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  auto m = model::load_model(path, lo);
  EXPECT_TRUE(m.ok()) << path << ": " << (m.ok() ? "" : m.error().to_string());
  if (!m.ok()) return rc;
  graph::ContextOptions co;
  co.n_ctx = 16;
  co.n_threads = 2;
  auto c = graph::create_context(*m, co);
  EXPECT_TRUE(c.ok());
  if (!c.ok()) return rc;
  const std::vector<Token> tokens = {1, 450, 496, 1735, 1701, 263, 2217, 310};
  EXPECT_TRUE((*c)->eval(tokens, true).ok());
  for (size_t p = 0; p < tokens.size(); ++p)
    for (float v : (*c)->logits(static_cast<int>(p))) rc.finite &= std::isfinite(v);
  auto l = (*c)->logits(static_cast<int>(tokens.size() - 1));
  const auto [mn, mx] = std::minmax_element(l.begin(), l.end());
  rc.spread = *mx - *mn;
  double s = 0, s2 = 0;
  for (float v : l) s += v, s2 += double(v) * v;
  rc.stddev = std::sqrt(std::max(0.0, s2 / l.size() - (s / l.size()) * (s / l.size())));
  return rc;
}

// Every preset, shrunk, in a float, a k-quant mix and a ternary mix: nibble loads it, the
// logits are finite and spread out (std >= 0.5 over the vocabulary), and `nibble generate`
// produces tokens through the copied tokenizer.
TEST_F(ForgeTest, EveryPresetRuns) {
  for (const char* preset : {"smollm2-135m", "smollm2-360m", "qwen2.5-0.5b", "llama-3.2-1b",
                             "qwen2.5-1.5b", "gemma-2-2b", "phi-3-mini", "bitnet-b1.58-2b"}) {
    for (const char* type : {"F16", "Q4_K_M", "TQ2_0"}) {
      const std::string o = out(std::string(preset) + "-" + type + ".gguf");
      auto r = forge(std::string("--preset ") + preset + " --vocab " + vocab("llama-spm") +
                     " --type " + type + " --layers 3 --embd 256 --ff 512 --heads 4 " +
                     "--kv-heads 2 -o " + o + " --quiet");
      ASSERT_EQ(r.exit_code, 0) << preset << " " << type << ": " << r.err;
      EXPECT_EQ(test::spec_read(o).error, "") << preset << " " << type;
      const RunCheck rc = run_model(o);
      EXPECT_TRUE(rc.finite) << preset << " " << type;
      EXPECT_GT(rc.stddev, 0.5) << preset << " " << type;
      EXPECT_GT(rc.spread, 4.0) << preset << " " << type;
    }
    auto g = run_cli(NIBBLE_CLI_PATH, "generate",
                     "-m " + out(std::string(preset) + "-Q4_K_M.gguf") +
                         " -p 'Hello world' -n 4 --temp 0 --quiet");
    EXPECT_EQ(g.exit_code, 0) << preset << ": " << g.err;
    EXPECT_FALSE(g.out.empty()) << preset;
  }
}

TEST_F(ForgeTest, MetadataAndTokenizer) {
  const std::string o = out("l.gguf");
  auto r = forge("--preset llama-3.2-1b --vocab " + vocab("llama-bpe") +
                 " --type Q4_0 --layers 2 --embd 256 --ff 256 --heads 8 --kv-heads 2 -o " + o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto f = gguf::File::open(o);
  auto v = gguf::File::open(vocab("llama-bpe"));
  ASSERT_TRUE(f.ok() && v.ok());
  for (const auto& kv : v->metadata()) {
    if (kv.key.substr(0, 10) != "tokenizer.") continue;
    const gguf::Value* x = f->find(kv.key);
    ASSERT_NE(x, nullptr) << kv.key;
    EXPECT_EQ(x->type(), kv.value.type());
    if (kv.value.type() == gguf::ValueType::array) {
      EXPECT_EQ(x->array_size(), kv.value.array_size()) << kv.key;
    }
  }
  EXPECT_EQ(f->get_string("general.architecture").value_or(""), "llama");
  EXPECT_EQ(f->get_uint("general.file_type").value_or(0), 2u);
  EXPECT_EQ(f->get_uint("llama.block_count").value_or(0), 2u);
  EXPECT_EQ(f->get_uint("llama.context_length").value_or(0), 131072u);
  EXPECT_EQ(f->get_uint("llama.vocab_size").value_or(0), 128256u);
  EXPECT_EQ(f->get_float("llama.rope.freq_base").value_or(0), 500000.0);
  // Llama 3 rope factors: 1 for short wavelengths, 32 for long ones.
  const gguf::TensorInfo* rf = f->find_tensor("rope_freqs.weight");
  ASSERT_NE(rf, nullptr);
  ASSERT_EQ(rf->ne[0], 16u);  // head_dim 256 / 8 = 32, halved
  const float* fr = reinterpret_cast<const float*>(rf->data);
  EXPECT_FLOAT_EQ(fr[0], 1.0f);
  EXPECT_FLOAT_EQ(fr[15], 32.0f);
  // Tied Q4_0: token_embd is the output matrix, Q6_K; layers Q4_0; norms F32.
  EXPECT_EQ(f->find_tensor("token_embd.weight")->type, TensorType::Q6_K);
  EXPECT_EQ(f->find_tensor("blk.1.ffn_down.weight")->type, TensorType::Q4_0);
  EXPECT_EQ(f->find_tensor("output_norm.weight")->type, TensorType::F32);
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);
  // --n-vocab preset pads the vocabulary to the real model's rows.
  const std::string p = out("pad.gguf");
  r = forge("--preset smollm2-135m --vocab " + vocab("llama-spm") +
            " --type Q8_0 --layers 1 --n-vocab preset -o " + p + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto pf = gguf::File::open(p);
  ASSERT_TRUE(pf.ok());
  EXPECT_EQ(pf->find_tensor("token_embd.weight")->ne[1], 49152u);
  EXPECT_EQ(pf->find("tokenizer.ggml.tokens")->array_size(), 49152u);
  EXPECT_EQ(pf->find("tokenizer.ggml.scores")->array_size(), 49152u);
  auto g = run_cli(NIBBLE_CLI_PATH, "generate", "-m " + p + " -p 'Hi' -n 3 --temp 0 --quiet");
  EXPECT_EQ(g.exit_code, 0) << g.err;
}

TEST_F(ForgeTest, DeterministicForASeed) {
  const std::string base = "--preset qwen2.5-0.5b --vocab " + vocab("llama-spm") +
                           " --type Q4_K_M --layers 2 --embd 256 --ff 512 --heads 4 --kv-heads 2 --quiet";
  ASSERT_EQ(forge(base + " --seed 5 --threads 1 -o " + out("a.gguf")).exit_code, 0);
  ASSERT_EQ(forge(base + " --seed 5 --threads 2 -o " + out("b.gguf")).exit_code, 0);
  ASSERT_EQ(forge(base + " --seed 6 -o " + out("c.gguf")).exit_code, 0);
  const std::string a = slurp(out("a.gguf")), b = slurp(out("b.gguf")), c = slurp(out("c.gguf"));
  ASSERT_GT(a.size(), 1000000u);
  EXPECT_TRUE(a == b) << "same seed, different thread count: files differ";
  ASSERT_EQ(a.size(), c.size());
  EXPECT_FALSE(a == c) << "different seeds gave the same file";
}

TEST_F(ForgeTest, BadInputFailsClearly) {
  const std::string o = out("x.gguf");
  const std::string v = " --vocab " + vocab("llama-spm");
  struct Case {
    std::string args, message;
    int code;
  };
  {
    std::ofstream(out("text.gguf")) << "not a gguf\n";
  }
  const std::vector<Case> cases = {
      {"--preset gpt-5" + v + " --type Q4_0 -o " + o, "unknown preset 'gpt-5'", 2},
      {"--preset smollm2-135m" + v + " --type Q9 -o " + o, "unknown type 'Q9'", 2},
      {"--preset smollm2-135m --vocab " + out("none.gguf") + " --type Q4_0 -o " + o, "none.gguf", 1},
      {"--preset smollm2-135m --vocab " + out("text.gguf") + " --type Q4_0 -o " + o, "not_gguf", 1},
      {"--preset smollm2-135m --vocab " + test::shared_path("fixtures/stories260K-f32.gguf") +
           " --type Q4_0 --layers 1 --n-vocab 100 -o " + o,
       "--n-vocab 100", 2},
      {"--preset smollm2-135m" + v + " --type Q4_0 --layers 1 -o " + out("no/dir/x.gguf"),
       "cannot create", 1},
      {"--preset smollm2-135m" + v + " --type Q4_0 --heads 5 --kv-heads 2 -o " + o,
       "multiple of --kv-heads", 2},
      {"--preset smollm2-135m" + v + " --type Q4_0 --layers 0 -o " + o, "--layers", 2},
      {"--preset smollm2-135m --type Q4_0 -o " + o, "missing --vocab", 2},
  };
  for (const Case& c : cases) {
    auto r = forge(c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
  EXPECT_FALSE(fs::exists(o));
}

}  // namespace
}  // namespace nibble
