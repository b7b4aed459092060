// Grammar and GrammarMatcher (include/nibble/grammar.h) over the grammar layer.
#include <limits>

#include "api/impl.h"
#include "grammar/gbnf_parser.h"
#include "grammar/json_schema.h"
#include "tokenizer/tokenizer_impl.h"

namespace nibble {

Result<Grammar> Grammar::parse(std::string_view gbnf, std::string_view root) {
  NIBBLE_ASSIGN_OR_RETURN(auto rules, grammar::parse_gbnf(gbnf, root));
  // The first expansion runs now, so a grammar too ambiguous to start fails here.
  grammar::Machine m(rules);
  if (m.initial() == grammar::kDead)
    return Error(ErrorCode::invalid_argument,
                 "grammar: " + m.error().value_or("no start state"));
  auto impl = std::make_shared<Impl>();
  impl->rules = std::move(rules);
  impl->gbnf = std::string(gbnf);
  return Grammar(std::move(impl));
}

Result<Grammar> Grammar::from_json_schema(std::string_view schema_json) {
  NIBBLE_ASSIGN_OR_RETURN(std::string gbnf, grammar::json_schema_to_gbnf(schema_json));
  auto g = parse(gbnf);
  if (!g) return Error(ErrorCode::invalid_argument, "JSON Schema: " + g.error().message());
  return g;
}

Grammar Grammar::json_object() {
  static const Grammar g = [] {
    auto r = parse(grammar::json_object_gbnf());
    return *r;  // a fixed grammar: the tests parse it
  }();
  return g;
}

const std::string& Grammar::gbnf() const {
  static const std::string kEmpty;
  return impl_ ? impl_->gbnf : kEmpty;
}

std::shared_ptr<const grammar::VocabTrie> vocab_trie(const Model::Impl& m) {
  std::lock_guard<std::mutex> lock(m.trie_mutex);
  if (m.trie) return m.trie;
  const Tokenizer& tok = *m.model->tokenizer;
  const auto* impl = dynamic_cast<const tok::VocabTokenizer*>(&tok);
  const bool strip = impl && impl->strips_leading_space();
  m.trie = grammar::VocabTrie::from_tokenizer(tok, static_cast<int32_t>(m.model->config.n_vocab),
                                              strip);
  return m.trie;
}

// --- GrammarMatcher ---------------------------------------------------------------------------

struct NIBBLE_INTERNAL GrammarMatcher::Impl {
  grammar::Constraint constraint;
  std::vector<uint8_t> allowed;
  bool as_decoded = false;
  Impl(std::shared_ptr<const grammar::Rules> r, std::shared_ptr<const grammar::VocabTrie> v)
      : constraint(std::move(r), std::move(v)) {}
};

GrammarMatcher::GrammarMatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrammarMatcher::GrammarMatcher(GrammarMatcher&&) noexcept = default;
GrammarMatcher& GrammarMatcher::operator=(GrammarMatcher&&) noexcept = default;
GrammarMatcher::~GrammarMatcher() = default;

Result<GrammarMatcher> GrammarMatcher::create(const Grammar& grammar, const Model& model,
                                              bool as_decoded) {
  if (!grammar.impl() || !model.impl())
    return Error(ErrorCode::invalid_argument, "GrammarMatcher::create: empty grammar or model");
  auto impl = std::make_unique<Impl>(grammar.impl()->rules, vocab_trie(*model.impl()));
  impl->as_decoded = as_decoded;
  NIBBLE_TRY(impl->constraint.reset(as_decoded));
  return GrammarMatcher(std::move(impl));
}

Status GrammarMatcher::apply(std::span<float> logits, int remaining_tokens) {
  if (!impl_) return Error(ErrorCode::invalid_argument, "GrammarMatcher was moved from");
  NIBBLE_TRY(impl_->constraint.fill_mask(&impl_->allowed, remaining_tokens));
  const size_t n = std::min(logits.size(), impl_->allowed.size());
  for (size_t i = 0; i < logits.size(); ++i)
    if (i >= n || !impl_->allowed[i]) logits[i] = -std::numeric_limits<float>::infinity();
  return ok_status();
}

bool GrammarMatcher::allows(Token token, int remaining_tokens) {
  return impl_ && impl_->constraint.allows(token, remaining_tokens);
}

Status GrammarMatcher::accept(Token token) {
  if (!impl_) return Error(ErrorCode::invalid_argument, "GrammarMatcher was moved from");
  return impl_->constraint.accept(token);
}

bool GrammarMatcher::is_accepting() const { return impl_ && impl_->constraint.accepting(); }
bool GrammarMatcher::is_complete() const { return impl_ && impl_->constraint.complete(); }

void GrammarMatcher::reset() {
  if (impl_) (void)impl_->constraint.reset(impl_->as_decoded);
}

}  // namespace nibble
