// Loader errors on synthetic variations of a real fixture (rewritten with gguf::Writer): each
// broken file is rejected with the right code and a message naming the key or tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include "gguf/writer.h"
#include "model/loader.h"
#include "tests/common/platform.h"
#include "tests/common/shared_data.h"
#include "tests/model/rewrite.h"

namespace nibble {
namespace {

using test::rewrite;

Error load_error(const std::string& path, model::LoadOptions lo = {}) {
  lo.load_tokenizer = false;
  auto m = model::load_model(path, lo);
  std::remove(path.c_str());
  if (m.ok()) return Error(ErrorCode::ok, "loaded");
  return m.error();
}

TEST(Loader, LoadsFixtureConfig) {
  model::LoadOptions lo;
  auto m = model::load_model(test::shared_path("fixtures/gemma2-Q8_0.gguf"), lo);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  const auto& c = (*m)->config;
  EXPECT_EQ(c.arch->name, "gemma2");
  EXPECT_EQ(c.n_layer, 26);
  EXPECT_EQ(c.n_head_kv, 2);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.sliding_window, 8);
  EXPECT_FLOAT_EQ(c.attn_softcap, 50.0f);
  EXPECT_FLOAT_EQ(c.final_softcap, 30.0f);
  EXPECT_TRUE(c.swa_layer[0]);
  EXPECT_FALSE(c.swa_layer[1]);
  EXPECT_TRUE((*m)->tokenizer != nullptr);
  EXPECT_EQ(c.n_vocab, 4096);
}

TEST(Loader, MissingFile) {
  auto e = load_error("/nonexistent/model.gguf");
  EXPECT_NE(e.code(), ErrorCode::ok);
}

TEST(Loader, UnknownArchitecture) {
  auto p = rewrite(
      "llama-f32.gguf",
      [](const std::string& k, gguf::Writer& w) {
        if (k != "general.architecture") return false;
        w.set_string(k, "mamba");
        return true;
      },
      nullptr, "arch");
  auto e = load_error(p);
  EXPECT_EQ(e.code(), ErrorCode::unsupported_architecture);
  EXPECT_NE(e.message().find("mamba"), std::string::npos);
}

TEST(Loader, MissingKey) {
  auto p = rewrite(
      "llama-f32.gguf",
      [](const std::string& k, gguf::Writer&) { return k == "llama.block_count"; }, nullptr, "key");
  auto e = load_error(p);
  EXPECT_EQ(e.code(), ErrorCode::missing_key);
  EXPECT_NE(e.message().find("llama.block_count"), std::string::npos);
}

TEST(Loader, ZeroHeads) {
  auto p = rewrite(
      "llama-f32.gguf",
      [](const std::string& k, gguf::Writer& w) {
        if (k != "llama.attention.head_count") return false;
        w.set_u32(k, 0);
        return true;
      },
      nullptr, "heads");
  auto e = load_error(p);
  EXPECT_EQ(e.code(), ErrorCode::corrupt_metadata);
  EXPECT_NE(e.message().find("head_count"), std::string::npos);
}

TEST(Loader, MissingTensor) {
  auto p = rewrite(
      "llama-f32.gguf", nullptr,
      [](const gguf::TensorInfo& t, gguf::Writer&) { return t.name == "blk.1.ffn_up.weight"; },
      "tensor");
  auto e = load_error(p);
  EXPECT_EQ(e.code(), ErrorCode::missing_tensor);
  EXPECT_NE(e.message().find("blk.1.ffn_up.weight"), std::string::npos);
}

TEST(Loader, ShapeMismatch) {
  auto p = rewrite(
      "llama-f32.gguf", nullptr,
      [](const gguf::TensorInfo& t, gguf::Writer& w) {
        if (t.name != "blk.0.attn_k.weight") return false;
        // [256, 64] -> [64, 256]: same bytes, transposed shape.
        EXPECT_TRUE(
            w.add_tensor(std::string(t.name), t.type, {t.ne[1], t.ne[0]}, {t.data, t.n_bytes})
                .ok());
        return true;
      },
      "shape");
  auto e = load_error(p);
  EXPECT_EQ(e.code(), ErrorCode::shape_mismatch);
  EXPECT_NE(e.message().find("blk.0.attn_k.weight"), std::string::npos);
}

TEST(Loader, UncomputableTensorType) {
  // IQ2_XXS: a known GGUF type nibble has no kernel for (if the kernels ever support it, the
  // file must load instead).
  const auto& kt = kernels::KernelTable::get();
  auto p = rewrite(
      "llama-f32.gguf", nullptr,
      [](const gguf::TensorInfo& t, gguf::Writer& w) {
        if (t.name != "blk.0.attn_q.weight") return false;
        std::vector<uint8_t> bytes(256 * (256 / 256) * 66, 0);
        EXPECT_TRUE(w.add_tensor(std::string(t.name), TensorType::IQ2_XXS, {256, 256}, bytes).ok());
        return true;
      },
      "type");
  auto e = load_error(p);
  if (kt.supports(TensorType::IQ2_XXS)) {
    EXPECT_EQ(e.code(), ErrorCode::ok) << e.message();
  } else {
    EXPECT_EQ(e.code(), ErrorCode::unsupported_tensor_type);
    EXPECT_NE(e.message().find("unsupported tensor type IQ2_XXS"), std::string::npos);
    EXPECT_NE(e.message().find("blk.0.attn_q.weight"), std::string::npos);
  }
}

TEST(Loader, ProgressAndCancel) {
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  float last = -1;
  int calls = 0;
  lo.progress = [&](float p) {
    EXPECT_GE(p, last);
    last = p;
    ++calls;
    return true;
  };
  auto m = model::load_model(test::shared_path("fixtures/llama-Q8_0.gguf"), lo);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_GT(calls, 5);
  EXPECT_LE(last, 1.0f);
  lo.progress = [](float p) { return p < 0.3f; };
  auto c = model::load_model(test::shared_path("fixtures/llama-Q8_0.gguf"), lo);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::cancelled);
}

}  // namespace
}  // namespace nibble

namespace nibble {
namespace {

// Repacked matrices (kernels with a load-time layout, docs/kernels-lut.md) are owned copies,
// never views of the mapping, and weight_bytes counts the copies' size instead of the GGUF
// bytes they replace. TQ1_0 keeps its own bytes where the t3x16 kernels run (AVX-512 VNNI,
// decision 38: the file's size, up to whole 16-row groups) and grows elsewhere (the 2-bit
// layouts: 1.6875 -> 2.0625 bpw).
TEST(Loader, RepackedWeightsAreOwnedAndCounted) {
  const std::string path = test::shared_path("fixtures/llama-TQ1_0.gguf");
  model::LoadOptions plain_opts, packed_opts;
  plain_opts.isa_cap = kernels::Isa::scalar;  // the references: GGUF layout only
  plain_opts.load_tokenizer = packed_opts.load_tokenizer = false;
  auto plain = model::load_model(path, plain_opts);
  auto packed = model::load_model(path, packed_opts);
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  ASSERT_TRUE(packed.ok()) << packed.error().to_string();
  int64_t n_repacked = 0, delta = 0;
  auto visit = [&](const model::Matrix& m) {
    if (!m.present() || !m.w.repacked()) return;
    ++n_repacked;
    const auto info = tensor_type_info(m.w.type);
    const int64_t gguf = m.w.cols / info.block_size * info.type_size * m.w.rows;
    delta += static_cast<int64_t>(m.w.bytes) - gguf;
    EXPECT_EQ(m.w.data, m.w.owned.get());
    const int64_t groups16 = (m.w.rows + 15) / 16 * 16 * (m.w.cols / info.block_size);
    if (m.w.type != TensorType::TQ1_0) return;  // the Q6_K output head keeps its size
    if (std::string(m.w.kernel).find("t3x16") != std::string::npos)
      EXPECT_EQ(static_cast<int64_t>(m.w.bytes), groups16 * info.type_size) << m.w.kernel;
    else
      EXPECT_GT(static_cast<int64_t>(m.w.bytes), gguf) << m.w.kernel;
  };
  for (const auto& l : (*packed)->layers)
    for (const model::Matrix* m :
         {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_gate_up, &l.ffn_down})
      visit(*m);
  visit((*packed)->output);
  for (const auto& l : (*plain)->layers) EXPECT_FALSE(l.wq.w.repacked());
  if (n_repacked == 0) GTEST_SKIP() << "no kernel with a packed layout for TQ1_0 on this CPU";
  EXPECT_EQ(static_cast<int64_t>((*packed)->weight_bytes - (*plain)->weight_bytes), delta);
}

// ---- RoPE scaling keys and factor tensors: what nibble cannot compute is refused by name ----

// `src` with extra rope.scaling keys (string "type" or numbers) and optionally a tensor dropped
// or a factor overwritten.
struct RopeEdit {
  std::vector<std::pair<std::string, std::string>> strings;
  std::vector<std::pair<std::string, float>> floats;
  std::string drop_tensor;
  std::string zero_tensor;  // first value set to 0
};
Error rope_load_error(const std::string& src, const std::string& arch, const RopeEdit& e,
                      const std::string& tag) {
  auto p = rewrite(
      src, nullptr,
      [&](const gguf::TensorInfo& t, gguf::Writer& w) {
        if (t.name == e.drop_tensor) return true;
        if (t.name != e.zero_tensor) return false;
        std::vector<float> v(t.n_elements);
        std::memcpy(v.data(), t.data, v.size() * 4);
        v[0] = 0.0f;
        EXPECT_TRUE(w.add_tensor(std::string(t.name), t.type, {t.ne[0]},
                                 {reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4})
                        .ok());
        return true;
      },
      tag,
      [&](gguf::Writer& w) {
        for (const auto& [k, v] : e.strings) w.set_string(arch + ".rope.scaling." + k, v);
        for (const auto& [k, v] : e.floats) w.set_f32(arch + ".rope.scaling." + k, v);
      });
  return load_error(p);
}

TEST(Loader, RopeScalingRefusals) {
  struct Case {
    const char* src;
    const char* arch;
    RopeEdit edit;
    ErrorCode code;
    const char* names;  // substring of the message
  };
  const Case cases[] = {
      {"qwen2-F16.gguf",
       "qwen2",
       {{{"type", "dynamic"}}, {{"factor", 2}}, "", ""},
       ErrorCode::unsupported_architecture,
       "qwen2.rope.scaling.type"},
      {"qwen2-F16.gguf",
       "qwen2",
       {{{"type", "yarn"}}, {}, "", ""},
       ErrorCode::missing_key,
       "qwen2.rope.scaling.factor"},
      {"qwen2-F16.gguf",
       "qwen2",
       {{{"type", "linear"}}, {{"factor", 0}}, "", ""},
       ErrorCode::corrupt_metadata,
       "qwen2.rope.scaling.factor"},
      {"qwen2-F16.gguf",
       "qwen2",
       {{{"type", "yarn"}}, {{"factor", 4}, {"attn_factor", NAN}}, "", ""},
       ErrorCode::corrupt_metadata,
       "qwen2.rope.scaling.attn_factor"},
      {"qwen2-F16.gguf",
       "qwen2",
       {{{"type", "yarn"}}, {{"factor", 4}, {"yarn_log_multiplier", 0.1f}}, "", ""},
       ErrorCode::unsupported_architecture,
       "yarn_log_multiplier"},
      {"qwen2-F16.gguf",
       "qwen2",
       {{{"type", "yarn"}}, {{"factor", 4}, {"yarn_beta_fast", 1}, {"yarn_beta_slow", 32}}, "", ""},
       ErrorCode::corrupt_metadata,
       "yarn_beta"},
      {"llama-F16.gguf",
       "llama",
       {{{"type", "longrope"}}, {}, "", ""},
       ErrorCode::missing_tensor,
       "rope_factors_long.weight"},
      {"phi3long-Q8_0.gguf",
       "phi3",
       {{}, {}, "rope_factors_short.weight", ""},
       ErrorCode::missing_tensor,
       "rope_factors_short.weight"},
      {"phi3long-Q8_0.gguf",
       "phi3",
       {{{"type", "yarn"}}, {{"factor", 4}}, "", ""},
       ErrorCode::unsupported_architecture,
       "yarn"},
      {"phi3long-Q8_0.gguf",
       "phi3",
       {{}, {}, "", "rope_factors_long.weight"},
       ErrorCode::corrupt_metadata,
       "rope_factors_long.weight"},
      {"llama3rope-F16.gguf",
       "llama",
       {{{"type", "yarn"}}, {{"factor", 4}}, "", ""},
       ErrorCode::unsupported_architecture,
       "rope_freqs.weight"},
      {"llama3rope-F16.gguf",
       "llama",
       {{}, {}, "", "rope_freqs.weight"},
       ErrorCode::corrupt_metadata,
       "rope_freqs.weight"},
  };
  int i = 0;
  for (const Case& c : cases) {
    auto e = rope_load_error(c.src, c.arch, c.edit, "rope" + std::to_string(i++));
    EXPECT_EQ(e.code(), c.code) << c.src << ": " << e.to_string();
    EXPECT_NE(e.message().find(c.names), std::string::npos) << e.to_string();
  }
}

// The attention factor of LongRoPE comes from the key, else from its definition; YaRN's default
// is 0.1 ln(factor) + 1.
TEST(Loader, RopeAttentionFactor) {
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  auto m = model::load_model(test::shared_path("fixtures/phi3long-Q8_0.gguf"), lo);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_TRUE((*m)->config.rope_attn_factor_key);
  EXPECT_NEAR((*m)->config.rope_attn_factor, 1.190238, 1e-6);
  auto p = rewrite(
      "phi3long-Q8_0.gguf",
      [](const std::string& k, gguf::Writer&) { return k == "phi3.rope.scaling.attn_factor"; },
      nullptr, "rope_attn");
  auto d = model::load_model(p, lo);
  std::remove(p.c_str());
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_FALSE((*d)->config.rope_attn_factor_key);
  // sqrt(1 + ln(131072 / 4096) / ln(4096))
  EXPECT_NEAR((*d)->config.rope_attn_factor, std::sqrt(1.0 + std::log(32.0) / std::log(4096.0)),
              1e-6);
  auto y = rewrite("qwen2-F16.gguf", nullptr, nullptr, "rope_yarn", [](gguf::Writer& w) {
    w.set_string("qwen2.rope.scaling.type", "yarn");
    w.set_f32("qwen2.rope.scaling.factor", 4.0f);
    w.set_u32("qwen2.rope.scaling.original_context_length", 32768);
  });
  auto ym = model::load_model(y, lo);
  std::remove(y.c_str());
  ASSERT_TRUE(ym.ok()) << ym.error().to_string();
  EXPECT_EQ((*ym)->config.rope_scaling, model::RopeScaling::yarn);
  EXPECT_EQ((*ym)->config.rope_ctx_orig, 32768);
  EXPECT_NEAR((*ym)->config.rope_attn_factor, 0.1 * std::log(4.0) + 1.0, 1e-6);
}

}  // namespace
}  // namespace nibble
