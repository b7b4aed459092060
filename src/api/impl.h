// Internals of the public API objects.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/speculative.h"
#include "grammar/constraint.h"
#include "graph/context.h"
#include "model/loader.h"
#include "nibble/nibble.h"
#include "sampling/sampler.h"
#include "sampling/speculative.h"
#include "sampling/stop_matcher.h"

#if defined(__GNUC__) && !defined(_WIN32)
#define NIBBLE_INTERNAL __attribute__((visibility("hidden")))
#else
#define NIBBLE_INTERNAL
#endif

namespace nibble {

struct NIBBLE_INTERNAL Model::Impl {
  std::shared_ptr<const model::LoadedModel> model;
  std::string name;
  // The vocabulary as a trie for grammars, built on first use (vocab_trie()).
  mutable std::mutex trie_mutex;
  mutable std::shared_ptr<const grammar::VocabTrie> trie;
};

struct NIBBLE_INTERNAL Grammar::Impl {
  std::shared_ptr<const grammar::Rules> rules;
  std::string gbnf;
};

// The model's vocabulary trie (built once, shared by every grammar on the model).
std::shared_ptr<const grammar::VocabTrie> vocab_trie(const Model::Impl& model);

// A grammar constraint as the sampler's token filter, with the generation's token budget.
class NIBBLE_INTERNAL GrammarFilter final : public sampling::TokenFilter {
 public:
  explicit GrammarFilter(grammar::Constraint* c) : c_(c) {}
  void set_remaining(int r) { remaining_ = r; }
  bool allows(Token t) override { return c_->allows(t, remaining_); }
  Result<size_t> fill(std::vector<uint8_t>* allowed) override {
    return c_->fill_mask(allowed, remaining_);
  }

 private:
  grammar::Constraint* c_;
  int remaining_ = -1;
};

// Hidden: a nested type of an exported class would otherwise be exported with it.
struct NIBBLE_INTERNAL Session::Impl {
  std::shared_ptr<const Model::Impl> model;
  std::unique_ptr<graph::InferenceContext> ctx;
  SessionOptions options;
  sampling::Sampler sampler;
  std::vector<Token> cached;  // tokens in the KV cache, in order
  std::atomic<bool> cancel{false};

  // The running generation (pull state).
  bool active = false;
  GenerateOptions gen;
  std::optional<StreamDecoder> decoder;
  sampling::StopMatcher stop;
  Stats stats;
  int produced = 0;
  Token pending = -1;  // sampled, not yet evaluated
  std::vector<Token> chunk;  // tokens sampled for the text last returned by step()
  std::unique_ptr<grammar::Constraint> constraint;  // GenerateOptions::grammar, when given
  bool have_logits = false;  // logits_row() belongs to the last token of `cached`
  std::chrono::steady_clock::time_point t_start, t_first;

  // Speculative decoding (src/api/speculative.h): the drafter (null when off); the drafts of
  // the last pass, evaluated after `cached` in the KV cache, of which draft.tokens[next_draft]
  // is the next to verify; the logits row of the last pass that belongs to cached.back()
  // (-1: the last row). Outside a generation the KV cache holds exactly `cached`.
  std::unique_ptr<Drafter> drafter;
  Draft draft;
  size_t next_draft = 0;
  int row = -1;
  int draft_length = 0;  // tokens to draft next (adapt_draft_length)
  sampling::DraftVerifier verifier;
  std::vector<Token> history;  // scratch: cached + the token being evaluated

  Impl(std::shared_ptr<const Model::Impl> m, std::unique_ptr<graph::InferenceContext> c,
       const SessionOptions& o)
      : model(std::move(m)), ctx(std::move(c)), options(o),
        sampler(o.sampling, ctx->n_vocab()), verifier(ctx->n_vocab()) {}

  Status begin(std::vector<Token> prompt, const GenerateOptions& g);
  Result<std::optional<std::string>> step();
  Status make_room();
  // The next token and whether it is a verified draft (already in the KV cache).
  Result<Token> sample_next(bool* in_kv);
  // Evaluates tok after `cached` (with a draft after it when speculating).
  Status advance(Token tok);
  void adapt_draft_length(bool all_accepted);
  // Forgets unverified drafts: the KV cache holds `cached` again.
  void drop_drafts();
  std::span<const float> logits_row() const { return ctx->logits(row); }
  std::string finish_text();
};

// The error every Session method returns on a moved-from Session.
Error moved_from_session();
// 64-bit FNV-1a over the model file's header and metadata and its size: the model identity a
// saved state is checked against.
uint64_t model_fingerprint(const Model::Impl& model);

}  // namespace nibble
