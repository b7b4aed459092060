// Per-token cost of constrained decoding with real vocabularies (qwen2: 151k tokens,
// llama-bpe: 128k), teacher-forced over a JSON document that a schema grammar accepts.
//
//   Mask/<vocab>          the whole allowed-token mask (trie walk) at every position
//   Mask/<vocab>/warm     the same with the automaton's caches kept from earlier documents
//   Sample/<vocab>/plain  the sampler alone (top-k 40, temperature 0.8) on random logits
//   Sample/<vocab>/grammar   the same sampler under the grammar (the path generation uses)
//   Sample/<vocab>/plain_topk0, grammar_topk0  top-k off: the sampler sorts every candidate,
//                         and under the grammar it needs the whole mask every token
//   TrieBuild/<vocab>     building the vocabulary trie (once per model)
// Each iteration runs one document from a fresh constraint (cold automaton caches, as every
// generation starts); the time per token is the reported time divided by tokens (items/s).
//
//   build/<dir>/benchmarks/grammar_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "grammar/constraint.h"
#include "grammar/gbnf_parser.h"
#include "grammar/json_schema.h"
#include "nibble/tokenizer.h"
#include "sampling/sampler.h"

namespace {

using namespace nibble;

std::string shared_dir() {
  if (const char* e = std::getenv("NIBBLE_SHARED_DIR"); e && *e) return e;
  return NIBBLE_SHARED_DIR;
}

const char* const kSchema = R"({"type":"object","properties":{
    "name":{"type":"string","maxLength":40},"age":{"type":"integer"},
    "email":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}},
    "address":{"type":"object","properties":{"city":{"type":"string"},
      "zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["city"]},
    "active":{"type":"boolean"}},"required":["name","age"],"additionalProperties":false})";

const char* const kDocument =
    R"({"name": "Ada Lovelace", "age": 36, "email": "ada@example.org", "tags": ["math", )"
    R"("poetry", "engines", "notes on the analytical engine"], "address": {"city": )"
    R"("London, Marylebone", "zip": "12345"}, "active": true})";

struct Fixture {
  std::shared_ptr<const grammar::VocabTrie> trie;
  std::shared_ptr<const grammar::Rules> rules;
  std::vector<Token> doc;
  std::vector<std::vector<float>> logits;  // one random row per position
};

const Fixture& fixture(const std::string& vocab) {
  static std::map<std::string, Fixture> cache;
  auto it = cache.find(vocab);
  if (it != cache.end()) return it->second;
  Fixture f;
  auto tok = Tokenizer::load(shared_dir() + "/vocab/ggml-vocab-" + vocab + ".gguf");
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.error().to_string().c_str());
    std::exit(1);
  }
  f.trie = grammar::VocabTrie::from_tokenizer(**tok, (*tok)->n_vocab(), false);
  f.rules = *grammar::parse_gbnf(*grammar::json_schema_to_gbnf(kSchema));
  EncodeOptions eo;
  eo.add_special = false;
  f.doc = *(*tok)->encode(kDocument, eo);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (size_t i = 0; i < f.doc.size(); ++i) {
    std::vector<float> row(static_cast<size_t>(f.trie->n_vocab));
    for (float& x : row) x = normal(rng);
    f.logits.push_back(std::move(row));
  }
  return cache.emplace(vocab, std::move(f)).first->second;
}

class Filter final : public sampling::TokenFilter {
 public:
  Filter(grammar::Constraint* c, int remaining) : c_(c), remaining_(remaining) {}
  bool allows(Token t) override { return c_->allows(t, remaining_); }
  Result<size_t> fill(std::vector<uint8_t>* allowed) override {
    return c_->fill_mask(allowed, remaining_);
  }

 private:
  grammar::Constraint* c_;
  int remaining_;
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "grammar_bench: %s\n", what);
    std::exit(1);
  }
}

void BM_Mask(benchmark::State& state, std::string vocab, bool warm) {
  const Fixture& f = fixture(vocab);
  std::vector<uint8_t> mask;
  grammar::Constraint kept(f.rules, f.trie);
  for (auto _ : state) {
    grammar::Constraint fresh(f.rules, f.trie);
    grammar::Constraint& c = warm ? kept : fresh;
    check(c.reset(false).ok(), "reset");
    for (size_t i = 0; i < f.doc.size(); ++i) {
      auto n = c.fill_mask(&mask, 256 - static_cast<int>(i));
      check(n.ok() && mask[f.doc[i]], "the document's token is not allowed");
      check(c.accept(f.doc[i]).ok(), "accept");
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(f.doc.size()));
  state.counters["tokens"] = static_cast<double>(f.doc.size());
  if (warm) state.counters["states"] = static_cast<double>(kept.n_states());
}

enum class Mode { plain, plain_topk0, grammar, grammar_topk0 };

void BM_Sample(benchmark::State& state, std::string vocab, Mode mode) {
  const Fixture& f = fixture(vocab);
  SamplerConfig cfg;
  cfg.temperature = 0.8f;
  cfg.top_k = mode == Mode::grammar_topk0 || mode == Mode::plain_topk0 ? 0 : 40;
  sampling::Sampler sampler(cfg, f.trie->n_vocab);
  std::vector<Token> history;
  int64_t sink = 0;
  for (auto _ : state) {
    grammar::Constraint c(f.rules, f.trie);
    check(c.reset(false).ok(), "reset");
    history.clear();
    for (size_t i = 0; i < f.doc.size(); ++i) {
      if (mode == Mode::plain || mode == Mode::plain_topk0) {
        sink += sampler.sample(f.logits[i], history);
      } else {
        Filter filter(&c, 256 - static_cast<int>(i));
        auto t = sampler.sample(f.logits[i], history, filter);
        check(t.ok() && *t >= 0 && c.allows(*t, 256 - static_cast<int>(i)), "sampled token");
        sink += *t;
        check(c.accept(f.doc[i]).ok(), "accept");  // teacher-forced: the document goes on
      }
      history.push_back(f.doc[i]);
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(f.doc.size()));
}

void BM_TrieBuild(benchmark::State& state, std::string vocab) {
  auto tok = Tokenizer::load(shared_dir() + "/vocab/ggml-vocab-" + vocab + ".gguf");
  check(tok.ok(), "tokenizer");
  std::shared_ptr<const grammar::VocabTrie> t;
  for (auto _ : state) {
    t = grammar::VocabTrie::from_tokenizer(**tok, (*tok)->n_vocab(), false);
    benchmark::DoNotOptimize(t);
  }
  state.counters["nodes"] = static_cast<double>(t->byte.size());
  state.counters["MiB"] = static_cast<double>(
      t->byte.size() * (1 + 2 + 4 + 4 + 1) + t->toks.size() * 4 + t->piece_off.size() * 4 +
      t->piece_bytes.size() + t->usable.size() * 2) / 1048576.0;
}

const bool registered = [] {
  for (const char* v : {"qwen2", "llama-bpe"}) {
    const std::string s = v;
    benchmark::RegisterBenchmark(("Mask/" + s).c_str(), BM_Mask, s, false)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Mask/" + s + "/warm").c_str(), BM_Mask, s, true)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Sample/" + s + "/plain").c_str(), BM_Sample, s, Mode::plain)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Sample/" + s + "/grammar").c_str(), BM_Sample, s,
                                 Mode::grammar)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Sample/" + s + "/plain_topk0").c_str(), BM_Sample, s,
                                 Mode::plain_topk0)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Sample/" + s + "/grammar_topk0").c_str(), BM_Sample, s,
                                 Mode::grammar_topk0)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("TrieBuild/" + s).c_str(), BM_TrieBuild, s)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
