// nibble — constrained decoding: a grammar (GBNF, a JSON Schema or "any JSON object") that
// generation follows token by token (docs/grammar.md).
//
// Put a Grammar into GenerateOptions::grammar and generate()/chat()/start()/start_chat() emit
// only text inside its language: every sampled token keeps the text a prefix of some string
// of the language, the end-of-generation token is allowed only where the text is complete, and
// when max_tokens runs low the tokens are restricted to those that can still finish the text
// in time (budget steering). Generation also ends by itself once the grammar allows nothing
// more. A Grammar is immutable and cheap to copy (copies share the compiled rules), so a
// server may compile one per request or keep one for many.
//
// For driving tokens yourself (Session::eval()/logits()), GrammarMatcher masks a logits row
// and follows the tokens you accept.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "nibble/export.h"
#include "nibble/result.h"
#include "nibble/tokenizer.h"

namespace nibble {

class Model;

class NIBBLE_API Grammar {
 public:
  // GBNF text (llama.cpp's syntax; docs/grammar.md). Errors (invalid_argument) name the line
  // and column: "grammar:3:14: expected ']' ...". Rejected: undefined rules, left recursion,
  // a language with no string at all, repetition counts above 10000, grammars above the size
  // limits.
  static Result<Grammar> parse(std::string_view gbnf, std::string_view root = "root");
  // A JSON Schema (as JSON text): the subset in docs/grammar.md; an unsupported keyword is an
  // error naming it and its place in the schema ("/properties/a: unsupported keyword ...").
  static Result<Grammar> from_json_schema(std::string_view schema_json);
  // Any JSON object (OpenAI's response_format json_object).
  static Grammar json_object();

  // The GBNF text of this grammar (for a schema: the grammar it was converted to).
  const std::string& gbnf() const;

  struct Impl;
  const std::shared_ptr<const Impl>& impl() const { return impl_; }

 private:
  explicit Grammar(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Token-level use of a grammar with a model's vocabulary.
class NIBBLE_API GrammarMatcher {
 public:
  // as_decoded: match the text as StreamDecoder (and Session) emit it, where the first piece
  // of a SentencePiece generation loses its leading space; false: the raw pieces
  // (Tokenizer::token_to_piece). Use true when the text shown comes from a fresh
  // StreamDecoder started at the first generated token.
  static Result<GrammarMatcher> create(const Grammar& grammar, const Model& model,
                                       bool as_decoded = false);
  GrammarMatcher(GrammarMatcher&&) noexcept;
  GrammarMatcher& operator=(GrammarMatcher&&) noexcept;
  ~GrammarMatcher();

  // Sets the logit of every token the grammar does not allow next to -infinity (n_vocab
  // values). remaining_tokens >= 1 also applies budget steering: only tokens after which the
  // text can still be completed within remaining_tokens - 1 more tokens; < 0: no budget.
  Status apply(std::span<float> logits, int remaining_tokens = -1);
  // Whether `token` may come next.
  bool allows(Token token, int remaining_tokens = -1);
  // Advance by a token the grammar allows (invalid_argument otherwise; the state is kept).
  Status accept(Token token);
  // The text so far is a complete string of the language.
  bool is_accepting() const;
  // ...and nothing may follow it (only end of generation).
  bool is_complete() const;
  // Back to the start (nothing accepted; the same as_decoded rule).
  void reset();

  struct Impl;

 private:
  explicit GrammarMatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nibble
