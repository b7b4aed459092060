// Tokenizer throughput: encode MB/s per vocabulary (SPM and the byte-level BPE pre-tokenizers)
// on two ~1 MB texts: "code" (this repository's sources and docs, concatenated) and
// "multilingual" (generated: English words, numbers, punctuation, Cyrillic, CJK, emoji).
// Also decode MB/s and load time. Vocabularies come from NIBBLE_SHARED_DIR/vocab.
//
//   build/<dir>/benchmarks/tokenizer_bench --benchmark_filter=Encode
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "nibble/tokenizer.h"

namespace {

namespace fs = std::filesystem;
constexpr size_t kTextBytes = 1 << 20;

std::string shared_dir() {
  if (const char* e = std::getenv("NIBBLE_SHARED_DIR"); e && *e) return e;
  return NIBBLE_SHARED_DIR;
}

std::string code_text() {
  std::string text;
  for (const char* sub : {"src", "include", "docs", "tools", "tests", "kernels"}) {
    fs::path root = fs::path(NIBBLE_SOURCE_DIR) / sub;
    if (!fs::exists(root)) continue;
    for (auto& e : fs::recursive_directory_iterator(root)) {
      auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h" && ext != ".md")) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      text += ss.str();
      if (text.size() >= kTextBytes) return text.substr(0, kTextBytes);
    }
  }
  while (!text.empty() && text.size() < kTextBytes) text += text;
  return text.substr(0, kTextBytes);
}

std::string multilingual_text() {
  const std::vector<std::string> words = {
      "the",   "of",         "and",        "tokenizer", "model",    "inference", "quickly",
      "Hello", "world",      "don't",      "it's",      "2024",     "3.14159",   "(x + y)",
      "—",     "naïve",      "café",       "Привет",    "мир",      "你好",      "世界",
      "東京",  "こんにちは", "안녕하세요", "😀",         "👋🏽", "🚀",         "!!!",
      "\n",    "\n\n",       "\t",         "    ",      "Straße",   "العربية",   "हिन्दी"};
  std::mt19937 rng(7);
  std::string text;
  while (text.size() < kTextBytes) {
    text += words[rng() % words.size()];
    text += ' ';
  }
  return text;
}

const std::string& text(int which) {
  static const std::string code = code_text();
  static const std::string multi = multilingual_text();
  return which == 0 ? code : multi;
}

std::shared_ptr<const nibble::Tokenizer> vocab(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const nibble::Tokenizer>> cache;
  auto& t = cache[name];
  if (!t) {
    auto r = nibble::Tokenizer::load(shared_dir() + "/vocab/ggml-vocab-" + name + ".gguf");
    if (r.ok()) t = *r;
  }
  return t;
}

void BM_Encode(benchmark::State& state, std::string name, int which) {
  auto t = vocab(name);
  if (!t) return state.SkipWithError(("cannot load vocabulary " + name).c_str());
  const std::string& s = text(which);
  size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = t->encode(s, {.add_special = false});
    n_tokens = ids->size();
    benchmark::DoNotOptimize(ids->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
  state.counters["bytes/token"] = static_cast<double>(s.size()) / std::max<size_t>(n_tokens, 1);
}

void BM_Decode(benchmark::State& state, std::string name) {
  auto t = vocab(name);
  if (!t) return state.SkipWithError(("cannot load vocabulary " + name).c_str());
  const std::string& s = text(1);
  auto ids = *t->encode(s, {.add_special = false});
  for (auto _ : state) benchmark::DoNotOptimize(t->decode(ids).size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}

void BM_Load(benchmark::State& state, std::string name) {
  std::string path = shared_dir() + "/vocab/ggml-vocab-" + name + ".gguf";
  for (auto _ : state) {
    auto r = nibble::Tokenizer::load(path);
    if (!r.ok()) return state.SkipWithError(r.error().to_string().c_str());
    benchmark::DoNotOptimize(r->get());
  }
}

const char* kVocabs[] = {"llama-spm", "llama-bpe", "qwen2",        "gpt-2",
                         "falcon",    "starcoder", "deepseek-llm", "deepseek-coder"};

int register_all = [] {
  for (const char* v : kVocabs) {
    for (int which : {0, 1}) {
      std::string n = std::string("Encode/") + v + (which == 0 ? "/code" : "/multilingual");
      benchmark::RegisterBenchmark(n.c_str(), BM_Encode, std::string(v), which)
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (const char* v : {"llama-spm", "llama-bpe", "qwen2"}) {
    benchmark::RegisterBenchmark((std::string("Decode/") + v).c_str(), BM_Decode, std::string(v))
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("Load/") + v).c_str(), BM_Load, std::string(v))
        ->Unit(benchmark::kMillisecond);
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
