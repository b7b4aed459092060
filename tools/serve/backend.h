// The model side of `nibble serve`, behind an interface so that the HTTP layer can be tested
// and fuzzed without a model (fuzz/fuzz_serve_request.cpp gives it a fake one).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol.h"

namespace nibble {
class Model;
}

namespace nibble::serve {

// What the output must parse as.
struct Constraint {
  enum class Kind { none, json_object, json_schema } kind = Kind::none;
  json schema;  // json_schema
};

// A constraint compiled by the backend (for the model backend: a grammar), shared by the
// request's generation.
struct CompiledConstraint {
  virtual ~CompiledConstraint() = default;
};

struct GenerateRequest {
  std::vector<int32_t> prompt;  // token ids
  GenerationParams params;
  std::shared_ptr<const CompiledConstraint> constraint;  // null: free text
};

struct GenerateResult {
  std::string text;
  std::string finish_reason;  // "stop", "length"; "cancelled" when the sink refused a piece
  Usage usage;
};

// Receives text as it is generated (complete UTF-8, stop strings removed). Returning false
// (the client is gone) ends the generation at once. An empty piece asks only whether to go
// on (between parts of a long prompt); a streaming sink answers it with an SSE comment, whose
// failed write shows a client gone.
using PieceSink = std::function<bool(std::string_view piece)>;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string model_id() const = 0;
  virtual int n_ctx() const = 0;
  virtual int n_slots() const = 0;
  // The conversation rendered with the model's chat template (generation prompt added) and
  // tokenized; a template that cannot render it is a 400.
  virtual std::variant<std::vector<int32_t>, ApiError> chat_prompt(
      const std::vector<Message>& messages) = 0;
  virtual std::variant<std::vector<int32_t>, ApiError> text_prompt(const std::string& prompt) = 0;
  // Compiles a constraint before a slot is taken; one the backend cannot apply (a schema
  // outside the supported subset) is a 400 naming what was wrong. Kind::none gives null.
  virtual std::variant<std::shared_ptr<const CompiledConstraint>, ApiError> compile(
      const Constraint& c) = 0;
  // Checks what only the model can (logit_bias ids inside the vocabulary), before a slot is
  // taken.
  virtual std::optional<ApiError> check_params(const GenerationParams& params) const = 0;
  // Tokens of `prompt` already in slot's KV cache (called only while the slot is free).
  virtual size_t cached_prefix(int slot, std::span<const int32_t> prompt) const = 0;
  // Runs one generation on the slot (the caller holds its lease).
  virtual std::variant<GenerateResult, ApiError> generate(int slot, const GenerateRequest& req,
                                                          const PieceSink& sink) = 0;
};

struct ModelBackendOptions {
  int n_slots = 1;
  int n_ctx = 0;       // per slot; 0: the model's trained length capped at 4096
  int n_threads = 0;   // per slot; 0: physical cores / slots
  int n_batch = 64;
  std::string model_id;  // name in /v1/models; empty: the file name
};

// The real backend: one nibble::Session per slot on a shared Model.
std::variant<std::unique_ptr<Backend>, std::string> make_model_backend(
    const Model& model, const ModelBackendOptions& options);

}  // namespace nibble::serve
