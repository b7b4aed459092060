// nibble — the public API: load a GGUF model, open sessions on it, stream tokens.
//
// Model is immutable after load and shareable across threads (copies share one model).
// A Session owns a KV cache and scratch; use it from one thread at a time, except cancel(),
// which any thread may call. No exception crosses this API: failures come back as Result
// (check ok() before value(); value() on an error aborts with the error's message).
//
// Example (compiled by the tests as header_example_cpp, so it stays true):
// BEGIN EXAMPLE
//   #include <cstdio>
//   #include "nibble/nibble.h"
//
//   int run(const char* path) {
//     auto model = nibble::Model::load(path);  // Result<Model>
//     if (!model) {
//       std::fprintf(stderr, "%s\n", model.error().to_string().c_str());
//       return 1;
//     }
//     auto session = nibble::Session::create(*model);  // Result<Session>
//     if (!session) return 1;
//     nibble::GenerateOptions options;
//     options.max_tokens = 32;
//     auto stats = session->generate("Once upon a time", options, [](std::string_view text) {
//       std::fwrite(text.data(), 1, text.size(), stdout);
//       return true;  // false stops
//     });
//     return stats.ok() ? 0 : 1;
//   }
// END EXAMPLE
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nibble/export.h"
#include "nibble/chat_template.h"
#include "nibble/grammar.h"
#include "nibble/result.h"
#include "nibble/tokenizer.h"

namespace nibble {

struct ModelOptions {
  // Highest instruction set the kernels may use ("scalar", "avx2", "avx512", "neon",
  // "dotprod", ...); empty = the best this CPU has. NIBBLE_ISA in the environment also caps.
  std::string isa;
  // Progress in [0, 1] while weights are prepared; return false to cancel the load.
  std::function<bool(float progress)> progress;
};

struct ModelInfo {
  std::string architecture;  // general.architecture, e.g. "llama"
  std::string name;          // general.name ("" when absent)
  int n_ctx_train = 0;
  int n_vocab = 0;
  int n_layer = 0;
  int n_embd = 0;
  bool has_chat_template = false;
  uint64_t weight_bytes = 0;  // weights in memory (mapped + repacked)
  std::string isa;            // kernels in use
};

class NIBBLE_API Model {
 public:
  static Result<Model> load(const std::string& path, const ModelOptions& options = {});
  ModelInfo info() const;
  const std::shared_ptr<const Tokenizer>& tokenizer() const;

  struct Impl;
  std::shared_ptr<const Impl> impl() const { return impl_; }

 private:
  explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Sampling. temperature <= 0 is greedy (argmax, ties to the lowest id). Otherwise the chain
// is: logit bias -> penalties -> top-k -> temperature -> top-p -> min-p -> draw.
struct SamplerConfig {
  float temperature = 0.8f;
  int top_k = 40;       // <= 0: off
  float top_p = 0.95f;  // >= 1: off
  float min_p = 0.05f;  // <= 0: off (relative to the most likely token)
  float repeat_penalty =
      1.0f;  // 1: off (llama.cpp rule: divide positive logits, multiply negative)
  float frequency_penalty = 0.0f;  // subtract count * f
  float presence_penalty = 0.0f;   // subtract p once a token occurred
  int penalty_last_n = 64;         // window of recent tokens the penalties look at
  uint64_t seed = 0;
  std::vector<std::pair<Token, float>> logit_bias;  // added to the logit; -inf bans
};

// Speculative decoding (docs/api.md): cheap drafts of the next tokens, verified together in
// one forward pass of the model; rejected drafts are rolled back. The output is what plain
// decoding gives: the same tokens with greedy sampling, the same distribution otherwise (the
// standard acceptance rule). Works with grammars (drafts the grammar refuses are rejected),
// stop strings and cancel(). Stats::decode_passes / draft_tokens / accepted_tokens show
// how much it helped.
struct SpeculativeOptions {
  // A small model over the same vocabulary (same size and pieces, else invalid_argument) that
  // drafts the tokens with the session's sampler settings. It gets its own context.
  std::optional<Model> draft_model;
  // Prompt lookup, no second model: the draft is what followed the most recent earlier
  // occurrence (in the prompt or the text so far) of the last n tokens, n from lookup_ngram
  // down to 1. 0: off. At most 16; excludes draft_model.
  int lookup_ngram = 0;
  // Most tokens drafted per pass, 1..64. 7: the pass then holds 8 tokens, one register tile
  // of the x86 prefill GEMM (a 9th costs a tile of its own: docs/decisions.md 25).
  int n_draft = 7;
};

struct SessionOptions {
  int n_ctx = 0;      // 0: the model's trained length, capped at 4096
  int n_threads = 0;  // 0: physical cores
  int n_batch = 64;   // prompt tokens per forward pass
  // KV cache in q8_0 (34 bytes per 32 values, 53% of f16) instead of f16; needs head_dim a
  // multiple of 32. Logits move by the 8-bit rounding of K and V (docs/engine.md).
  bool kv_cache_q8_0 = false;
  SamplerConfig sampling;
  // When the context fills up during generation: false (default) ends the generation with
  // StopReason::context_full; true drops the oldest half of the tokens after the first
  // `n_keep` (e.g. the system prompt) and continues.
  bool context_shift = false;
  int n_keep = 0;
  SpeculativeOptions speculative;  // off unless a drafter is set
};

struct GenerateOptions {
  int max_tokens = 256;
  std::vector<std::string> stop;  // stop strings (matched across token boundaries)
  bool parse_special = false;     // plain prompts: recognise special-token text
  // Constrained decoding (nibble/grammar.h, docs/grammar.md): the text stays inside the
  // grammar's language, ends only where the grammar can end, and is steered to its end
  // within max_tokens. Generation ends by itself (end_of_generation) once the grammar allows
  // nothing more.
  std::optional<Grammar> grammar;
};

enum class StopReason {
  none,
  end_of_generation,
  stop_string,
  max_tokens,
  cancelled,
  callback,
  context_full
};
NIBBLE_API std::string_view stop_reason_name(StopReason r);

struct Stats {
  int prompt_tokens = 0;  // tokens of the prompt (whole rendered conversation for chat)
  int reused_tokens = 0;  // of those, already in the KV cache (not evaluated again)
  int generated_tokens = 0;
  double time_to_first_token_ms = 0;
  double prefill_tokens_per_s = 0;  // evaluated prompt tokens / prefill time
  double decode_tokens_per_s = 0;   // generated tokens after the first / their time
  StopReason stop_reason = StopReason::none;
  // Forward passes after the prompt (one per token in plain decoding, one per verification
  // with speculative decoding), tokens drafted and drafts accepted.
  int decode_passes = 0;
  int draft_tokens = 0;
  int accepted_tokens = 0;
};

// Receives text as it becomes complete UTF-8 (never half a character; held-back text that
// might start a stop string comes later or not at all). Return false to stop.
using TextCallback = std::function<bool(std::string_view text)>;

class NIBBLE_API Session {
 public:
  static Result<Session> create(const Model& model, const SessionOptions& options = {});
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  // Generate a completion of `prompt` (the whole text; BOS added as the vocabulary says).
  // Prefix reuse: the tokens it shares with what is already in the KV cache (an earlier
  // prompt and its completion) are not evaluated again. The sampler is re-seeded with
  // SamplerConfig::seed on every call, so the same prompt gives the same tokens.
  Result<Stats> generate(std::string_view prompt, const GenerateOptions& options,
                         const TextCallback& on_text);
  // Render the conversation with the model's chat template (or a built-in fallback) with the
  // generation prompt, and generate the assistant's answer.
  Result<Stats> chat(std::span<const ChatMessage> messages, const GenerateOptions& options,
                     const TextCallback& on_text);
  // Non-streaming convenience: the whole completion.
  Result<std::string> complete(std::string_view prompt, const GenerateOptions& options);

  // Pull-style: start(), then next() until it returns nullopt; stats() after.
  Status start(std::string_view prompt, const GenerateOptions& options);
  Status start_chat(std::span<const ChatMessage> messages, const GenerateOptions& options);
  Result<std::optional<std::string>> next();
  const Stats& stats() const;

  // Token ids behind the text most recently returned by next() (or passed to the callback of
  // generate()/chat()): the tokens sampled while producing it. Text held back because it might
  // start a stop string comes out with a later chunk, so the ids can run ahead of the text.
  std::span<const Token> chunk_tokens() const;

  // Stop the running call at the next layer/token boundary (any thread).
  void cancel();
  // Forget the conversation (the KV cache is reused).
  void reset();
  // Tokens in the KV cache.
  std::span<const Token> tokens() const;
  int n_ctx() const;
  uint64_t kv_bytes() const;
  uint64_t scratch_bytes() const;

  // --- Token level: drive the model yourself ------------------------------------------------
  // The model's tokenizer: text -> ids (add_special: BOS as the vocabulary says).
  Result<std::vector<Token>> tokenize(std::string_view text, bool add_special = true,
                                      bool parse_special = false) const;
  // Evaluate tokens at the positions after those in the KV cache (tokens().size() onwards);
  // afterwards logits() belongs to the last of them. context_full when they do not fit (nothing
  // evaluated), invalid_argument for an id outside the vocabulary, cancelled by cancel().
  Status eval(std::span<const Token> tokens);
  // Logits (n_vocab floats) of the last evaluated token; empty before the first evaluation.
  // Valid until the next call that evaluates, truncates or loads state.
  std::span<const float> logits() const;
  // Draw the next token from logits() with the session's sampler (SessionOptions::sampling;
  // penalties look at tokens()). Does not evaluate it. invalid_argument without logits.
  Result<Token> sample();
  // Keep the first n tokens of the KV cache (0 <= n <= tokens().size()); logits() is cleared.
  Status truncate(int n);

  // --- State: a prompt cache ---------------------------------------------------------------
  // The cached tokens, the last logits and the KV cache as bytes (format: docs/api.md). A
  // session of the same model file with the same n_ctx and KV type restores it and continues
  // exactly as the saved one would: the same logits, bit for bit. A state of another model,
  // n_ctx or KV type is refused with state_mismatch, a damaged one with invalid_argument;
  // a refused state leaves the session as it was.
  Result<std::vector<uint8_t>> save_state() const;
  Status load_state(std::span<const uint8_t> state);
  // The same through a file (written to PATH.tmp, then renamed).
  Status save_state_file(const std::string& path) const;
  Status load_state_file(const std::string& path);

  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nibble
