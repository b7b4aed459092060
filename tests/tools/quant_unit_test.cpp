// The quantization module (src/quant): per-tensor rules of the named mixes, the row quantizers
// (error-minimising search vs the reference), and the writer's temp-file handling.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "kernels/ref/ref.h"
#include "quant/mix.h"
#include "quant/row.h"
#include "quant/writer.h"

namespace nibble::quant {
namespace {

using T = TensorType;

// A 32-layer llama with GQA 4 (like an 8B): the layer pattern of use_more_bits is visible.
ModelShape llama32() {
  ModelShape s;
  s.arch = "llama";
  s.n_layer = 32;
  s.n_head = 32;
  s.n_head_kv = 8;
  s.has_output = true;
  s.n_attn_v = 32;
  return s;
}

T type_of(const char* mix, const ModelShape& s, const std::string& name,
          std::vector<uint64_t> ne, int i_attn_v = 0) {
  auto m = parse_mix(mix);
  EXPECT_TRUE(m.has_value()) << mix;
  return choose_type(*m, s, name, ne, T::F16, i_attn_v).type;
}

TEST(QuantMix, ParsesNamesCaseInsensitively) {
  ASSERT_TRUE(parse_mix("q4_k_m").has_value());
  EXPECT_EQ(parse_mix("q4_k_m")->file_type, 15u);
  EXPECT_EQ(parse_mix("Q8_0")->file_type, 7u);
  EXPECT_EQ(parse_mix("TQ1_0")->file_type, 36u);
  EXPECT_EQ(parse_mix("TQ2_0")->file_type, 37u);
  EXPECT_EQ(parse_mix("F16")->file_type, 1u);
  EXPECT_TRUE(parse_mix("Q4_K")->pure);
  EXPECT_FALSE(parse_mix("Q4_K_X").has_value());
  EXPECT_FALSE(parse_mix("").has_value());
}

TEST(QuantMix, Q4KMLayerPattern) {
  const ModelShape s = llama32();
  // use_more_bits(i, 32): i < 4, i >= 28, or (i - 4) % 3 == 2.
  for (int i = 0; i < 32; ++i) {
    const bool more = i < 4 || i >= 28 || (i - 4) % 3 == 2;
    const std::string b = "blk." + std::to_string(i) + ".";
    EXPECT_EQ(type_of("Q4_K_M", s, b + "ffn_down.weight", {14336, 4096}),
              more ? T::Q6_K : T::Q4_K)
        << i;
    EXPECT_EQ(type_of("Q4_K_M", s, b + "attn_v.weight", {4096, 1024}, i),
              more ? T::Q6_K : T::Q4_K)
        << i;
    EXPECT_EQ(type_of("Q4_K_M", s, b + "attn_q.weight", {4096, 4096}), T::Q4_K);
    EXPECT_EQ(type_of("Q4_K_M", s, b + "ffn_gate.weight", {4096, 14336}), T::Q4_K);
  }
  EXPECT_EQ(type_of("Q4_K_M", s, "output.weight", {4096, 128256}), T::Q6_K);
  EXPECT_EQ(type_of("Q4_K_M", s, "token_embd.weight", {4096, 128256}), T::Q4_K);
}

TEST(QuantMix, OutputAndEmbeddingRules) {
  ModelShape tied = llama32();
  tied.has_output = false;
  // Tied embeddings take the output rule.
  EXPECT_EQ(type_of("Q4_0", tied, "token_embd.weight", {2048, 128256}), T::Q6_K);
  EXPECT_EQ(type_of("Q8_0", tied, "token_embd.weight", {2048, 128256}), T::Q8_0);
  EXPECT_EQ(type_of("TQ1_0", tied, "token_embd.weight", {2048, 128256}), T::Q6_K);
  const ModelShape s = llama32();
  EXPECT_EQ(type_of("TQ2_0", s, "token_embd.weight", {2048, 128256}), T::Q4_K);
  EXPECT_EQ(type_of("TQ2_0", s, "output.weight", {2048, 128256}), T::Q6_K);
  EXPECT_EQ(type_of("TQ2_0", s, "blk.0.ffn_up.weight", {2048, 8192}), T::TQ2_0);
  // Output row not a multiple of the base block: Q8_0.
  EXPECT_EQ(type_of("Q4_K_M", s, "output.weight", {576, 49152}), T::Q8_0);
}

TEST(QuantMix, OtherMixes) {
  const ModelShape s = llama32();  // GQA 4
  EXPECT_EQ(type_of("Q2_K", s, "blk.5.attn_v.weight", {4096, 1024}), T::Q4_K);
  EXPECT_EQ(type_of("Q2_K", s, "blk.5.ffn_down.weight", {14336, 4096}), T::Q3_K);
  EXPECT_EQ(type_of("Q2_K", s, "blk.5.attn_output.weight", {4096, 4096}), T::Q3_K);
  EXPECT_EQ(type_of("Q3_K_M", s, "blk.0.attn_v.weight", {4096, 1024}, 0), T::Q5_K);
  EXPECT_EQ(type_of("Q3_K_M", s, "blk.2.attn_v.weight", {4096, 1024}, 2), T::Q4_K);
  EXPECT_EQ(type_of("Q3_K_M", s, "blk.1.ffn_down.weight", {14336, 4096}), T::Q5_K);
  EXPECT_EQ(type_of("Q3_K_M", s, "blk.2.ffn_down.weight", {14336, 4096}), T::Q4_K);
  EXPECT_EQ(type_of("Q3_K_M", s, "blk.2.attn_output.weight", {4096, 4096}), T::Q4_K);
  EXPECT_EQ(type_of("Q4_K_S", s, "blk.3.attn_v.weight", {4096, 1024}, 3), T::Q5_K);
  EXPECT_EQ(type_of("Q4_K_S", s, "blk.4.attn_v.weight", {4096, 1024}, 4), T::Q4_K);
  EXPECT_EQ(type_of("Q4_K_S", s, "blk.3.ffn_down.weight", {14336, 4096}), T::Q5_K);
  EXPECT_EQ(type_of("Q5_K_M", s, "blk.0.ffn_down.weight", {14336, 4096}), T::Q6_K);
  EXPECT_EQ(type_of("Q5_K_M", s, "blk.4.ffn_down.weight", {14336, 4096}), T::Q5_K);
  EXPECT_EQ(type_of("Q6_K", s, "blk.4.ffn_down.weight", {14336, 4096}), T::Q6_K);
  EXPECT_EQ(type_of("IQ4_NL", s, "blk.4.attn_v.weight", {4096, 1024}), T::Q5_K);
  EXPECT_EQ(type_of("Q4_K_M", s, "blk.4.attn_qkv.weight", {3072, 9216}), T::Q5_K);
  EXPECT_EQ(type_of("Q4_K", s, "blk.0.ffn_down.weight", {14336, 4096}), T::Q4_K);  // pure
}

TEST(QuantMix, FallbacksSayWhy) {
  auto m = *parse_mix("Q4_K_M");
  const ModelShape s = llama32();
  auto c = choose_type(m, s, "blk.0.attn_q.weight", {576, 576}, T::F32, 0);
  EXPECT_EQ(c.type, T::Q5_0);  // Q4_K -> Q5_0
  EXPECT_NE(c.fallback.find("576"), std::string::npos) << c.fallback;
  c = choose_type(m, s, "blk.0.ffn_down.weight", {172, 64}, T::F32, 0);
  EXPECT_EQ(c.type, T::F16);  // Q6_K -> Q8_0 does not fit 172 either
  c = choose_type(*parse_mix("TQ1_0"), s, "blk.0.ffn_up.weight", {576, 1536}, T::F32, 0);
  EXPECT_EQ(c.type, T::Q4_0);
  c = choose_type(*parse_mix("Q2_K"), s, "blk.0.ffn_up.weight", {576, 1536}, T::F32, 0);
  EXPECT_EQ(c.type, T::IQ4_NL);
  c = choose_type(*parse_mix("Q5_K_M"), s, "blk.0.ffn_up.weight", {576, 1536}, T::F32, 0);
  EXPECT_EQ(c.type, T::Q5_1);
  c = choose_type(m, s, "blk.0.ffn_up.weight", {4096, 14336}, T::F32, 0);
  EXPECT_TRUE(c.fallback.empty());
}

TEST(QuantMix, VectorsAndNormsStay) {
  auto m = *parse_mix("Q4_0");
  const ModelShape s = llama32();
  EXPECT_FALSE(choose_type(m, s, "blk.0.attn_norm.weight", {4096}, T::F32, 0).quantize);
  EXPECT_FALSE(choose_type(m, s, "blk.0.attn_q_norm.weight", {128, 1}, T::F32, 0).quantize);
  EXPECT_FALSE(choose_type(m, s, "blk.0.attn_q.bias", {4096}, T::F32, 0).quantize);
  EXPECT_FALSE(choose_type(m, s, "rope_freqs.weight", {64}, T::F32, 0).quantize);
  EXPECT_EQ(choose_type(m, s, "blk.0.attn_norm.weight", {4096}, T::F32, 0).type, T::F32);
  // Already the target type: copied.
  EXPECT_FALSE(choose_type(m, s, "blk.0.attn_q.weight", {4096, 4096}, T::Q4_0, 0).quantize);
  EXPECT_EQ(layer_of("blk.17.ffn_down.weight"), 17);
  EXPECT_EQ(layer_of("output.weight"), -1);
  EXPECT_EQ(layer_of("blk.x.ffn_down.weight"), -1);
}

double rmse(T type, const std::vector<float>& x, const std::vector<uint8_t>& q) {
  std::vector<float> y(x.size());
  EXPECT_TRUE(kernels::ref::dequantize_row(type, q.data(), y.data(), (int64_t)x.size()));
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_TRUE(std::isfinite(y[i]));
    e += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
  }
  return std::sqrt(e / x.size());
}

// The search must never lose to the reference min/max quantizer on realistic data (normal
// weights, heavy-tailed weights with outliers) and must handle degenerate blocks.
TEST(QuantRow, SearchBeatsReference) {
  std::mt19937 g(7);
  std::normal_distribution<float> nd(0, 0.02f);
  std::student_t_distribution<float> td(3);
  const int n = 256 * 64;
  for (int dist = 0; dist < 2; ++dist) {
    std::vector<float> x(n);
    for (auto& v : x) v = dist == 0 ? nd(g) : 0.01f * td(g);
    for (T t : {T::Q2_K, T::Q3_K, T::Q4_K, T::Q5_K, T::Q6_K, T::IQ4_NL}) {
      std::vector<uint8_t> a(row_bytes(t, n)), b(row_bytes(t, n));
      ASSERT_TRUE(quantize_row(t, x.data(), a.data(), n));
      ASSERT_TRUE(quantize_row_simple(t, x.data(), b.data(), n));
      const double es = rmse(t, x, a), er = rmse(t, x, b);
      EXPECT_LT(es, er) << tensor_type_name(t) << " dist " << dist;
      // Relative error bounds that say the format is packed right (a wrong layout is ~1.4).
      const double rms = dist == 0 ? 0.02 : 0.01 * std::sqrt(3.0);
      EXPECT_LT(es / rms, t == T::Q2_K ? 0.45 : t == T::Q3_K ? 0.25 : 0.13) << tensor_type_name(t);
    }
  }
}

TEST(QuantRow, DegenerateBlocks) {
  const int n = 256;
  for (T t : {T::Q2_K, T::Q3_K, T::Q4_K, T::Q5_K, T::Q6_K, T::IQ4_NL, T::Q4_0, T::Q8_0, T::TQ2_0,
              T::TQ1_0}) {
    for (float c : {0.0f, 1.5f, -3.0f}) {
      std::vector<float> x(n, c);
      std::vector<uint8_t> q(row_bytes(t, n));
      ASSERT_TRUE(quantize_row(t, x.data(), q.data(), n));
      const double e = rmse(t, x, q);
      EXPECT_LE(e, std::fabs(c) * 0.01 + 1e-6) << tensor_type_name(t) << " constant " << c;
    }
    // One outlier among zeros.
    std::vector<float> x(n, 0.0f);
    x[77] = 5.0f;
    std::vector<uint8_t> q(row_bytes(t, n));
    ASSERT_TRUE(quantize_row(t, x.data(), q.data(), n));
    EXPECT_LT(rmse(t, x, q), 5.0 / 16) << tensor_type_name(t);
  }
}

TEST(QuantWriter, ErrorsLeaveNoFile) {
  gguf::Writer meta;
  meta.set_string("general.architecture", "llama");
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("nibble_quant_unit_" + std::to_string(::getpid())))
                              .string();
  std::filesystem::create_directories(dir);
  PlannedTensor t{"a.weight", {64, 2}, T::Q4_0, {}, {}, {}};
  t.rows = [](int64_t, int64_t n, float* out) {
    for (int64_t i = 0; i < n * 64; ++i) out[i] = static_cast<float>(i % 7) - 3;
  };
  WriteOptions o;
  // A missing directory: io_error naming the path.
  auto st = write_model(meta, {t}, dir + "/missing/out.gguf", o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("missing/out.gguf"), std::string::npos);
  // A row length that fits no block: rejected before anything is written.
  PlannedTensor bad = t;
  bad.ne = {48, 2};
  st = write_model(meta, {t, bad}, dir + "/out.gguf", o);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::bad_block_multiple);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  // A good write: readable, no temp file left beside it.
  std::vector<TensorStats> stats;
  o.stats = true;
  ASSERT_TRUE(write_model(meta, {t}, dir + "/out.gguf", o, &stats).ok());
  auto f = gguf::File::open(dir + "/out.gguf");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  ASSERT_EQ(f->tensors().size(), 1u);
  EXPECT_EQ(f->tensors()[0].type, T::Q4_0);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].n, 128u);
  EXPECT_GT(stats[0].rms, 1.0);
  EXPECT_LT(stats[0].rmse, 0.3);
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nibble::quant
