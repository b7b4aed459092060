// nibble — chat templates: renders tokenizer.chat_template (a Jinja template) for a list of
// messages, with an interpreter for the Jinja subset real templates use. Templates are
// untrusted: recursion depth, loop iterations and output size are bounded.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nibble/export.h"
#include "nibble/result.h"

namespace nibble {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", ...
  std::string content;
};

struct ChatTemplateOptions {
  bool add_generation_prompt = true;
  std::string bos_token;  // exposed to the template as bos_token / eos_token
  std::string eos_token;
  // Extra boolean variables for the template, e.g. {"enable_thinking", false} for Qwen3.
  std::vector<std::pair<std::string, bool>> flags;
  // Bounds for untrusted templates: bytes of output (and of any one string value), executed
  // steps (statements, loop iterations, filter/method calls).
  size_t max_output_bytes = size_t{16} << 20;
  size_t max_steps = 1'000'000;
};

class NIBBLE_API ChatTemplate {
 public:
  // Parse a Jinja template; template_error naming line and column on a syntax error.
  static Result<ChatTemplate> parse(std::string_view source);
  // Built-in fallbacks by family: "chatml", "llama-3", "llama-2", "gemma", "phi-3"
  // (invalid_argument for another name).
  static Result<ChatTemplate> builtin(std::string_view family);
  // The model's template, or the built-in family guessed from its special tokens when the file
  // has none (chatml when nothing fits).
  // family_hint may be a family name, an architecture ("llama", "qwen2", "gemma2", "phi3") or
  // text that contains the model's special tokens ("<|im_start|>", "<start_of_turn>", ...).
  static Result<ChatTemplate> for_tokenizer_template(std::string_view file_template,
                                                     std::string_view family_hint);
  // The family for_tokenizer_template picks for a hint when the file has no template.
  static std::string_view guess_family(std::string_view family_hint);
  // The Jinja source this template was parsed from.
  std::string_view source() const;

  Result<std::string> render(std::span<const ChatMessage> messages,
                             const ChatTemplateOptions& options) const;

  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();
  struct Impl;

 private:
  explicit ChatTemplate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nibble
