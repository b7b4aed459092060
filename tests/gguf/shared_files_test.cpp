// Every real GGUF file in ../shared (vocab-only files and fixture models) parses, and its
// tensor table is consistent with the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "gguf/gguf.h"
#include "tests/common/shared_data.h"

namespace nibble::gguf {
namespace {

std::vector<std::string> gguf_files(const std::string& sub) {
  std::vector<std::string> out;
  auto dir = test::shared_path(sub);
  if (!std::filesystem::is_directory(dir)) return out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".gguf") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

void check_file(const std::string& path) {
  SCOPED_TRACE(path);
  auto f = File::open(path);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->path(), path);
  EXPECT_EQ(f->file_size(), std::filesystem::file_size(path));
  EXPECT_FALSE(f->metadata().empty());
  // Every key found by name, with the same value object.
  for (const KeyValue& kv : f->metadata()) EXPECT_EQ(f->find(kv.key), &kv.value);
  auto tokens = f->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.error().to_string();
  EXPECT_GT(tokens->size(), 100u);
  auto model = f->get_string("tokenizer.ggml.model");
  ASSERT_TRUE(model.ok()) << model.error().to_string();
  EXPECT_TRUE(*model == "llama" || *model == "gpt2") << *model;
  for (const TensorInfo& t : f->tensors()) {
    EXPECT_EQ(f->find_tensor(t.name), &t);
    EXPECT_EQ(t.data, f->base() + f->data_offset() + t.offset);
    EXPECT_LE(f->data_offset() + t.offset + t.n_bytes, f->file_size());
    EXPECT_EQ(t.offset % f->alignment(), 0u);
    auto ti = tensor_type_info(t.type);
    EXPECT_EQ(t.n_bytes, t.n_elements / ti.block_size * ti.type_size);
  }
}

TEST(GgufShared, EveryVocabFileParses) {
  auto files = gguf_files("vocab");
  EXPECT_GE(files.size(), 13u);
  for (auto& p : files) {
    check_file(p);
    auto f = File::open(p);
    ASSERT_TRUE(f.ok());
    EXPECT_TRUE(f->tensors().empty());
  }
}

TEST(GgufShared, EveryFixtureParses) {
  auto files = gguf_files("fixtures");
  EXPECT_GE(files.size(), 30u);
  for (auto& p : files) {
    check_file(p);
    auto f = File::open(p);
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->tensors().empty());
    auto arch = f->get_string("general.architecture");
    ASSERT_TRUE(arch.ok());
    auto blocks = f->get_uint(std::string(*arch) + ".block_count");
    ASSERT_TRUE(blocks.ok()) << blocks.error().to_string();
    EXPECT_GE(*blocks, 1u);
  }
}

TEST(GgufShared, Stories260KHyperParameters) {
  auto f = File::open(test::shared_path("fixtures/stories260K-f32.gguf"));
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(*f->get_string("general.architecture"), "llama");
  EXPECT_EQ(*f->get_uint("llama.embedding_length"), 64u);
  EXPECT_EQ(*f->get_uint("llama.block_count"), 5u);
  EXPECT_EQ(*f->get_uint("llama.feed_forward_length"), 172u);
  EXPECT_EQ(*f->get_uint("llama.attention.head_count"), 8u);
  EXPECT_EQ(*f->get_uint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens")->size(), 512u);
  const TensorInfo* emb = f->find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, TensorType::F32);
  EXPECT_EQ(emb->ne[0], 64u);
  EXPECT_EQ(emb->ne[1], 512u);
  EXPECT_EQ(emb->n_bytes, 64u * 512u * 4u);
  // A type mismatch is reported as such, naming the key.
  auto wrong = f->get_string("llama.block_count");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::type_mismatch);
  EXPECT_NE(wrong.error().message().find("llama.block_count"), std::string::npos);
  auto absent = f->get_uint("llama.no_such_key");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code(), ErrorCode::missing_key);
}

TEST(GgufShared, EveryHeaderPrefixOfARealFileFailsCleanly) {
  // Cut a real file at every byte of its header and at a few places in its data: each prefix
  // is rejected with one of the "ends too early" codes, never accepted or crashed.
  auto f = File::open(test::shared_path("fixtures/stories260K-f16.gguf"));
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  std::span<const uint8_t> all(f->base(), f->file_size());
  std::vector<uint64_t> cuts;
  for (uint64_t n = 0; n <= f->data_offset(); ++n) cuts.push_back(n);
  for (uint64_t n = f->data_offset() + 1; n < f->file_size(); n += 4099) cuts.push_back(n);
  cuts.push_back(f->file_size() - 1);
  for (uint64_t n : cuts) {
    auto r = File::from_bytes(all.first(n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes accepted";
    ErrorCode c = r.error().code();
    EXPECT_TRUE(c == ErrorCode::truncated || c == ErrorCode::string_out_of_bounds ||
                c == ErrorCode::array_out_of_bounds || c == ErrorCode::too_many_items)
        << n << ": " << r.error().to_string();
  }
}

}  // namespace
}  // namespace nibble::gguf
