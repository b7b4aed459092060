// Public API: parse once, render many times (render is const and thread-safe: each call has its
// own interpreter). Internal failures are TemplateFailure exceptions; they stop here.
#include "nibble/chat_template.h"

#include <new>

#include "chat/ast.h"
#include "chat/builtin_templates.h"
#include "chat/interpreter.h"
#include "chat/lexer.h"

namespace nibble {

struct ChatTemplate::Impl {
  std::string source;
  std::vector<chat::NodePtr> body;
};

namespace {

Error template_error(std::string_view source, const chat::TemplateFailure& f, uint32_t fallback) {
  uint32_t off = f.offset != UINT32_MAX ? f.offset : fallback;
  return Error(ErrorCode::template_error,
               f.message + " (at " + chat::describe_position(source, off) + ")");
}

}  // namespace

ChatTemplate::ChatTemplate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

std::string_view ChatTemplate::source() const { return impl_ ? impl_->source : std::string_view(); }

Result<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  if (source.size() > (size_t{64} << 20)) {
    return Error(ErrorCode::template_error, "template source larger than 64 MiB");
  }
  try {
    auto impl = std::make_unique<Impl>();
    impl->source = std::string(source);
    impl->body = chat::parse(impl->source);
    return ChatTemplate(std::move(impl));
  } catch (const chat::TemplateFailure& f) {
    return template_error(source, f, 0);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::out_of_memory, "out of memory parsing the chat template");
  }
}

Result<ChatTemplate> ChatTemplate::builtin(std::string_view family) {
  for (const auto& t : chat::builtin_templates()) {
    if (t.family == family) return parse(t.source);
  }
  return Error(ErrorCode::invalid_argument,
               "unknown built-in chat template '" + std::string(family) +
                   "' (known: chatml, llama-3, llama-2, gemma, phi-3)");
}

std::string_view ChatTemplate::guess_family(std::string_view hint) {
  auto has = [&](std::string_view s) { return hint.find(s) != std::string_view::npos; };
  for (const auto& t : chat::builtin_templates()) {
    if (hint == t.family) return t.family;
  }
  if (has("<|im_start|>") || has("qwen")) return "chatml";
  if (has("<|start_header_id|>") || has("<|eot_id|>") || has("llama-3") || has("llama3")) {
    return "llama-3";
  }
  if (has("<start_of_turn>") || has("gemma")) return "gemma";
  if (has("<|end|>") || has("<|assistant|>") || has("phi3") || has("phi-3")) return "phi-3";
  if (has("[INST]") || has("llama")) return "llama-2";
  return "chatml";
}

Result<ChatTemplate> ChatTemplate::for_tokenizer_template(std::string_view file_template,
                                                          std::string_view family_hint) {
  if (!file_template.empty()) return parse(file_template);
  return builtin(guess_family(family_hint));
}

Result<std::string> ChatTemplate::render(std::span<const ChatMessage> messages,
                                         const ChatTemplateOptions& options) const {
  if (!impl_) return Error(ErrorCode::invalid_argument, "render on a moved-from ChatTemplate");
  chat::Limits limits;
  limits.max_output_bytes = options.max_output_bytes;
  limits.max_steps = options.max_steps;
  chat::Interpreter interp(limits, impl_->source);
  try {
    using chat::Value;
    chat::ValueList msgs;
    msgs.reserve(messages.size());
    for (const auto& m : messages) {
      msgs.push_back(Value::make_dict(
          {{"role", Value::string(m.role)}, {"content", Value::string(m.content)}}));
    }
    chat::ValueDict globals;
    globals.emplace_back("messages", Value::make_list(std::move(msgs)));
    globals.emplace_back("add_generation_prompt", Value::boolean(options.add_generation_prompt));
    globals.emplace_back("bos_token", Value::string(options.bos_token));
    globals.emplace_back("eos_token", Value::string(options.eos_token));
    for (const auto& [name, value] : options.flags) {
      globals.emplace_back(name, Value::boolean(value));
    }
    return interp.run(impl_->body, std::move(globals));
  } catch (const chat::TemplateFailure& f) {
    return template_error(impl_->source, f, interp.current_offset());
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::out_of_memory, "out of memory rendering the chat template");
  }
}

}  // namespace nibble
