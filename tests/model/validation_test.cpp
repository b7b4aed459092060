// Well-formed GGUF files that describe an invalid model, one case per class of hole (issue 13,
// item 6): each is built in the test from a real fixture (rewrite.h) and must be refused with
// the right code and a message naming the key or tensor and the offending value.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gguf/writer.h"
#include "graph/context.h"
#include "model/loader.h"
#include "tests/common/shared_data.h"
#include "tests/model/rewrite.h"

namespace nibble {
namespace {

using test::rewrite;

Result<std::shared_ptr<const model::LoadedModel>> load(const std::string& path) {
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  auto m = model::load_model(path, lo);
  std::remove(path.c_str());
  return m;
}

// The load error of fixtures/<src> with key `key` replaced through `set` (or removed when `set`
// is null); "loaded" when it loads.
Error key_error(const std::string& src, const std::string& key,
                const std::function<void(gguf::Writer&)>& set, const std::string& tag) {
  auto p = rewrite(
      src, [&](const std::string& k, gguf::Writer&) { return k == key; }, nullptr, tag,
      [&](gguf::Writer& w) {
        if (set) set(w);
      });
  auto m = load(p);
  return m.ok() ? Error(ErrorCode::ok, "loaded") : m.error();
}

// Every part of the message, or the whole error, for the failure output.
void expect_error(const Error& e, ErrorCode code, std::initializer_list<const char*> parts) {
  EXPECT_EQ(e.code(), code) << e.to_string();
  for (const char* part : parts)
    EXPECT_NE(e.message().find(part), std::string::npos)
        << "'" << part << "' not in " << e.to_string();
}

// f32 tensor `t` copied with values[i] = v for the given indices.
void add_edited(gguf::Writer& w, const gguf::TensorInfo& t, std::vector<size_t> at, float v) {
  ASSERT_EQ(t.type, TensorType::F32);
  std::vector<float> x(t.n_elements);
  std::memcpy(x.data(), t.data, x.size() * 4);
  for (size_t i : at) x[i] = v;
  std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
  ASSERT_TRUE(w.add_tensor(std::string(t.name), t.type, ne,
                           {reinterpret_cast<const uint8_t*>(x.data()), x.size() * 4})
                  .ok());
}

// ---- embedding rows vs the vocabulary ----

TEST(Validation, EmbeddingRowsDifferFromTokenizerPieces) {
  // 4000 of the 4096 rows (tied head: the output shrinks with them); the tokenizer keeps 4096.
  auto p = rewrite(
      "llama-f32.gguf", nullptr,
      [](const gguf::TensorInfo& t, gguf::Writer& w) {
        if (t.name != "token_embd.weight") return false;
        EXPECT_TRUE(w.add_tensor(std::string(t.name), t.type, {t.ne[0], 4000},
                                 {t.data, static_cast<size_t>(t.ne[0]) * 4000 * 4})
                        .ok());
        return true;
      },
      "embd_rows");
  auto m = load(p);
  ASSERT_FALSE(m.ok());
  expect_error(m.error(), ErrorCode::shape_mismatch,
               {"token_embd.weight", "4000", "tokenizer.ggml.tokens", "4096"});
}

TEST(Validation, EmbeddingRowsDifferFromVocabSizeKey) {
  auto e = key_error(
      "llama-f32.gguf", "llama.vocab_size",
      [](gguf::Writer& w) { w.set_u32("llama.vocab_size", 5000); }, "vocab_key");
  expect_error(e, ErrorCode::shape_mismatch, {"token_embd.weight", "5000", "llama.vocab_size"});
}

// ---- hyper-parameters out of range: refused naming key and value ----

TEST(Validation, OutOfRangeHyperparameters) {
  struct Case {
    const char* src;
    const char* key;
    float value;
    const char* shown;  // the value as the message prints it
  };
  const Case cases[] = {
      {"llama-f32.gguf", "llama.rope.scaling.factor", -2.0f, "-2"},
      {"llama-f32.gguf", "llama.rope.scaling.factor", 0.0f, "0"},
      {"llama-f32.gguf", "llama.rope.scale_linear", 0.0f, "0"},
      {"llama-f32.gguf", "llama.rope.freq_base", 0.0f, "0"},
      {"llama-f32.gguf", "llama.rope.freq_base", -10000.0f, "-10000"},
      {"llama-f32.gguf", "llama.attention.layer_norm_rms_epsilon", -1e-5f, "-1e-05"},
      {"llama-f32.gguf", "llama.attention.layer_norm_rms_epsilon", NAN, "nan"},
      {"gemma2-Q8_0.gguf", "gemma2.attn_logit_softcapping", 0.0f, "0"},
      {"gemma2-Q8_0.gguf", "gemma2.final_logit_softcapping", -30.0f, "-30"},
      {"gemma2-Q8_0.gguf", "gemma2.final_logit_softcapping", INFINITY, "inf"},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.key) + " = " + c.shown);
    auto e = key_error(
        c.src, c.key, [&](gguf::Writer& w) { w.set_f32(c.key, c.value); },
        "range" + std::to_string(i++));
    expect_error(e, ErrorCode::corrupt_metadata,
                 {c.key, (std::string(" = ") + c.shown + " is out of range").c_str()});
  }
}

TEST(Validation, InconsistentDimensionsNameKeysAndValues) {
  auto e = key_error(
      "llama-f32.gguf", "llama.rope.dimension_count",
      [](gguf::Writer& w) { w.set_u32("llama.rope.dimension_count", 33); }, "rot");
  expect_error(e, ErrorCode::corrupt_metadata, {"llama.rope.dimension_count = 33", "32"});
  e = key_error(
      "llama-f32.gguf", "llama.attention.head_count_kv",
      [](gguf::Writer& w) { w.set_u32("llama.attention.head_count_kv", 3); }, "kv");
  expect_error(e, ErrorCode::corrupt_metadata,
               {"llama.attention.head_count = 8", "llama.attention.head_count_kv = 3"});
  e = key_error(
      "llama-f32.gguf", "llama.attention.value_length",
      [](gguf::Writer& w) { w.set_u32("llama.attention.value_length", 16); }, "vlen");
  expect_error(e, ErrorCode::corrupt_metadata, {"llama.attention.value_length = 16", "32"});
  e = key_error(
      "llama-f32.gguf", "llama.block_count",
      [](gguf::Writer& w) { w.set_u32("llama.block_count", 100000); }, "blocks");
  expect_error(e, ErrorCode::corrupt_metadata, {"llama.block_count = 100000", "[1, 4096]"});
  e = key_error(
      "llama-f32.gguf", "llama.embedding_length",
      [](gguf::Writer& w) { w.set_i32("llama.embedding_length", -256); }, "neg");
  expect_error(e, ErrorCode::corrupt_metadata, {"llama.embedding_length = -256"});
}

// ---- a key of the wrong type is a type error, not a missing key ----

TEST(Validation, WrongTypedKeys) {
  struct Case {
    const char* key;
    std::function<void(gguf::Writer&)> set;
    const char* found;
  };
  const Case cases[] = {
      {"general.architecture", [](gguf::Writer& w) { w.set_u32("general.architecture", 1); },
       "u32"},
      {"llama.block_count", [](gguf::Writer& w) { w.set_string("llama.block_count", "2"); },
       "string"},
      {"llama.embedding_length",
       [](gguf::Writer& w) { w.set_f32("llama.embedding_length", 256.0f); }, "f32"},
      {"llama.rope.freq_base", [](gguf::Writer& w) { w.set_u32("llama.rope.freq_base", 10000); },
       "u32"},
      {"llama.rope.scaling.type", [](gguf::Writer& w) { w.set_u32("llama.rope.scaling.type", 1); },
       "u32"},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    auto e = key_error("llama-f32.gguf", c.key, c.set, "type" + std::to_string(i++));
    expect_error(e, ErrorCode::type_mismatch, {c.key, c.found});
  }
}

// ---- tensors the architecture does not have are refused, not ignored ----

TEST(Validation, UnusedBiasAndNormTensors) {
  const std::vector<float> ones(256, 1.0f);
  for (const char* name : {"output_norm.bias", "blk.0.attn_sub_norm.weight"}) {
    SCOPED_TRACE(name);
    auto p = rewrite("llama-f32.gguf", nullptr, nullptr, "unused", [&](gguf::Writer& w) {
      EXPECT_TRUE(w.add_tensor(name, TensorType::F32, {256},
                               {reinterpret_cast<const uint8_t*>(ones.data()), 256 * 4})
                      .ok());
    });
    auto m = load(p);
    ASSERT_FALSE(m.ok());
    expect_error(m.error(), ErrorCode::unsupported_architecture, {name, "llama"});
  }
}

// ---- NaN / Inf in weights ----

TEST(Validation, NonFiniteNormWeightsRefusedAtLoad) {
  for (float bad : {NAN, INFINITY}) {
    auto p = rewrite(
        "llama-f32.gguf", nullptr,
        [&](const gguf::TensorInfo& t, gguf::Writer& w) {
          if (t.name != "blk.1.ffn_norm.weight") return false;
          add_edited(w, t, {7}, bad);
          return true;
        },
        "nan_norm");
    auto m = load(p);
    ASSERT_FALSE(m.ok());
    expect_error(m.error(), ErrorCode::corrupt_metadata,
                 {"blk.1.ffn_norm.weight", std::isnan(bad) ? "nan" : "inf", "index 7"});
  }
}

// NaN in an embedding row or a matrix passes the load (scanning every weight would cost a pass
// over the file) but the first logits that it reaches are refused by name.
TEST(Validation, NonFiniteWeightsRefusedAtFirstLogits) {
  struct Case {
    const char* tensor;
    size_t index;
  };
  // token_embd row 5 (the tied head too); one weight of blk.0.ffn_down.
  for (const Case& c :
       {Case{"token_embd.weight", 5 * 256 + 3}, Case{"blk.0.ffn_down.weight", 100}}) {
    SCOPED_TRACE(c.tensor);
    auto p = rewrite(
        "llama-f32.gguf", nullptr,
        [&](const gguf::TensorInfo& t, gguf::Writer& w) {
          if (t.name != c.tensor) return false;
          add_edited(w, t, {c.index}, NAN);
          return true;
        },
        "nan_matrix");
    auto m = load(p);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    graph::ContextOptions o;
    o.n_ctx = 16;
    o.n_threads = 1;
    auto ctx = graph::create_context(*m, o);
    ASSERT_TRUE(ctx.ok()) << ctx.error().to_string();
    const Token prompt[] = {1, 5, 9};
    auto st = (*ctx)->eval(prompt, false, nullptr);
    ASSERT_FALSE(st.ok());
    expect_error(st.error(), ErrorCode::corrupt_metadata, {"non-finite logit", "NaN or Inf"});
    EXPECT_EQ((*ctx)->n_past(), 0);
    EXPECT_TRUE((*ctx)->logits(-1).empty());
  }
}

}  // namespace
}  // namespace nibble
