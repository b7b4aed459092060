#include "api/speculative.h"

#include <algorithm>
#include <string>

#include "api/impl.h"
#include "sampling/speculative.h"

namespace nibble {
namespace {

constexpr int kMaxDraftTokens = 64;
constexpr int kMaxLookupNgram = 16;

// Prompt lookup (sampling::lookup_draft): no model, no memory.
class LookupDrafter final : public Drafter {
 public:
  explicit LookupDrafter(int max_ngram) : max_ngram_(max_ngram) {}
  Status draft(std::span<const Token> history, int max_tokens, Draft* out,
               const std::atomic<bool>*) override {
    out->clear();
    out->tokens = sampling::lookup_draft(history, max_ngram_, 1, max_tokens);
    out->q.resize(out->tokens.size());
    return ok_status();
  }

 private:
  int max_ngram_;
};

// A small model over the same vocabulary, in its own context, decoding the draft one token
// at a time with the target's sampler settings (greedy when the target is greedy).
class ModelDrafter final : public Drafter {
 public:
  ModelDrafter(std::unique_ptr<graph::InferenceContext> ctx, const SamplerConfig& cfg,
               std::shared_ptr<const Tokenizer> tok)
      : ctx_(std::move(ctx)), sampler_(cfg, ctx_->n_vocab()), tok_(std::move(tok)) {}

  void begin(uint64_t seed) override { sampler_.reseed(seed ^ 0x5851f42d4c957f2dull); }

  Status draft(std::span<const Token> history, int max_tokens, Draft* out,
               const std::atomic<bool>* cancel) override {
    out->clear();
    NIBBLE_TRY(sync(history, cancel));
    const bool greedy = sampler_.config().temperature <= 0.0f;
    max_tokens = std::min(max_tokens, ctx_->n_ctx() - ctx_->n_past());
    for (int i = 0; i < max_tokens; ++i) {
      auto q = sampler_.distribution(ctx_->logits(), cached_);
      const Token t = greedy ? q[0].id : sampler_.draw_from(q);
      out->tokens.push_back(t);
      out->q.emplace_back();
      if (!greedy) out->q.back().assign(q.begin(), q.end());
      if (i + 1 == max_tokens || tok_->is_end_of_generation(t)) break;
      const Token one[1] = {t};
      NIBBLE_TRY(eval(one, cancel));
    }
    return ok_status();
  }

 private:
  // The draft context holds `history` with the logits of its last token: keep the common
  // prefix, evaluate the rest (at least the last token).
  Status sync(std::span<const Token> history, const std::atomic<bool>* cancel) {
    size_t p = 0;
    while (p < cached_.size() && p < history.size() && cached_[p] == history[p]) ++p;
    p = std::min(p, history.size() - 1);
    ctx_->truncate(static_cast<int>(p));
    cached_.resize(p);
    return eval(history.subspan(p), cancel);
  }
  Status eval(std::span<const Token> tokens, const std::atomic<bool>* cancel) {
    Status st = ctx_->eval(tokens, false, cancel);
    if (st.ok())
      cached_.insert(cached_.end(), tokens.begin(), tokens.end());
    else
      cached_.resize(static_cast<size_t>(ctx_->n_past()));
    return st;
  }

  std::unique_ptr<graph::InferenceContext> ctx_;
  sampling::Sampler sampler_;
  std::shared_ptr<const Tokenizer> tok_;
  std::vector<Token> cached_;  // tokens in the draft's KV cache
};

// The draft model must speak the target's vocabulary: same size, same pieces, same specials.
Status check_vocabulary(const Tokenizer& target, const Tokenizer& draft) {
  auto bad = [](const std::string& m) {
    return Error(ErrorCode::invalid_argument, "speculative.draft_model: " + m);
  };
  if (target.n_vocab() != draft.n_vocab())
    return bad("its vocabulary has " + std::to_string(draft.n_vocab()) + " tokens, the model's " +
               std::to_string(target.n_vocab()) + " (a draft model must share the vocabulary)");
  if (target.kind() != draft.kind() || target.bos() != draft.bos() || target.eos() != draft.eos())
    return bad("its tokenizer type or BOS/EOS tokens differ from the model's");
  for (Token t = 0; t < target.n_vocab(); ++t) {
    if (target.token_to_piece(t) != draft.token_to_piece(t))
      return bad("token " + std::to_string(t) + " is \"" + draft.token_to_piece(t) +
                 "\" there and \"" + target.token_to_piece(t) +
                 "\" in the model (a draft model must share the vocabulary)");
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<Drafter>> make_drafter(const SessionOptions& options,
                                              const Model::Impl& target, int n_ctx) {
  const SpeculativeOptions& s = options.speculative;
  auto bad = [](const std::string& m) { return Error(ErrorCode::invalid_argument, m); };
  if (s.n_draft < 1 || s.n_draft > kMaxDraftTokens)
    return bad("speculative.n_draft must be in [1, " + std::to_string(kMaxDraftTokens) + "]");
  if (s.lookup_ngram < 0 || s.lookup_ngram > kMaxLookupNgram)
    return bad("speculative.lookup_ngram must be in [0, " + std::to_string(kMaxLookupNgram) + "]");
  if (s.draft_model && s.lookup_ngram > 0)
    return bad("speculative: draft_model and lookup_ngram exclude each other");
  if (s.lookup_ngram > 0) return std::unique_ptr<Drafter>(new LookupDrafter(s.lookup_ngram));
  if (!s.draft_model) return std::unique_ptr<Drafter>();
  if (!s.draft_model->impl()) return bad("speculative.draft_model is an empty Model");
  const auto& dm = s.draft_model->impl()->model;
  NIBBLE_TRY(check_vocabulary(*target.model->tokenizer, *dm->tokenizer));
  graph::ContextOptions co;
  co.n_ctx = n_ctx;
  co.n_threads = options.n_threads;
  co.n_batch = options.n_batch;
  co.kv_q8_0 = options.kv_cache_q8_0 && dm->config.head_dim % 32 == 0;
  NIBBLE_ASSIGN_OR_RETURN(auto ctx, graph::create_context(dm, co));
  return std::unique_ptr<Drafter>(new ModelDrafter(std::move(ctx), options.sampling, dm->tokenizer));
}

}  // namespace nibble
