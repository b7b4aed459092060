// Long-context correctness: each architecture's fixture runs NIBBLE_LONG_POSITIONS positions
// (context shift off: the context holds them all) and its logits at the last positions are
// compared, over the whole vocabulary, with the float reference path (reference_forward.h:
// f32 activations, f32 KV cache, RoPE frequencies computed here from their definitions). The
// q8_0 KV cache is compared with the f16 one at the same positions. The same machinery checks
// the RoPE scalings: YaRN and linear on fixtures rewritten with the scaling keys, and Phi-3
// LongRoPE's short/long factor choice by context size.
//
// The default build runs 320 positions (beyond every fixture's sliding window and the golden
// prompts' ~40); model_long_context_slow_test (label slow) runs 3000.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <ostream>
#include <string>
#include <vector>

#include "graph/context.h"
#include "kernels/kernels.h"
#include "model/loader.h"
#include "model/rope.h"
#include "nibble/log.h"
#include "tests/common/shared_data.h"
#include "tests/model/reference_forward.h"
#include "tests/model/rewrite.h"

#ifndef NIBBLE_LONG_POSITIONS
#define NIBBLE_LONG_POSITIONS 320
#endif

namespace nibble {
namespace {

// NIBBLE_LONG_POSITIONS in the environment overrides the build's count (measurements).
const int kPositions = [] {
  const char* e = std::getenv("NIBBLE_LONG_POSITIONS");
  const int n = e ? std::atoi(e) : 0;
  return n >= 8 && n <= 4096 ? n : NIBBLE_LONG_POSITIONS;
}();
constexpr int kLate = 4;  // positions compared: the last kLate ones

// ---- RoPE from the definitions (independent of src/model/rope.cpp) -------------------------

// YaRN as Hugging Face transformers defines it (_compute_yarn_parameters): per pair i, the
// inverse frequency blends interpolation (base^(-2i/d) / factor) and extrapolation
// (base^(-2i/d)) with weight 1 - ramp(i), where ramp rises linearly from the pair whose
// wavelength turns beta_fast times in the original context to the one turning beta_slow times
// (floored / ceiled, clamped to [0, d - 1]); the attention factor is 0.1 ln(factor) + 1 unless
// given.
test::RefRope yarn_rope(int64_t d, double base, double factor, double orig, double beta_fast,
                        double beta_slow, double attn_factor /* <= 0: default */) {
  auto corr = [&](double rot) {
    return d * std::log(orig / (rot * 2.0 * std::numbers::pi)) / (2.0 * std::log(base));
  };
  double low = std::max(0.0, std::floor(corr(beta_fast)));
  double high = std::min(static_cast<double>(d - 1), std::ceil(corr(beta_slow)));
  if (low == high) high += 0.001;
  test::RefRope r;
  for (int64_t i = 0; i < d / 2; ++i) {
    const double pos_freq = std::pow(base, 2.0 * i / d);
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    const double extrap_w = 1.0 - ramp;
    r.inv_freq.push_back(1.0 / (factor * pos_freq) * (1.0 - extrap_w) + 1.0 / pos_freq * extrap_w);
  }
  r.mscale = attn_factor > 0 ? attn_factor : (factor > 1 ? 0.1 * std::log(factor) + 1.0 : 1.0);
  return r;
}

// Per layer RoPE of a file for a session of n_ctx, from its keys and tensors.
std::vector<test::RefRope> reference_rope(const gguf::File& f, const model::Config& c,
                                          int64_t n_ctx) {
  const std::string p = c.arch_name + ".rope.";
  const std::string type(f.get_string_or(p + "scaling.type", "").value());
  const double factor = f.get_float_or(p + "scaling.factor", 1.0).value();
  const double train =
      static_cast<double>(f.get_uint_or(c.arch_name + ".context_length", 0).value());
  const double orig =
      static_cast<double>(f.get_uint_or(p + "scaling.original_context_length", 0).value());
  const double attn = f.get_float_or(p + "scaling.attn_factor", 0.0).value();
  const double base = f.get_float_or(p + "freq_base", 10000.0).value();
  test::RefRope global;
  if (f.find_tensor("rope_factors_long.weight")) {
    // Phi-3 LongRoPE: long factors only when the context exceeds the original one; the
    // attention factor is sqrt(1 + ln(train / orig) / ln(orig)) unless the file states it.
    const bool use_long = static_cast<double>(n_ctx) > orig;
    global = test::plain_rope(
        c.n_rot, base, 1.0,
        test::read_vector(f, use_long ? "rope_factors_long.weight" : "rope_factors_short.weight"));
    global.mscale = attn > 0 ? attn : std::sqrt(1.0 + std::log(train / orig) / std::log(orig));
  } else if (type == "yarn") {
    global = yarn_rope(c.n_rot, base, factor, orig,
                       f.get_float_or(p + "scaling.yarn_beta_fast", 32).value(),
                       f.get_float_or(p + "scaling.yarn_beta_slow", 1).value(), attn);
  } else {
    global = test::plain_rope(c.n_rot, base, type == "none" ? 1.0 : 1.0 / factor,
                              test::read_vector(f, "rope_freqs.weight"));
    if (attn > 0) global.mscale = attn;
  }
  std::vector<test::RefRope> out;
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const bool gemma3_local = c.arch->local_rope_plain && c.swa_layer[il];
    out.push_back(gemma3_local ? test::plain_rope(c.n_rot, 10000.0, 1.0) : global);
  }
  return out;
}

// ---- runs -------------------------------------------------------------------------------------

std::vector<Token> token_stream(int n, int64_t n_vocab) {
  std::vector<Token> t(static_cast<size_t>(n));
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (auto& x : t) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<Token>((s >> 33) % static_cast<uint64_t>(n_vocab));
  }
  return t;
}

// Logits of the last kLate positions (kLate x n_vocab).
std::vector<std::vector<float>> engine_logits(std::shared_ptr<const model::LoadedModel> m,
                                              const std::vector<Token>& toks, int n_ctx,
                                              bool kv_q8) {
  graph::ContextOptions co;
  co.n_ctx = n_ctx;
  co.n_threads = 2;
  co.kv_q8_0 = kv_q8;
  auto ctx = graph::create_context(m, co);
  EXPECT_TRUE(ctx.ok()) << ctx.error().to_string();
  if (!ctx.ok()) return {};
  const size_t split = toks.size() - kLate;
  EXPECT_TRUE((*ctx)->eval({toks.data(), split}, false).ok());
  EXPECT_TRUE((*ctx)->eval({toks.data() + split, static_cast<size_t>(kLate)}, true).ok());
  std::vector<std::vector<float>> out;
  for (int i = 0; i < kLate; ++i) {
    auto lg = (*ctx)->logits(i);
    out.emplace_back(lg.begin(), lg.end());
  }
  return out;
}

std::vector<std::vector<float>> reference_logits(const gguf::File& f, const model::Config& c,
                                                 std::vector<test::RefRope> rope,
                                                 const std::vector<Token>& toks) {
  test::RefForward ref(f, c, std::move(rope), static_cast<int>(toks.size()));
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < toks.size(); ++i) {
    auto lg = ref.step(toks[i], i + kLate >= toks.size());
    if (!lg.empty()) out.push_back(std::move(lg));
  }
  return out;
}

double max_diff(const std::vector<std::vector<float>>& a,
                const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size() || a.empty()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return INFINITY;
    for (size_t j = 0; j < a[i].size(); ++j)
      m = std::max(m, static_cast<double>(std::fabs(a[i][j] - b[i][j])));
  }
  return m;
}

double mean_diff(const std::vector<std::vector<float>>& a,
                 const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size() || a.empty()) return INFINITY;
  double s = 0;
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return INFINITY;
    for (size_t j = 0; j < a[i].size(); ++j, ++n) s += std::fabs(a[i][j] - b[i][j]);
  }
  return s / static_cast<double>(n);
}

struct Loaded {
  std::shared_ptr<const model::LoadedModel> model;
  std::shared_ptr<const gguf::File> file;
};
Loaded load(const std::string& path) {
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  auto m = model::load_model(path, lo);
  EXPECT_TRUE(m.ok()) << path << ": " << (m.ok() ? "" : m.error().to_string());
  if (!m.ok()) return {};
  return {*m, (*m)->file};
}

// The fixture with its 8-bit matrices converted to F16 (Q8_0 values d * q round to f16 within
// 2^-11 relative): the engine then keeps activations in f16 / f32 like for the F16 fixtures,
// so what remains of the comparison is the engine's arithmetic, not 8-bit activation noise.
bool to_f16(const gguf::TensorInfo& t, gguf::Writer& w) {
  if (t.type != TensorType::Q8_0) return false;
  const auto& k = kernels::KernelTable::get(kernels::Isa::scalar);
  std::vector<float> f(static_cast<size_t>(t.n_elements));
  k.dequantize(t.type, t.data, f.data(), static_cast<int64_t>(f.size()));
  std::vector<uint16_t> h(f.size());
  k.f32_to_f16(f.data(), h.data(), static_cast<int64_t>(f.size()));
  std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
  EXPECT_TRUE(w.add_tensor(std::string(t.name), TensorType::F16, ne,
                           {reinterpret_cast<const uint8_t*>(h.data()), h.size() * 2})
                  .ok());
  return true;
}

std::string as_f16(const std::string& fixture, const std::string& tag) {
  return test::rewrite(fixture, nullptr, to_f16, tag);
}

// ---- every architecture at late positions -----------------------------------------------------

struct LongCase {
  const char* fixture;
  bool to_f16;  // run the F16 conversion of an 8-bit fixture (as_f16)
  // Bounds on |engine (f16 KV) - float reference| over the whole vocabulary at the late
  // positions: max and mean. The engine rounds q, K, V and the attention probabilities to f16
  // and, for F16 weights, the activations meeting them; docs/engine.md ("Long-context test")
  // has the measurements.
  double tol, tol_mean;
  // Bounds on |q8_0 KV - f16 KV| at the same positions: max and mean.
  double q8_tol, q8_mean;
};

const LongCase kLongCases[] = {
    {"llama-F16.gguf", false, 0.15, 0.02, 1.5, 0.25},
    {"llama3rope-F16.gguf", false, 0.15, 0.02, 1.5, 0.25},
    {"qwen2-F16.gguf", false, 0.15, 0.02, 1.5, 0.25},
    {"qwen3-F16.gguf", false, 0.15, 0.02, 1.5, 0.25},
    {"gemma2-F16.gguf", false, 0.15, 0.02, 1.5, 0.25},
    {"gemma3-F16.gguf", false, 0.15, 0.02, 1.5, 0.25},
    {"phi3-Q8_0.gguf", true, 0.15, 0.02, 1.5, 0.25},
    {"phi3long-Q8_0.gguf", true, 0.15, 0.02, 1.5, 0.25},
    {"bitnet-F16.gguf", false, 0.15, 0.02, 1.5, 0.25},
};

void PrintTo(const LongCase& c, std::ostream* os) { *os << c.fixture; }

class LongContext : public ::testing::TestWithParam<LongCase> {};

TEST_P(LongContext, LateLogitsMatchFloatReference) {
  const LongCase& lc = GetParam();
  std::string tmp;
  if (lc.to_f16) tmp = as_f16(lc.fixture, "long_f16");
  Loaded l = load(lc.to_f16 ? tmp : test::shared_path(std::string("fixtures/") + lc.fixture));
  if (!tmp.empty()) std::remove(tmp.c_str());
  ASSERT_TRUE(l.model);
  const model::Config& c = l.model->config;
  const auto toks = token_stream(kPositions, c.n_vocab);
  const auto ours = engine_logits(l.model, toks, kPositions, false);
  const auto ref = reference_logits(*l.file, c, reference_rope(*l.file, c, kPositions), toks);
  const double err = max_diff(ours, ref), err_mean = mean_diff(ours, ref);
  EXPECT_LE(err, lc.tol) << lc.fixture << " at positions " << kPositions - kLate << ".."
                         << kPositions - 1;
  EXPECT_LE(err_mean, lc.tol_mean) << lc.fixture;
  // Same top-1 wherever the reference's top-1 / top-2 margin is clear.
  for (int i = 0; i < kLate && i < static_cast<int>(ref.size()); ++i) {
    std::vector<float> r = ref[i];
    const int top = static_cast<int>(std::max_element(r.begin(), r.end()) - r.begin());
    std::nth_element(r.begin(), r.begin() + 1, r.end(), std::greater<float>());
    if (r[0] - r[1] > 2 * lc.tol) {
      const auto& o = ours[i];
      EXPECT_EQ(std::max_element(o.begin(), o.end()) - o.begin(), top) << lc.fixture;
    }
  }
  double err_q8 = 0, err_q8_mean = 0;
  ASSERT_EQ(c.head_dim % 32, 0) << "every fixture's heads fit q8_0 blocks";
  const auto q8 = engine_logits(l.model, toks, kPositions, true);
  err_q8 = max_diff(q8, ours);
  err_q8_mean = mean_diff(q8, ours);
  EXPECT_LE(err_q8, lc.q8_tol) << lc.fixture << ": q8_0 KV cache vs f16";
  EXPECT_LE(err_q8_mean, lc.q8_mean) << lc.fixture << ": q8_0 KV cache vs f16 (mean)";
  std::printf(
      "[long] %-20s %d positions: engine vs float reference max %.4f mean %.5f; q8_0 KV "
      "vs f16 KV max %.4f mean %.4f\n",
      lc.fixture, kPositions, err, err_mean, err_q8, err_q8_mean);
}

std::string long_case_name(const ::testing::TestParamInfo<LongCase>& info) {
  std::string n = info.param.fixture;
  n = n.substr(0, n.find(".gguf"));
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

// The slow build (NIBBLE_LONG_SLOW) names its instances differently, since ctest lists both
// binaries' tests, and leaves out the tests that do not depend on the position count.
#ifdef NIBBLE_LONG_SLOW
INSTANTIATE_TEST_SUITE_P(Slow, LongContext, ::testing::ValuesIn(kLongCases), long_case_name);
#else
INSTANTIATE_TEST_SUITE_P(Fixtures, LongContext, ::testing::ValuesIn(kLongCases), long_case_name);

// ---- Phi-3 LongRoPE: short or long factors by the session's context size ---------------------

TEST(LongRope, FactorSetFollowsContextSize) {
  const std::string tmp = as_f16("phi3long-Q8_0.gguf", "longrope_f16");
  Loaded l = load(tmp);
  std::remove(tmp.c_str());
  ASSERT_TRUE(l.model);
  const model::Config& c = l.model->config;
  EXPECT_EQ(c.rope_scaling, model::RopeScaling::longrope);
  EXPECT_EQ(c.rope_ctx_orig, 4096);
  // Up to and including the original context: short; beyond it: long.
  EXPECT_FALSE(model::session_rope(*l.model, 512).long_factors);
  EXPECT_FALSE(model::session_rope(*l.model, 4096).long_factors);
  EXPECT_TRUE(model::session_rope(*l.model, 4097).long_factors);
  EXPECT_TRUE(model::session_rope(*l.model, 8192).long_factors);
  EXPECT_EQ(model::session_rope(*l.model, 8192).global.factors, l.model->rope_factors_long);
  EXPECT_EQ(model::session_rope(*l.model, 512).global.factors, l.model->rope_factors_short);

  // Creating a context logs the choice (info level).
  std::vector<std::string> lines;
  const LogLevel level = log_level();
  set_log_level(LogLevel::info);
  set_log_handler([&](LogLevel, std::string_view m) { lines.emplace_back(m); });
  for (int n_ctx : {4096, 8192}) {
    graph::ContextOptions co;
    co.n_ctx = n_ctx;
    co.n_threads = 1;
    EXPECT_TRUE(graph::create_context(l.model, co).ok());
  }
  set_log_handler(nullptr);
  set_log_level(level);
  auto logged = [&](const std::string& what) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& m) { return m.find(what) != std::string::npos; });
  };
  EXPECT_TRUE(logged("LongRoPE short factors (n_ctx 4096 <= original context 4096)"));
  EXPECT_TRUE(logged("LongRoPE long factors (n_ctx 8192 > original context 4096)"));
  EXPECT_TRUE(logged("attention factor 1.19024"));

  // Through the executor: a session of 8192 must compute what the reference computes with the
  // long factors, a session of 512 what it computes with the short ones, and the two
  // references must differ by far more than the bound (else this proves nothing).
  const int n = std::min(kPositions, 512);
  const auto toks = token_stream(n, c.n_vocab);
  const auto ref_short = reference_logits(*l.file, c, reference_rope(*l.file, c, 512), toks);
  const auto ref_long = reference_logits(*l.file, c, reference_rope(*l.file, c, 8192), toks);
  const auto ours_short = engine_logits(l.model, toks, 512, false);
  const auto ours_long = engine_logits(l.model, toks, 8192, false);
  const double gap = max_diff(ref_short, ref_long);
  EXPECT_GT(gap, 2.0);
  EXPECT_LE(max_diff(ours_short, ref_short), 0.15);
  EXPECT_LE(max_diff(ours_long, ref_long), 0.15);
  std::printf(
      "[longrope] n_ctx 512 vs short reference %.4f, n_ctx 8192 vs long reference %.4f; "
      "short vs long references differ by %.3f\n",
      max_diff(ours_short, ref_short), max_diff(ours_long, ref_long), gap);
}

#endif  // NIBBLE_LONG_SLOW

// ---- YaRN and linear scaling on rewritten fixtures ---------------------------------------------

struct ScalingCase {
  const char* name;
  const char* fixture;
  const char* arch;
  std::vector<std::pair<std::string, double>> keys;  // rope.scaling.* numeric keys
  const char* type;
  double tol;
};

void PrintTo(const ScalingCase& c, std::ostream* os) { *os << c.name; }

class RopeScalingFixture : public ::testing::TestWithParam<ScalingCase> {};

TEST_P(RopeScalingFixture, MatchesReferenceFormulas) {
  const ScalingCase& sc = GetParam();
  const std::string a = sc.arch;
  // A small original context (64) puts YaRN's ramp inside the 16 rotated pairs and lets the
  // run go past original context x factor.
  const std::string path = test::rewrite(
      sc.fixture,
      [&](const std::string& k, gguf::Writer& w) {
        if (k == a + ".rope.freq_base") {
          w.set_f32(k, 10000.0f);
          return true;
        }
        return false;
      },
      nullptr, sc.name,
      [&](gguf::Writer& w) {
        w.set_string(a + ".rope.scaling.type", sc.type);
        for (const auto& [k, v] : sc.keys) {
          if (k == "original_context_length")
            w.set_u32(a + ".rope.scaling." + k, static_cast<uint32_t>(v));
          else
            w.set_f32(a + ".rope.scaling." + k, static_cast<float>(v));
        }
      });
  Loaded l = load(path);
  std::remove(path.c_str());
  ASSERT_TRUE(l.model);
  const model::Config& c = l.model->config;
  const auto toks = token_stream(kPositions, c.n_vocab);
  const auto rope = reference_rope(*l.file, c, kPositions);
  const auto ref = reference_logits(*l.file, c, rope, toks);
  const auto ours = engine_logits(l.model, toks, kPositions, false);
  // The scaled reference must differ from the unscaled one, or the test could not tell.
  const auto plain = reference_logits(
      *l.file, c, std::vector<test::RefRope>(c.n_layer, test::plain_rope(c.n_rot, 10000.0, 1.0)),
      toks);
  const double err = max_diff(ours, ref), gap = max_diff(plain, ref);
  EXPECT_LE(err, sc.tol) << sc.name;
  EXPECT_GT(gap, 5 * sc.tol) << sc.name << ": scaling changes too little to be tested here";
  std::printf(
      "[rope-scaling] %-22s engine vs reference %.4f (bound %.2f); unscaled differs by "
      "%.3f\n",
      sc.name, err, sc.tol, gap);
}

const ScalingCase kScalingCases[] = {
    {"yarn_defaults",
     "qwen2-F16.gguf",
     "qwen2",
     {{"factor", 4.0}, {"original_context_length", 64}},
     "yarn",
     0.1},
    {"yarn_betas_attn_factor",
     "qwen2-F16.gguf",
     "qwen2",
     {{"factor", 8.0},
      {"original_context_length", 64},
      {"yarn_beta_fast", 16.0},
      {"yarn_beta_slow", 2.0},
      {"attn_factor", 1.1}},
     "yarn",
     0.1},
    {"yarn_llama_pairs",
     "llama-F16.gguf",
     "llama",
     {{"factor", 4.0}, {"original_context_length", 64}},
     "yarn",
     0.1},
    {"linear", "qwen2-F16.gguf", "qwen2", {{"factor", 2.0}}, "linear", 0.1},
    // gemma3: the global layers scale, the sliding-window ones (base 10000) do not.
    {"linear_gemma3_global", "gemma3-F16.gguf", "gemma3", {{"factor", 8.0}}, "linear", 0.1},
};

std::string scaling_case_name(const ::testing::TestParamInfo<ScalingCase>& info) {
  return info.param.name;
}

#ifdef NIBBLE_LONG_SLOW
INSTANTIATE_TEST_SUITE_P(RewrittenSlow, RopeScalingFixture, ::testing::ValuesIn(kScalingCases),
                         scaling_case_name);
#else
INSTANTIATE_TEST_SUITE_P(Rewritten, RopeScalingFixture, ::testing::ValuesIn(kScalingCases),
                         scaling_case_name);

// The YaRN weights the engine computes against the definition above.
TEST(Yarn, ExtrapolationWeightsMatchDefinition) {
  for (double base : {10000.0, 1e6})
    for (int64_t orig : {64, 4096, 32768}) {
      const auto r = model::yarn_extrapolation(128, static_cast<float>(base), orig, 32.0f, 1.0f);
      const auto ref = yarn_rope(128, base, 4.0, static_cast<double>(orig), 32, 1, 0);
      ASSERT_EQ(r.size(), ref.inv_freq.size());
      for (size_t i = 0; i < r.size(); ++i) {
        const double pf = std::pow(base, 2.0 * static_cast<double>(i) / 128.0);
        const double want = ref.inv_freq[i];
        const double got = 1.0 / pf * (0.25 * (1.0 - r[i]) + r[i]);
        EXPECT_NEAR(got / want, 1.0, 1e-5) << "base " << base << " orig " << orig << " pair " << i;
      }
    }
}

// ---- context shift with scaled RoPE
// --------------------------------------------------------------

// In a one-layer model the cached K/V of a token depend only on the token and its position, so
// a context shift must give what a fresh context computes for the kept tokens: the moved keys'
// re-rotation (with the session's frequency factors, and without applying the attention factor
// a second time) is then checked exactly, up to the f16 rounding of the cache.
TEST(Shift, OneLayerMatchesFreshContext) {
  struct Case {
    const char* fixture;
    const char* arch;
    bool yarn;
    int n_ctx;
  };
  for (const Case& k : {Case{"phi3long-Q8_0.gguf", "phi3", false, 8192},
                        Case{"phi3long-Q8_0.gguf", "phi3", false, 512},
                        Case{"llama3rope-F16.gguf", "llama", false, 512},
                        Case{"qwen2-F16.gguf", "qwen2", true, 512}}) {
    const std::string a = k.arch;
    const std::string path = test::rewrite(
        k.fixture,
        [&](const std::string& key, gguf::Writer& w) {
          if (key != a + ".block_count") return false;
          w.set_u32(key, 1);
          return true;
        },
        [](const gguf::TensorInfo& t, gguf::Writer& w) {
          // One layer; 8-bit matrices as F16 so that no activation is quantized (an 8-bit
          // rounding flip would move these logits by ~0.1 and hide what is checked).
          return (t.name.starts_with("blk.") && !t.name.starts_with("blk.0.")) || to_f16(t, w);
        },
        "shift_one_layer",
        [&](gguf::Writer& w) {
          if (!k.yarn) return;
          w.set_string(a + ".rope.scaling.type", "yarn");
          w.set_f32(a + ".rope.scaling.factor", 4.0f);
          w.set_u32(a + ".rope.scaling.original_context_length", 64);
        });
    Loaded l = load(path);
    std::remove(path.c_str());
    ASSERT_TRUE(l.model);
    ASSERT_EQ(l.model->config.n_layer, 1);
    const auto toks = token_stream(40, l.model->config.n_vocab);
    const std::vector<Token> tail{toks[3], toks[5], toks[7]};
    graph::ContextOptions co;
    co.n_ctx = k.n_ctx;
    co.n_threads = 2;
    auto shifted = graph::create_context(l.model, co);
    auto fresh = graph::create_context(l.model, co);
    ASSERT_TRUE(shifted.ok() && fresh.ok());
    ASSERT_TRUE((*shifted)->eval(toks, false).ok());
    ASSERT_TRUE((*shifted)->shift(4, 20).ok());  // keeps 0..3 and 24..39 at 0..19
    ASSERT_TRUE((*shifted)->eval(tail, true).ok());
    std::vector<Token> kept(toks.begin(), toks.begin() + 4);
    kept.insert(kept.end(), toks.begin() + 24, toks.end());
    kept.insert(kept.end(), tail.begin(), tail.end());
    ASSERT_TRUE((*fresh)->eval(kept, true).ok());
    double err = 0;
    for (int i = 0; i < 3; ++i) {
      auto x = (*shifted)->logits(i), y = (*fresh)->logits(static_cast<int>(kept.size()) - 3 + i);
      ASSERT_EQ(x.size(), y.size());
      for (size_t j = 0; j < x.size(); ++j)
        err = std::max(err, static_cast<double>(std::fabs(x[j] - y[j])));
    }
    EXPECT_LE(err, 0.05) << k.fixture << " n_ctx " << k.n_ctx << (k.yarn ? " yarn" : "");
    std::printf("[shift] %-20s n_ctx %d%s: shifted vs fresh %.5f\n", k.fixture, k.n_ctx,
                k.yarn ? " (YaRN)" : "", err);
  }
}

#endif  // NIBBLE_LONG_SLOW

}  // namespace
}  // namespace nibble
