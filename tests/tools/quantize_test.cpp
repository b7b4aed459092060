// `nibble quantize` on the shared fixtures: every mix assigns the same tensor types as the
// widely used quantizer did for the fixture of that name; metadata is copied; the quantized
// model's logits stay as close to the original as that tool's file does; bad input fails
// clearly; an interrupted run leaves no output.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gguf/gguf.h"
#include "graph/context.h"
#include "kernels/ref/ref.h"
#include "model/loader.h"
#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"
#include "tests/tools/gguf_spec_check.h"

namespace nibble {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

std::string fixture(const std::string& name) { return test::shared_path("fixtures/" + name); }

class QuantizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nibble_quantize_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string out(const std::string& name) const { return (dir_ / name).string(); }
  test::CliRun quantize(const std::string& args) { return run_cli(NIBBLE_CLI_PATH, "quantize", args); }
  fs::path dir_;
};

std::map<std::string, TensorType> tensor_types(const std::string& path) {
  std::map<std::string, TensorType> m;
  auto f = gguf::File::open(path);
  EXPECT_TRUE(f.ok()) << path << ": " << (f.ok() ? "" : f.error().to_string());
  if (f.ok())
    for (const auto& t : f->tensors()) m[std::string(t.name)] = t.type;
  return m;
}

uint64_t file_type(const std::string& path) {
  auto f = gguf::File::open(path);
  return f.ok() ? f->get_uint("general.file_type").value_or(999) : 999;
}

// All logits of a fixed token sequence.
std::vector<float> logits(const std::string& path, const std::vector<Token>& tokens) {
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  auto m = model::load_model(path, lo);
  EXPECT_TRUE(m.ok()) << path << ": " << (m.ok() ? "" : m.error().to_string());
  if (!m.ok()) return {};
  graph::ContextOptions co;
  co.n_ctx = static_cast<int>(tokens.size());
  co.n_threads = 2;
  auto c = graph::create_context(*m, co);
  EXPECT_TRUE(c.ok());
  if (!c.ok()) return {};
  EXPECT_TRUE((*c)->eval(tokens, true).ok());
  std::vector<float> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    auto l = (*c)->logits(static_cast<int>(i));
    out.insert(out.end(), l.begin(), l.end());
  }
  return out;
}

// Root-mean-square difference of two logit sets.
double rms_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s / std::max<size_t>(a.size(), 1));
}

// Valid ids for every fixture vocabulary (stories260K has 512 pieces).
// The independent reading (gguf_spec_check.h) accepts the file and sees the same tensors as
// nibble's reader.
void expect_spec_valid(const std::string& path) {
  const test::SpecFile sf = test::spec_read(path);
  EXPECT_EQ(sf.error, "") << path;
  auto f = gguf::File::open(path);
  ASSERT_TRUE(f.ok()) << path;
  ASSERT_EQ(sf.tensors.size(), f->tensors().size()) << path;
  EXPECT_EQ(sf.n_kv, f->metadata().size());
  for (size_t i = 0; i < sf.tensors.size(); ++i) {
    const auto& a = sf.tensors[i];
    const auto& b = f->tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, static_cast<uint32_t>(b.type)) << a.name;
    EXPECT_EQ(a.dims, std::vector<uint64_t>(b.ne.begin(), b.ne.begin() + b.n_dims)) << a.name;
    EXPECT_EQ(sf.data_start + a.offset, static_cast<uint64_t>(b.data - f->base())) << a.name;
  }
}

const std::vector<Token> kTokens = {1, 450, 496, 173, 170, 263, 217, 310, 298, 13, 311, 42};

// Each mix on llama-F16 gives the tensor types and file type of the fixture that the widely
// used quantizer wrote for it.
TEST_F(QuantizeTest, MixesMatchTheReferenceQuantizer) {
  for (const char* mix : {"Q4_K_M", "Q5_K_M", "Q3_K_M", "Q2_K", "Q6_K", "Q8_0", "Q4_0", "Q4_1",
                          "Q5_0", "Q5_1", "IQ4_NL", "TQ1_0", "TQ2_0"}) {
    const std::string o = out(std::string("llama-") + mix + ".gguf");
    auto r = quantize(fixture("llama-F16.gguf") + " " + o + " " + mix + " --quiet");
    ASSERT_EQ(r.exit_code, 0) << mix << ": " << r.err;
    const std::string ref = fixture(std::string("llama-") + mix + ".gguf");
    EXPECT_EQ(tensor_types(o), tensor_types(ref)) << mix;
    EXPECT_EQ(file_type(o), file_type(ref)) << mix;
    expect_spec_valid(o);
  }
  // Other architectures: 26-layer gemma2 (the layer pattern), bitnet (ternary), qwen2.
  for (auto [in, mix] : std::vector<std::pair<std::string, std::string>>{
           {"gemma2-F16", "Q4_K_M"}, {"bitnet-F16", "TQ2_0"}, {"bitnet-F16", "TQ1_0"},
           {"bitnet-F16", "Q4_K_M"}, {"qwen2-F16", "Q4_K_M"}, {"qwen2-F16", "Q4_0"}}) {
    const std::string o = out(in + "-" + mix + ".gguf");
    auto r = quantize(fixture(in + ".gguf") + " " + o + " " + mix + " --quiet");
    ASSERT_EQ(r.exit_code, 0) << in << " " << mix << ": " << r.err;
    const std::string ref = fixture(in.substr(0, in.find('-')) + "-" + mix + ".gguf");
    EXPECT_EQ(tensor_types(o), tensor_types(ref)) << in << " " << mix;
  }
}

// Every key of the input is in the output with the same value, except the two the tool sets.
TEST_F(QuantizeTest, CopiesMetadataAndSetsFileType) {
  const std::string o = out("q.gguf");
  ASSERT_EQ(quantize(fixture("qwen2-F16.gguf") + " " + o + " Q4_K_S --quiet").exit_code, 0);
  auto in = gguf::File::open(fixture("qwen2-F16.gguf"));
  auto f = gguf::File::open(o);
  ASSERT_TRUE(in.ok() && f.ok());
  for (const auto& kv : in->metadata()) {
    if (kv.key == "general.file_type") continue;
    const gguf::Value* v = f->find(kv.key);
    ASSERT_NE(v, nullptr) << kv.key;
    EXPECT_EQ(v->type(), kv.value.type()) << kv.key;
    if (kv.value.type() == gguf::ValueType::array) {
      EXPECT_EQ(v->array_size(), kv.value.array_size()) << kv.key;
      EXPECT_EQ(v->at(v->array_size() - 1).as_string().value_or(""),
                kv.value.at(kv.value.array_size() - 1).as_string().value_or(""));
    } else if (kv.value.type() == gguf::ValueType::string) {
      EXPECT_EQ(v->as_string().value_or("?"), kv.value.as_string().value_or("")) << kv.key;
    } else if (kv.value.is_integer()) {
      EXPECT_EQ(v->as_int().value_or(-1), kv.value.as_int().value_or(-2)) << kv.key;
    } else if (kv.value.type() == gguf::ValueType::boolean) {
      EXPECT_EQ(v->as_bool().value_or(false), kv.value.as_bool().value_or(true)) << kv.key;
    } else {
      EXPECT_EQ(v->as_float().value_or(-1), kv.value.as_float().value_or(-2)) << kv.key;
    }
  }
  EXPECT_EQ(f->get_uint("general.file_type").value_or(0), 14u);
  EXPECT_EQ(f->get_uint("general.quantization_version").value_or(0), 2u);
  // Tensor data of the copied (1-D) tensors is byte-identical.
  for (const auto& t : in->tensors()) {
    if (t.n_dims != 1) continue;
    const gguf::TensorInfo* u = f->find_tensor(t.name);
    ASSERT_NE(u, nullptr);
    ASSERT_EQ(u->n_bytes, t.n_bytes);
    EXPECT_EQ(std::memcmp(u->data, t.data, t.n_bytes), 0) << t.name;
  }
}

// The quantized model's logits differ from the f32 original's by no more than the fixture the
// widely used tool wrote for the same mix (x1.15 + 0.01 for summation-order noise): nibble's
// quantizer is at least as faithful as the one users compare against.
TEST_F(QuantizeTest, RoundTripLogitsAsCloseAsTheReferenceTool) {
  const auto base = logits(fixture("llama-f32.gguf"), kTokens);
  ASSERT_FALSE(base.empty());
  for (const char* mix : {"Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0", "IQ4_NL", "Q3_K_M", "Q2_K"}) {
    const std::string o = out(std::string(mix) + ".gguf");
    ASSERT_EQ(quantize(fixture("llama-f32.gguf") + " " + o + " " + mix + " --quiet").exit_code, 0);
    const double ours = rms_diff(base, logits(o, kTokens));
    const double theirs =
        rms_diff(base, logits(fixture(std::string("llama-") + mix + ".gguf"), kTokens));
    std::printf("%-7s logit rms diff vs f32: nibble %.4f, reference tool %.4f\n", mix, ours, theirs);
    EXPECT_LE(ours, theirs * 1.15 + 0.01) << mix << " ours " << ours << " reference " << theirs;
    EXPECT_GT(ours, 0.0) << mix;
  }
}

// stories260K (a trained model): rows of 172 fit no block, so ffn_down falls back to F16 and
// the tool says so; the greedy story survives 8-bit and 4-bit mixes token for token.
TEST_F(QuantizeTest, TrainedModelWithFallbacks) {
  const std::string in = fixture("stories260K-f32.gguf");
  const auto base = logits(in, kTokens);
  ASSERT_FALSE(base.empty());
  for (const char* mix : {"Q8_0", "Q4_K_M"}) {
    const std::string o = out(std::string("st-") + mix + ".gguf");
    auto r = quantize(in + " " + o + " " + mix);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("row length is 172: using F16"), std::string::npos) << r.err;
    auto types = tensor_types(o);
    EXPECT_EQ(types["blk.0.ffn_down.weight"], TensorType::F16);
    EXPECT_EQ(types["blk.0.ffn_up.weight"],
              std::string(mix) == "Q8_0" ? TensorType::Q8_0 : TensorType::Q5_0);
    auto q = logits(o, kTokens);
    ASSERT_EQ(q.size(), base.size());
    // Top-1 agrees wherever the original's top-1/top-2 margin is clear (> 0.5).
    const size_t nv = base.size() / kTokens.size();
    for (size_t p = 0; p < kTokens.size(); ++p) {
      const float* a = base.data() + p * nv;
      const float* b = q.data() + p * nv;
      size_t i1 = std::max_element(a, a + nv) - a;
      float second = -1e30f;
      for (size_t i = 0; i < nv; ++i)
        if (i != i1) second = std::max(second, a[i]);
      if (a[i1] - second > 0.5f) {
        EXPECT_EQ(static_cast<size_t>(std::max_element(b, b + nv) - b), i1) << mix << " pos " << p;
      }
    }
    auto g = run_cli(NIBBLE_CLI_PATH, "generate",
                     "-m " + o + " -p 'Once upon a time' -n 12 --temp 0 --quiet");
    EXPECT_EQ(g.exit_code, 0) << g.err;
    EXPECT_NE(g.out.find("there was a little girl named Lily"), std::string::npos) << g.out;
  }
}

TEST_F(QuantizeTest, StatsAndRequantization) {
  const std::string o = out("s.gguf");
  auto r = quantize(fixture("llama-F16.gguf") + " " + o + " Q4_0 --stats --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // One line per quantized tensor: name type rmse max_err rel_rmse; 4-bit relative RMSE of
  // normal weights is ~0.1.
  int lines = 0;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("blk.", 0) != 0) continue;
    std::istringstream ls(line);
    std::string name, type;
    double rmse, max_err, rel;
    ls >> name >> type >> rmse >> max_err >> rel;
    EXPECT_EQ(type, "Q4_0") << line;
    EXPECT_GT(rmse, 0) << line;
    EXPECT_GE(max_err, rmse) << line;
    EXPECT_GT(rel, 0.03) << line;
    EXPECT_LT(rel, 0.2) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 14) << r.out;
  EXPECT_NE(r.out.find("token_embd.weight"), std::string::npos);  // Q6_K (tied output)
  // From Q8_0: allowed with a warning. From Q4_0: refused without --allow-requantize.
  r = quantize(fixture("llama-Q8_0.gguf") + " " + out("r.gguf") + " Q4_K_M --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: re-quantizing Q8_0"), std::string::npos) << r.err;
  r = quantize(fixture("llama-Q4_0.gguf") + " " + out("r2.gguf") + " Q8_0 --quiet");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--allow-requantize"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out("r2.gguf")));
  r = quantize(fixture("llama-Q4_0.gguf") + " " + out("r2.gguf") + " Q8_0 --quiet --allow-requantize");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Decoding to a float type needs no permission and changes no value.
  r = quantize(fixture("llama-Q4_0.gguf") + " " + out("f.gguf") + " F32 --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tensor_types(out("f.gguf"))["blk.0.attn_q.weight"], TensorType::F32);
  auto q4 = gguf::File::open(fixture("llama-Q4_0.gguf"));
  auto f32 = gguf::File::open(out("f.gguf"));
  ASSERT_TRUE(q4.ok() && f32.ok());
  const gguf::TensorInfo* tq = q4->find_tensor("blk.1.ffn_down.weight");
  const gguf::TensorInfo* tf = f32->find_tensor("blk.1.ffn_down.weight");
  ASSERT_TRUE(tq && tf);
  std::vector<float> dec(tq->n_elements);
  ASSERT_TRUE(kernels::ref::dequantize_row(tq->type, tq->data, dec.data(), dec.size()));
  ASSERT_EQ(tf->n_bytes, dec.size() * 4);
  EXPECT_EQ(std::memcmp(tf->data, dec.data(), tf->n_bytes), 0);
}

// Q8_0 blocks decoded from the raw bytes by hand (fp16 scale, 32 int8) reproduce the f32
// source to within half a quantization step plus the scale's fp16 rounding (|q| <= 127 times
// a relative 2^-11): the bytes mean what the format says.
TEST_F(QuantizeTest, Q8_0BytesDecodeIndependently) {
  const std::string o = out("q8.gguf");
  ASSERT_EQ(quantize(fixture("llama-f32.gguf") + " " + o + " Q8_0 --quiet").exit_code, 0);
  expect_spec_valid(o);
  const test::SpecFile sf = test::spec_read(o);
  auto src = gguf::File::open(fixture("llama-f32.gguf"));
  ASSERT_TRUE(src.ok());
  std::ifstream in(o, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  auto half = [](uint16_t h) {  // IEEE binary16 -> float, normal and subnormal numbers
    const int e = (h >> 10) & 31, m = h & 1023;
    const float v = e ? std::ldexp(1.0f + m / 1024.0f, e - 15) : std::ldexp(m / 1024.0f, -14);
    return (h & 0x8000) ? -v : v;
  };
  int checked = 0;
  for (const auto& t : sf.tensors) {
    if (t.type != 8) continue;
    const gguf::TensorInfo* s = src->find_tensor(t.name);
    ASSERT_NE(s, nullptr);
    const float* x = reinterpret_cast<const float*>(s->data);
    const uint8_t* q = bytes.data() + sf.data_start + t.offset;
    for (uint64_t blk = 0; blk < s->n_elements / 32; ++blk, q += 34) {
      const float d = half(static_cast<uint16_t>(q[0] | (q[1] << 8)));
      for (int j = 0; j < 32; ++j) {
        const float v = d * static_cast<int8_t>(q[2 + j]);
        ASSERT_LE(std::fabs(v - x[blk * 32 + j]), (0.5f + 127.0f / 2048) * d + 1e-7f)
            << t.name << " block " << blk;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 15);  // 14 layer matrices + the tied token_embd
}

TEST_F(QuantizeTest, BadInputFailsClearly) {
  const std::string o = out("x.gguf");
  auto r = quantize(out("nope.gguf") + " " + o + " Q4_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nope.gguf"), std::string::npos) << r.err;
  r = quantize(fixture("llama-F16.gguf") + " " + o + " Q4_K_X");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown type 'Q4_K_X'"), std::string::npos) << r.err;
  {
    std::ofstream(out("text.gguf")) << "this is not a model\n";
  }
  r = quantize(out("text.gguf") + " " + o + " Q4_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not_gguf"), std::string::npos) << r.err;
  r = quantize(fixture("llama-F16.gguf") + " " + out("no/such/dir/x.gguf") + " Q4_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot create"), std::string::npos) << r.err;
  r = quantize(fixture("llama-F16.gguf") + " " + o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("TYPE is required"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(o));
}

// SIGINT while writing: the process dies of the signal, OUT does not exist and no temporary
// file is left in its directory.
TEST_F(QuantizeTest, InterruptLeavesNoOutput) {
  // An input big enough to take a while: a forged 2-layer model with a 32000 x 1024 F16
  // embedding, quantized with the search on one thread.
  const std::string in = out("big.gguf");
  auto fr = run_cli(NIBBLE_CLI_PATH, "forge",
                    "--preset llama-3.2-1b --vocab " +
                        test::shared_path("vocab/ggml-vocab-llama-spm.gguf") +
                        " --type F16 --layers 2 --embd 1024 --ff 2048 --heads 8 --kv-heads 2 "
                        "-o " + in + " --quiet");
  ASSERT_EQ(fr.exit_code, 0) << fr.err;
  const std::string o = out("int.gguf");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::freopen("/dev/null", "w", stderr);
    ::execl(NIBBLE_CLI_PATH, NIBBLE_CLI_PATH, "quantize", in.c_str(), o.c_str(), "Q4_K_M",
            "--threads", "1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until the temporary file exists (the write has begun), then interrupt.
  bool started = false;
  for (int i = 0; i < 5000 && !started; ++i) {
    for (auto& e : fs::directory_iterator(dir_))
      if (e.path().filename().string().rfind("int.gguf.tmp", 0) == 0) started = true;
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(started) << "the temporary file never appeared";
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "finished before the signal; status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_FALSE(fs::exists(o));
  for (auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace nibble
